"""Monitoring URLs: the nurse's tablet screens (``tablet_urls``)."""

from django.urls import include, path

app_name = "monitoring"

urlpatterns = [
    path("", include("monitoring.tablet_urls")),
]
