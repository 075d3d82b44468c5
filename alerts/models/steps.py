"""Escalation steps (the timers, rows with a ``due_at`` a beat tick claims) and the notifications they
send, each with an idempotency key protected by a unique constraint."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from .alert import Alert
from .vocabulary import Channel, Urgency


class StepKind(models.TextChoices):
    PAGE = "page", "Page"
    FINAL = "final", "Notify leads"
    REMINDER = "reminder", "Acknowledgement reminder"
    UNACK = "unack", "Un-acknowledge and escalate"


class StepStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"


class EscalationStep(models.Model):
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="steps")
    generation = models.PositiveIntegerField()
    sequence = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=StepKind.choices, default=StepKind.PAGE)
    targets = models.JSONField(default=list, help_text="Snapshot entries: target, role, user_id, channels")
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=StepStatus.choices, default=StepStatus.PENDING)
    claim_token = models.UUIDField(null=True, blank=True, help_text="Fencing token of the current sender")
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["status", "due_at"], name="step_status_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "generation", "sequence"], name="uniq_step_alert_generation_sequence"
            )
        ]

    def __str__(self) -> str:
        return f"Step {self.sequence} ({self.kind}) of alert {self.alert_id}, due {self.due_at:%H:%M:%S}"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    step = models.ForeignKey(
        EscalationStep, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    alarm = models.ForeignKey(
        "OperationsAlarm", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    idempotency_key = models.CharField(max_length=120, unique=True)
    status = models.CharField(
        max_length=8, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    message = models.CharField(max_length=300, help_text="What was sent: no patient data")
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "channel", "read_at"], name="notif_inbox")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to user {self.recipient_id} ({self.status})"


def new_token() -> uuid.UUID:
    return uuid.uuid4()
