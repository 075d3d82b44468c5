"""The FHIR API (``/fhir/``): names start with ``api-`` like the REST API's (401 without credentials)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.ImportView.as_view(), name="api-fhir-import"),
]
