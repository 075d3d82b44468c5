from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("", views.access_log, name="access_log"),
    path("patients/<int:patient_id>/", views.patient_audit, name="patient"),
    path("observations/<int:observation_id>/", views.observation_audit, name="observation"),
]
