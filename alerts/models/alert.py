"""Alerts and their timeline: the status an alert is in, who acknowledged or resolved it, and every
event that happened to it."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import CareTeam
from monitoring.models import GradeEvaluation, Infusion, Patient

from .vocabulary import GRADED_SYNDROMES, Syndrome, Urgency


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


ACTIVE_STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


class AlertQuerySet(models.QuerySet):
    def active(self) -> AlertQuerySet:
        return self.filter(status__in=ACTIVE_STATUSES)

    def visible_to(self, user) -> AlertQuerySet:
        return self.filter(patient__in=Patient.objects.visible_to(user))


class Alert(models.Model):
    infusion = models.ForeignKey(Infusion, on_delete=models.PROTECT, related_name="alerts")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="alerts")
    care_team = models.ForeignKey(CareTeam, on_delete=models.PROTECT, related_name="alerts")
    syndrome = models.CharField(max_length=20, choices=Syndrome.choices)
    grade = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Highest grade this episode")
    current_grade = models.PositiveSmallIntegerField(null=True, blank=True)
    urgency = models.CharField(max_length=10, choices=Urgency.choices)
    status = models.CharField(max_length=14, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    evaluation = models.ForeignKey(
        GradeEvaluation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
        help_text="Latest evaluation behind this alert",
    )
    drivers = models.JSONField(default=list, blank=True)
    suggestions = models.JSONField(default=list, blank=True)
    rule_set = models.CharField(max_length=60, blank=True)
    summary = models.CharField(max_length=200, blank=True)
    policy_snapshot = models.JSONField(default=dict)
    generation = models.PositiveIntegerField(default=1, help_text="Bumped at each re-page (upgrade, un-ack)")
    due_at = models.DateTimeField(
        null=True, blank=True, help_text="Overdue-check alerts: when the check was due"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    first_notified_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_action_at = models.DateTimeField(null=True, blank=True, help_text="Last note or order")
    escalation_stopped = models.BooleanField(
        default=False,
        help_text="A correction withdrew what raised it: no more pages, open until a physician resolves it",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["care_team", "status"], name="alert_team_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["infusion", "syndrome"],
                condition=Q(status__in=["open", "acknowledged"]),
                name="one_active_alert_per_infusion_syndrome",
            ),
        ]

    def __str__(self) -> str:
        return f"Alert #{self.pk}: {self.title}"

    @property
    def title(self) -> str:
        label = Syndrome(self.syndrome).label
        if self.syndrome in GRADED_SYNDROMES and self.grade is not None:
            return f"{label} grade {self.grade}"
        return label

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def time_to_first_notification(self) -> timedelta | None:
        return self.first_notified_at - self.opened_at if self.first_notified_at else None

    @property
    def time_to_acknowledge(self) -> timedelta | None:
        return self.acknowledged_at - self.opened_at if self.acknowledged_at else None


class EventKind(models.TextChoices):
    OPENED = "opened", "Opened"
    UPGRADED = "upgraded", "Upgraded"
    UPDATED = "updated", "New evaluation"
    NOTIFIED = "notified", "Notified"
    NOTIFY_FAILED = "notify_failed", "Notification failed"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    NOTE = "note", "Note"
    REMINDER = "reminder", "Reminder"
    UNACKNOWLEDGED = "unacknowledged", "Un-acknowledged"
    ESCALATED = "escalated", "Escalated"
    RESOLVED = "resolved", "Resolved"
    NO_RECIPIENT = "no_recipient", "Nobody to notify"
    REVISED = "revised", "Revised after a correction"
    COURSE_CLOSED = "course_closed", "Closed with the course"


class AlertEvent(models.Model):
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M:%S}"
