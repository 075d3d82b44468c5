"""Users, care teams and role memberships.

Every patient belongs to one care team; what a user may see and do follows from their
memberships (``Membership.role``).  Access checks use :meth:`User.team_ids` and
:meth:`User.has_role` so that one place decides.
"""

from __future__ import annotations

from zoneinfo import available_timezones

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models


class Role(models.TextChoices):
    NURSE = "nurse", "Nurse"
    PHYSICIAN = "physician", "Physician"
    COORDINATOR = "coordinator", "Coordinator"
    ADMIN = "admin", "Administrator"


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not a known IANA time zone (e.g. Europe/Berlin)")


class User(AbstractUser):
    """A member of staff.  ``phone`` and ``pager`` are contact points for escalation channels."""

    display_name = models.CharField(max_length=120, blank=True)
    phone = models.CharField(max_length=32, blank=True, help_text="E.164, for SMS escalation")
    pager = models.CharField(max_length=64, blank=True, help_text="Pager id for the pager gateway")

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    def team_ids(self, *roles: str) -> list[int]:
        """Ids of the care teams where this user holds any of ``roles`` (any role if none given)."""
        if not self.is_authenticated or not self.is_active:
            return []
        qs = self.memberships.all()
        if roles:
            qs = qs.filter(role__in=roles)
        return list(qs.values_list("team_id", flat=True).distinct())

    def has_role(self, role: str, team_id: int | None = None) -> bool:
        qs = self.memberships.filter(role=role)
        if team_id is not None:
            qs = qs.filter(team_id=team_id)
        return qs.exists()

    def roles(self) -> set[str]:
        return set(self.memberships.values_list("role", flat=True))


class CareTeam(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in a care team.  ``is_lead`` marks the charge nurse / attending physician."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(CareTeam, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    is_lead = models.BooleanField(
        default=False, help_text="Charge nurse (for nurses) or attending (for physicians)"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "team", "role"], name="uniq_membership_user_team_role")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} in {self.team}"
