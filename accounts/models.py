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
from django.utils import timezone


class Role(models.TextChoices):
    NURSE = "nurse", "Nurse"
    PHYSICIAN = "physician", "Physician"
    COORDINATOR = "coordinator", "Coordinator"
    ADMIN = "admin", "Administrator"


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not a known IANA time zone (e.g. Europe/Berlin)")


def _roles_by_team(memberships) -> dict[int, frozenset[str]]:
    """``(team id, role)`` pairs as care team id → the roles held there."""
    roles: dict[int, set[str]] = {}
    for team_id, role in memberships:
        roles.setdefault(team_id, set()).add(role)
    return {team_id: frozenset(r) for team_id, r in roles.items()}


class User(AbstractUser):
    """A member of staff.  ``phone`` and ``pager`` are contact points for escalation channels."""

    display_name = models.CharField(max_length=120, blank=True)
    phone = models.CharField(max_length=32, blank=True, help_text="E.164, for SMS escalation")
    pager = models.CharField(max_length=64, blank=True, help_text="Pager id for the pager gateway")

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    #: Set on the user of a request (``accounts.middleware.RequestRolesMiddleware``, API token
    #: authentication): its memberships are then read once per request instead of once per check.
    ROLES_CACHE_ATTR = "_team_roles_cache"

    def remember_roles_for_request(self) -> None:
        """Let this instance (the user of one request) keep its memberships after the first read."""
        self.__dict__.setdefault(self.ROLES_CACHE_ATTR, None)

    def set_team_roles_for_request(self, memberships: list[tuple[int, str]]) -> None:
        """Keep ``(team id, role)`` pairs read with this user (API token authentication reads them in
        the same statement as the token) as this request's roles."""
        self.__dict__[self.ROLES_CACHE_ATTR] = _roles_by_team(memberships if self.is_active else [])

    def team_roles(self) -> dict[int, frozenset[str]]:
        """Care team id → the roles this user holds there (one query; cached on a request's user)."""
        cached = self.__dict__.get(self.ROLES_CACHE_ATTR)
        if cached is not None:
            return cached
        pairs = []
        if self.is_authenticated and self.is_active and self.pk is not None:
            pairs = list(Membership.objects.filter(user_id=self.pk).values_list("team_id", "role"))
        result = _roles_by_team(pairs)
        if self.ROLES_CACHE_ATTR in self.__dict__:
            self.__dict__[self.ROLES_CACHE_ATTR] = result
        return result

    def team_ids(self, *roles: str) -> list[int]:
        """Ids of the care teams where this user holds any of ``roles`` (any role if none given)."""
        if not self.is_authenticated or not self.is_active:
            return []
        wanted = set(roles)
        return sorted(t for t, held in self.team_roles().items() if not wanted or held & wanted)

    def has_role(self, role: str, team_id: int | None = None) -> bool:
        return any(role in held for t, held in self.team_roles().items() if team_id is None or t == team_id)

    def roles(self) -> set[str]:
        return set().union(*self.team_roles().values())


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
    FHIR_WRITE = "fhir:write", "Import FHIR bundles (observations, administrations)"
    FHIR_READ = "fhir:read", "Export patients' courses as FHIR"


def validate_scopes(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("Give at least one scope as a list.")
    unknown = sorted(set(value) - set(ApiScope.values))
    if unknown:
        raise ValidationError(f"Unknown scope(s): {', '.join(unknown)}; known: {', '.join(ApiScope.values)}")


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)


class ApiToken(models.Model):
    """A bearer token: personal (a person's script) or an integration's (device gateway, EHR interface).

    Only a SHA-256 hash of the key is stored; the key is shown once when issued
    (``accounts.tokens.issue_api_token``).  The token acts as ``user`` (a person, or a service account
    whose memberships decide which patients it can see) and is further limited to ``team`` and
    ``scopes``.  Every token expires (at most a year after issue).
    """

    name = models.CharField(max_length=120, help_text="What uses it, e.g. 'Ward 7 monitor gateway'")
    prefix = models.CharField(max_length=12, db_index=True, help_text="Start of the key, to recognise it")
    key_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    team = models.ForeignKey(CareTeam, on_delete=models.PROTECT, related_name="api_tokens")
    scopes = models.JSONField(default=list, validators=[validate_scopes])
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(help_text="At most 365 days after issue")
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now
