"""The FHIR API (``/fhir/``): names start with ``api-`` like the REST API's (401 without credentials)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.ImportView.as_view(), name="api-fhir-import"),
    path("metadata", views.MetadataView.as_view(), name="api-fhir-metadata"),
    path("Patient/<int:patient_id>/$everything", views.EverythingView.as_view(), name="api-fhir-everything"),
    path("$export", views.CohortExportView.as_view(), name="api-fhir-export"),
]
