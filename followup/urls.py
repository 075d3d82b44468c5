"""Follow-up screens. Every URL about one patient carries ``patient_id`` (audit log)."""

from django.contrib.auth.decorators import login_required
from django.urls import path
from django.views.generic import RedirectView

from . import outcomes_views, views

app_name = "followup"

urlpatterns = [
    # /followup/ itself is the follow-up list (the navigation's "Follow-up")
    path(
        "",
        login_required(RedirectView.as_view(pattern_name="followup:tasks", permanent=False)),
        name="home",
    ),
    path("patients/<int:patient_id>/", views.patient_followup, name="patient"),
    path("patients/<int:patient_id>/courses/<int:infusion_id>/visit/", views.visit_record, name="visit"),
    path(
        "patients/<int:patient_id>/courses/<int:infusion_id>/licats/<int:observation_id>/",
        views.licats_mark,
        name="licats",
    ),
    path("patients/<int:patient_id>/planned-course/", views.planned_course, name="planned_course"),
    path("patients/<int:patient_id>/planned-course/start/", views.planned_course_start, name="course_start"),
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/<int:finding_id>/done/", views.task_done, name="task_done"),
    path("outcomes/", outcomes_views.outcomes, name="outcomes"),
]
