"""Dashboard URLs: the census, its CSV export, a patient's timeline and the cohort analytics."""

from django.urls import path

from . import views

app_name = "dashboards"

urlpatterns = [
    path("census/", views.census, name="census"),
    path("census/export.csv", views.census_export, name="census_export"),
    path("patients/<int:patient_id>/timeline/", views.timeline, name="timeline"),
    path("analytics/", views.analytics, name="analytics"),
]
