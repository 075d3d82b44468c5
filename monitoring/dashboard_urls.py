"""Dashboard URLs (included under the ``monitoring`` namespace)."""

from django.urls import path

from . import dashboard_views

urlpatterns = [
    path("census/", dashboard_views.census, name="census"),
    path("census/export.csv", dashboard_views.census_export, name="census_export"),
    path("patients/<int:patient_id>/timeline/", dashboard_views.timeline, name="timeline"),
    path("analytics/", dashboard_views.analytics, name="analytics"),
]
