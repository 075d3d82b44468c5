"""Overdue bedside checks turned into tasks for the nurses of the care team."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from accounts.models import CareTeam
from monitoring.models import Infusion

from .alert import Alert


class CheckTaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    REASON_RECORDED = "reason_recorded", "Reason recorded"


class CheckTask(models.Model):
    """An overdue assessment turned into a task for the nurses of the care team."""

    infusion = models.ForeignKey(Infusion, on_delete=models.CASCADE, related_name="check_tasks")
    care_team = models.ForeignKey(CareTeam, on_delete=models.CASCADE, related_name="+")
    check_type = models.CharField(max_length=8)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=CheckTaskStatus.choices, default=CheckTaskStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["infusion", "check_type", "due_at"], name="uniq_check_task")
        ]

    def __str__(self) -> str:
        return f"{self.check_type} due {self.due_at:%Y-%m-%d %H:%M} ({self.status})"
