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


class ApiScope(models.TextChoices):
    """What an integration token may do.  Scopes narrow a token; the care team bounds it."""

    PATIENTS_READ = "patients:read", "Read patients and infusions"
    OBSERVATIONS_READ = "observations:read", "Read observations and grades"
    OBSERVATIONS_WRITE = "observations:write", "Record observations"
    ALERTS_READ = "alerts:read", "Read alerts"
    ALERTS_WRITE = "alerts:write", "Acknowledge and resolve alerts"


def validate_scopes(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("Give at least one scope as a list.")
    unknown = sorted(set(value) - set(ApiScope.values))
    if unknown:
        raise ValidationError(f"Unknown scope(s): {', '.join(unknown)}; known: {', '.join(ApiScope.values)}")


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, now=None):
        from django.utils import timezone

        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """An integration's bearer token (device gateway, EHR interface).

    Only a SHA-256 hash of the key is stored; the key is shown once when issued
    (``accounts.tokens.issue_api_token``).  The token acts as ``user`` (a service account whose
    memberships decide which patients it can see) and is further limited to ``team`` and ``scopes``.
    """

    name = models.CharField(max_length=120, help_text="What uses it, e.g. 'Ward 7 monitor gateway'")
    prefix = models.CharField(max_length=12, db_index=True, help_text="Start of the key, to recognise it")
    key_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    team = models.ForeignKey(CareTeam, on_delete=models.PROTECT, related_name="api_tokens")
    scopes = models.JSONField(default=list, validators=[validate_scopes])
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now=None) -> bool:
        from django.utils import timezone

        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
