"""Monitoring URLs: the nurse's tablet screens (``tablet_urls``) and the coordinator's course screens
(``course_urls``)."""

from django.urls import include, path

app_name = "monitoring"

urlpatterns = [
    path("", include("monitoring.tablet_urls")),
    path("courses/", include("monitoring.course_urls")),
]
