"""Escalation policies: per care team, the steps (who, by which channels, how long to wait); a copy is
taken onto each alert when it opens."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from accounts.models import CareTeam, Role

from .vocabulary import Target


class EscalationPolicy(models.Model):
    team = models.OneToOneField(CareTeam, on_delete=models.CASCADE, related_name="escalation_policy")
    name = models.CharField(max_length=120, default="Ward escalation")
    repeat_count = models.PositiveSmallIntegerField(
        default=1, validators=[MaxValueValidator(5)], help_text="How many times the steps repeat"
    )
    reminder_minutes = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(1)],
        help_text="Acknowledged without a note or order for this long: remind, then un-acknowledge",
    )
    final_wait_minutes = models.PositiveSmallIntegerField(
        default=5,
        help_text="Wait after the last repeat before notifying attending, charge nurse, coordinator",
    )
    final_channels = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.team})"


class EscalationPolicyStep(models.Model):
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(default=0)
    target = models.CharField(max_length=20, choices=Target.choices, default=Target.ONCALL_PRIMARY)
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channels = models.JSONField(default=list)
    wait_minutes = models.PositiveSmallIntegerField(
        default=5, help_text="Wait after this step before the next one"
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"Step {self.position + 1}: {self.get_target_display()}"
