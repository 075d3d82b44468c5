"""A URLconf whose one view fails with patient identifiers in the exception (for the 500 test)."""

from django.urls import include, path

from monitoring.models import Patient


def boom(request, patient_id: int):
    patient = Patient.objects.get(pk=patient_id)
    raise RuntimeError(f"failed for {patient.family_name} {patient.mrn} born {patient.date_of_birth}")


urlpatterns = [
    path("boom/<int:patient_id>/", boom, name="boom"),
    path("", include("config.urls")),
]
