"""The nurse's tablet screens.  Every URL about one patient carries ``patient_id`` (audit log)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.my_patients, name="my_patients"),
    path("patients/<int:patient_id>/", views.patient_detail, name="patient_detail"),
    path("patients/<int:patient_id>/grade/", views.grade_panel, name="grade_panel"),
    path("patients/<int:patient_id>/record/<slug:form_key>/", views.record, name="record"),
    path("patients/<int:patient_id>/observations/<int:observation_id>/amend/", views.amend, name="amend"),
    path(
        "patients/<int:patient_id>/observations/<int:observation_id>/entered-in-error/",
        views.entered_in_error,
        name="entered_in_error",
    ),
    path(
        "patients/<int:patient_id>/observations/<int:observation_id>/attribute/",
        views.attribute,
        name="attribute",
    ),
    path(
        "patients/<int:patient_id>/checks/<slug:check_type>/missed/",
        views.record_missed_check,
        name="record_missed_check",
    ),
]
