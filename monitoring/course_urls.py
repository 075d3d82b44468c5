"""The coordinator's course screens (``monitoring.course_views``), under ``/courses/``."""

from django.urls import path

from . import course_views

urlpatterns = [
    path("", course_views.course_list, name="courses"),
    path("patients/new/", course_views.patient_register, name="patient_register"),
    path("patients/<int:patient_id>/infusion/start/", course_views.infusion_start, name="infusion_start"),
    path("patients/<int:patient_id>/infusion/close/", course_views.infusion_close, name="infusion_close"),
]
