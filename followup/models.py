"""Follow-up after the first month: a course is a ``monitoring.Infusion`` (VISIT-1: several per
patient; every observation and result belongs to one), its stored follow-up results, the findings
they raised (alerts and coordinator tasks), and a planned course's eligibility work-up and washout.

Follow-up observations are ``monitoring.Observation`` rows of the follow-up kinds (and labs and
events), stored by ``monitoring.services`` through the clinical core's validation like every other.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import CareTeam
from alerts.models import Alert
from monitoring.models import Infusion, Observation, Patient, Product


class FollowupEvaluationQuerySet(models.QuerySet):
    def visible_to(self, user) -> FollowupEvaluationQuerySet:
        return self.filter(infusion__patient__in=Patient.objects.visible_to(user))


class FollowupEvaluation(models.Model):
    """The clinical core's follow-up result of one course after an observation (CASE-8, VISIT-6)."""

    infusion = models.ForeignKey(Infusion, on_delete=models.PROTECT, related_name="followup_evaluations")
    triggered_by = models.ForeignKey(
        Observation, null=True, blank=True, on_delete=models.PROTECT, related_name="followup_evaluations"
    )
    evaluated_at = models.DateTimeField(default=timezone.now)
    rule_set = models.CharField(max_length=60)
    visit_template_version = models.CharField(max_length=40)
    indication_group = models.CharField(max_length=32)
    result = models.JSONField(default=dict, help_text="FollowupResult.to_dict() of the clinical core")
    observation_count = models.PositiveIntegerField(default=0)
    findings_processed_at = models.DateTimeField(null=True, blank=True)

    objects = FollowupEvaluationQuerySet.as_manager()

    class Meta:
        ordering = ["-evaluated_at", "-id"]
        get_latest_by = ["evaluated_at", "id"]
        indexes = [models.Index(fields=["infusion", "-evaluated_at"], name="fu_eval_infusion_latest")]

    def __str__(self) -> str:
        return f"Follow-up of infusion {self.infusion_id} at {self.evaluated_at:%Y-%m-%d %H:%M}"


class FindingKind(models.TextChoices):
    RELAPSE = "relapse", "Flare or relapse"
    SEROLOGICAL_REACTIVATION = "serological_reactivation", "Serological re-activation"
    B_CELL_APLASIA_LOST = "b_cell_aplasia_lost", "Loss of B-cell aplasia"
    B_CELL_RECONSTITUTION = "b_cell_reconstitution", "B-cell reconstitution"
    PROPHYLAXIS_STOP_CRITERIA_MET = "prophylaxis_stop_criteria_met", "Prophylaxis stop criteria met"
    PROPHYLAXIS_STOPPED_EARLY = "prophylaxis_stopped_early", "Prophylaxis stopped early"
    VISIT_OVERDUE = "visit_overdue", "Follow-up visit overdue"
    IGG_CHECK_DUE = "igg_check_due", "IgG check due"
    CMV_PCR_DUE = "cmv_pcr_due", "CMV PCR due"
    REVACCINATION_DUE = "revaccination_due", "Revaccination due"


class TaskStatus(models.TextChoices):
    NONE = "", "Not a task"
    OPEN = "open", "Open"
    DONE = "done", "Done"


class Finding(models.Model):
    """A follow-up finding of the clinical core (ALERT-13), kept once per course and key so that a
    re-evaluation never raises it twice; with its alert (urgent / routine) or its coordinator task."""

    infusion = models.ForeignKey(Infusion, on_delete=models.PROTECT, related_name="followup_findings")
    care_team = models.ForeignKey(CareTeam, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=120)
    kind = models.CharField(max_length=32, choices=FindingKind.choices)
    urgency = models.CharField(max_length=10)
    recipient = models.CharField(max_length=24)
    subject = models.CharField(max_length=40, blank=True, help_text="The visit code of an overdue visit")
    text = models.CharField(max_length=500)
    t_hours = models.FloatField(help_text="When it occurred, hours after this course's infusion")
    drivers = models.JSONField(default=list)
    evaluation = models.ForeignKey(FollowupEvaluation, null=True, blank=True, on_delete=models.SET_NULL)
    first_seen_at = models.DateTimeField(default=timezone.now)
    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    task_status = models.CharField(max_length=8, choices=TaskStatus.choices, blank=True, default="")
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-first_seen_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["infusion", "key"], name="one_finding_per_course_key")]
        indexes = [
            models.Index(fields=["care_team", "task_status"], name="fu_finding_team_task"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} (infusion {self.infusion_id}): {self.text[:60]}"

    @property
    def due_at(self) -> datetime:
        """When it fell due (an overdue visit: the close of its window), as a time a person reads."""
        return self.infusion.infused_at + timedelta(hours=self.t_hours)


class PlannedCourseStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    INFUSED = "infused", "Infused"
    CANCELLED = "cancelled", "Cancelled"


class DoseUnit(models.TextChoices):
    CELLS_E6_PER_KG = "e6_per_kg", "× 10⁶ CAR-T cells/kg"
    CELLS_E6 = "e6_total", "× 10⁶ CAR-T cells (total)"


class PlannedCourseQuerySet(models.QuerySet):
    def visible_to(self, user) -> PlannedCourseQuerySet:
        return self.filter(patient__in=Patient.objects.visible_to(user))


class PlannedCourse(models.Model):
    """A CAR-T course being planned: its eligibility work-up (ELIG-1, ELIG-2, ELIG-4) and the drugs
    last given for the pre-leukapheresis washout checklist (ELIG-3)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="planned_courses")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    care_team = models.ForeignKey(CareTeam, on_delete=models.PROTECT, related_name="+")
    planned_leukapheresis_at = models.DateTimeField(null=True, blank=True)
    workup = models.JSONField(default=dict, blank=True, help_text="Eligibility items (carttrack ELIG-1…4)")
    last_given = models.JSONField(
        default=dict, blank=True, help_text="drug -> {at: ISO time of the last dose, mg_per_day}"
    )
    status = models.CharField(
        max_length=10, choices=PlannedCourseStatus.choices, default=PlannedCourseStatus.PLANNED
    )
    infusion = models.OneToOneField(
        Infusion, null=True, blank=True, on_delete=models.PROTECT, related_name="planned_course"
    )
    # Set once, when the planned course becomes its infusion (ELIG-5, ``followup.course_start``).
    dose = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    dose_unit = models.CharField(max_length=12, choices=DoseUnit.choices, blank=True)
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The treating physician who decided to infuse although items were missing",
    )
    override_reason = models.TextField(blank=True)
    override_missing = models.JSONField(
        default=list, blank=True, help_text="What was still missing when the override was recorded"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PlannedCourseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=Q(status="planned"), name="one_planned_course_per_patient"
            )
        ]

    def __str__(self) -> str:
        return f"Planned course of {self.patient}"
