"""On-call schedules of a care team: the members' rota by slot, and overrides for a stretch of time."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import CareTeam, Role, validate_time_zone


class Slot(models.TextChoices):
    PRIMARY = "primary", "Primary"
    BACKUP = "backup", "Backup"


class OnCallSchedule(models.Model):
    """A rotation of people for one on-call slot of a care team, in the team's local wall time.

    Handover happens every ``shift_days`` days at ``handover_time`` local time (DST-safe: the
    wall-clock time is kept).  Overrides (and swaps, which are two overrides) win over the rotation.
    """

    team = models.ForeignKey(CareTeam, on_delete=models.CASCADE, related_name="oncall_schedules")
    slot = models.CharField(max_length=10, choices=Slot.choices, default=Slot.PRIMARY)
    role = models.CharField(
        max_length=20,
        choices=Role.choices,
        default=Role.PHYSICIAN,
        help_text="The role whoever is on call must hold in the team (a physician acknowledges alerts)",
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="Empty: the care team's time zone",
    )
    start_date = models.DateField(help_text="Local date of the first handover")
    handover_time = models.TimeField(default="08:00")
    shift_days = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "slot"], name="one_schedule_per_team_slot")]

    def __str__(self) -> str:
        return f"{self.team} — {self.get_slot_display()} on-call"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone or self.team.time_zone)

    def shift_bounds(self, index: int) -> tuple[datetime, datetime]:
        """Start and end (aware) of shift number ``index`` counted from ``start_date``."""
        tz = self.tz
        start_day = self.start_date + timedelta(days=index * self.shift_days)
        end_day = start_day + timedelta(days=self.shift_days)
        return (
            datetime.combine(start_day, self.handover_time, tzinfo=tz),
            datetime.combine(end_day, self.handover_time, tzinfo=tz),
        )

    def shift_index_at(self, moment: datetime) -> int | None:
        local = moment.astimezone(self.tz)
        day = local.date()
        if local.time() < self.handover_time:
            day -= timedelta(days=1)
        days = (day - self.start_date).days
        if days < 0:
            return None
        return days // self.shift_days

    def check_can_hold(self, user) -> None:
        """Only a user who holds this slot's role in the team may be on call for it (rotation member,
        override, swap): an urgent page to someone who cannot acknowledge reaches nobody who can act."""
        if user is None or not user.memberships.filter(team_id=self.team_id, role=self.role).exists():
            raise ValidationError(
                {
                    "user": [
                        f"{user} cannot be on call for {self}: only a {self.get_role_display().lower()} "
                        f"of {self.team} can hold this slot."
                    ]
                }
            )

    def rotation_user_id(self, index: int | None, member_ids: list[int]) -> int | None:
        if index is None or not member_ids:
            return None
        return member_ids[index % len(member_ids)]


class OnCallMember(models.Model):
    schedule = models.ForeignKey(OnCallSchedule, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.user} (position {self.position + 1})"

    def clean(self) -> None:
        if self.schedule_id and self.user_id:
            self.schedule.check_can_hold(self.user)


class OnCallOverride(models.Model):
    """``user`` is on call for the schedule's slot from ``starts_at`` to ``ends_at`` (swaps too)."""

    schedule = models.ForeignKey(OnCallSchedule, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="override_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} on call {self.starts_at:%Y-%m-%d %H:%M} – {self.ends_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.schedule_id and self.user_id:
            self.schedule.check_can_hold(self.user)
