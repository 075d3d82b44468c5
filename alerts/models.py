"""Alerts, escalation policies, on-call schedules, escalation steps and notifications.

The escalation *timers* are database rows (:class:`EscalationStep` with a ``due_at``): a beat tick
claims due rows with ``SELECT … FOR UPDATE SKIP LOCKED`` and sends them.  Broker countdowns are never
used as timers (a Redis restart or a visibility-timeout redelivery must not lose or duplicate a page).
Every notification carries an idempotency key protected by a unique constraint.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import CareTeam, Role, validate_time_zone
from monitoring.models import GradeEvaluation, Infusion, Patient


class Syndrome(models.TextChoices):
    CRS = "crs", "CRS"
    ICANS = "icans", "ICANS"
    SEPSIS = "sepsis", "Not CRS by ASTCT: evaluate sepsis/other cause"
    IEC_HS = "iec_hs", "IEC-HS screen positive"
    LICATS = "licats", "LICATS screen positive"
    OVERDUE_VITALS = "overdue_vitals", "Vitals overdue"
    OVERDUE_NEURO = "overdue_neuro", "Neuro check overdue"
    OVERDUE_LABS = "overdue_labs", "Daily labs overdue"
    HYPOXAEMIA = "hypoxaemia", "Hypoxaemia: SpO2 below 90 %"  # A-15, ALERT-11
    ICH = "ich", "Intracranial haemorrhage: neuro consult and imaging"  # B-9, ALERT-12
    # Follow-up after the first month (ALERT-13), raised by the followup app.
    RELAPSE = "relapse", "Flare or relapse"
    SEROLOGY = "serology", "Serological re-activation"
    B_CELL_APLASIA_LOST = "b_cell_aplasia_lost", "Loss of B-cell aplasia"
    OVERDUE_VISIT = "overdue_visit", "Follow-up visit overdue"


GRADED_SYNDROMES = frozenset({Syndrome.CRS, Syndrome.ICANS})
#: The clinical core's urgent findings (carttrack FINDING_CODES) and the urgent alert each raises.
FINDING_SYNDROMES = {"hypoxaemia": Syndrome.HYPOXAEMIA, "intracranial_haemorrhage": Syndrome.ICH}
#: Alerts that follow the grade evaluations (a correction can withdraw their support); the overdue
#: check alerts follow the schedule instead.
EVALUATED_SYNDROMES = frozenset(
    {
        Syndrome.CRS,
        Syndrome.ICANS,
        Syndrome.SEPSIS,
        Syndrome.IEC_HS,
        Syndrome.LICATS,
        *FINDING_SYNDROMES.values(),
    }
)
#: Follow-up alerts (ALERT-13): they outlive the acute monitoring of a course closed as complete.
FOLLOWUP_SYNDROMES = frozenset(
    {Syndrome.RELAPSE, Syndrome.SEROLOGY, Syndrome.B_CELL_APLASIA_LOST, Syndrome.OVERDUE_VISIT}
)
OVERDUE_SYNDROMES = {
    "vitals": Syndrome.OVERDUE_VITALS,
    "neuro": Syndrome.OVERDUE_NEURO,
    "labs": Syndrome.OVERDUE_LABS,
}


class Urgency(models.TextChoices):
    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent"
    EMERGENT = "emergent", "Emergent"


URGENCY_RANK = {Urgency.ROUTINE: 1, Urgency.URGENT: 2, Urgency.EMERGENT: 3}


def urgency_for_grade(grade: int | None) -> str:
    """Grade 1 routine, grade 2 urgent, grade ≥ 3 emergent (the issue's urgency tiers)."""
    if grade is None or grade <= 1:
        return Urgency.ROUTINE
    if grade == 2:
        return Urgency.URGENT
    return Urgency.EMERGENT


class Channel(models.TextChoices):
    INAPP = "inapp", "In-app inbox"
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    PAGER = "pager", "Pager"


#: The channel lists, defined once: a page that must reach a person now (the leads, the built-in first
#: step), and a routine notice (in the inbox and by e-mail).
PAGE_CHANNELS: tuple[str, ...] = (Channel.INAPP, Channel.EMAIL, Channel.SMS)
ROUTINE_CHANNELS: tuple[str, ...] = (Channel.INAPP, Channel.EMAIL)
#: A nudge to the person at the bedside: the inbox and a text message (reminders, overdue checks).
SMS_NOW: tuple[str, ...] = (Channel.INAPP, Channel.SMS)


class Target(models.TextChoices):
    ONCALL_PRIMARY = "oncall_primary", "On-call (primary)"
    ONCALL_BACKUP = "oncall_backup", "On-call (backup)"
    ROLE = "role", "Everyone with a role"
    USER = "user", "A named person"
    LEADS = "leads", "Attending, charge nurse and coordinators"
    CHARGE_NURSE = "charge_nurse", "Charge nurse"


# ---------------------------------------------------------------------------------------------
# Escalation policies (per care team; copied onto each alert when it opens)
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# On-call schedules
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# Alerts and their timeline
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# Escalation steps (the timers) and notifications
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# Operations: alarms, auditor heartbeat, overdue-check tasks
# ---------------------------------------------------------------------------------------------
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


def new_token() -> uuid.UUID:
    return uuid.uuid4()
