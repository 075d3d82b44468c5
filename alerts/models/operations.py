"""Operations: alarms for the people running the service, stretches in which alerting was late, and
the auditor's heartbeat."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import CareTeam


class AlarmKind(models.TextChoices):
    ONCALL_GAP = "oncall_gap", "Nobody on call"
    OVERDUE_STEP = "overdue_step", "Escalation step overdue"
    STUCK_STEP = "stuck_step", "Escalation step stuck in sending"
    ALERT_WITHOUT_STEPS = "alert_idle", "Open alert with nothing pending"
    DELIVERY_FAILED = "delivery_failed", "Notification delivery failed"
    NO_RECIPIENT = "no_recipient", "Escalation step found nobody to notify"
    UNPROCESSED_EVALUATION = "unprocessed_eval", "Grade evaluation missed by the alert task"
    ALERTING_OUTAGE = "alerting_outage", "Alerting was delayed (worker outage)"


class OperationsAlarm(models.Model):
    kind = models.CharField(max_length=20, choices=AlarmKind.choices)
    team = models.ForeignKey(CareTeam, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=120, help_text="Deduplication key while the alarm is open")
    message = models.CharField(max_length=300)
    raised_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    occurrences = models.PositiveIntegerField(default=1)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=Q(cleared_at__isnull=True), name="one_open_alarm_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message}"


class AlertingOutage(models.Model):
    """A stretch of time in which alerting was late (``alerts.outage``): opened by whichever process
    first sees a late step or grade (the web process's health check and banner poll, or the auditor),
    closed by the auditor once the worker is back and nothing is late, with an operations alarm."""

    started_at = models.DateTimeField(help_text="When the oldest late item became due")
    detected_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    worst = models.JSONField(default=dict, help_text="What was late and by how much, at its worst")
    alarm = models.ForeignKey(
        OperationsAlarm, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: "open" while the outage lasts, NULL once ended: the unique index allows one open outage.
    open_marker = models.CharField(max_length=4, null=True, blank=True, default="open", unique=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Alerting delayed from {self.started_at:%Y-%m-%d %H:%M:%S} UTC"


class AuditorHeartbeat(models.Model):
    """One row (pk=1): when the escalation auditor last completed, and what it found."""

    last_run_at = models.DateTimeField()
    findings = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"Auditor ran at {self.last_run_at:%Y-%m-%d %H:%M:%S}"
