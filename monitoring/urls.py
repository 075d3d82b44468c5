"""Monitoring URLs: the tablet screens (``tablet_urls``) and the dashboards (``dashboard_urls``)."""

from django.urls import include, path

app_name = "monitoring"

urlpatterns = [
    path("", include("monitoring.tablet_urls")),
    path("", include("monitoring.dashboard_urls")),
]
