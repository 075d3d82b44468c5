"""Dashboard URLs: the census, its CSV export, a patient's timeline, the cohort analytics and the
shift handover."""

from django.urls import path

from . import handover_views, views

app_name = "dashboards"

urlpatterns = [
    path("census/", views.census, name="census"),
    path("census/export.csv", views.census_export, name="census_export"),
    path("patients/<int:patient_id>/timeline/", views.timeline, name="timeline"),
    path("analytics/", views.analytics, name="analytics"),
    path("handover/", handover_views.handover_index, name="handover"),
    path("handover/<int:team_id>/", handover_views.handover, name="handover_team"),
]
