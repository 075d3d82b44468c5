"""One piece: the monitoring data model, each model beside the ones its foreign keys and managers need.

Patients, CAR-T products, infusions, observations and grade evaluations.

Clinical facts are append-only: an observation is corrected by a new row that ``supersedes`` it
(status ``amended``) or marks it ``entered_in_error``; measurements are never updated or deleted.
Every patient query goes through ``Patient.objects.visible_to(user)`` (and the infusion and
observation equivalents), so another team's patient is simply not found (404).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import CareTeam
from carttrack.followup.course import IVIG_DRUG


class IndicationCategory(models.TextChoices):
    ONCOLOGY = "oncology", "Oncology"
    AUTOIMMUNE = "autoimmune", "Autoimmune"


class Indication(models.TextChoices):
    # Oncology
    LBCL = "lbcl", "Large B-cell lymphoma"
    FL = "fl", "Follicular lymphoma"
    MCL = "mcl", "Mantle cell lymphoma"
    B_ALL = "b_all", "B-cell acute lymphoblastic leukaemia"
    CLL = "cll", "Chronic lymphocytic leukaemia"
    MYELOMA = "myeloma", "Multiple myeloma"
    OTHER_ONCOLOGY = "other_oncology", "Other malignancy"
    # Autoimmune (the label text carries the words the clinical core recognises)
    SLE = "sle", "Systemic lupus erythematosus (SLE)"
    LUPUS_NEPHRITIS = "lupus_nephritis", "SLE with lupus nephritis"
    MYOSITIS = "myositis", "Idiopathic inflammatory myositis"
    SYSTEMIC_SCLEROSIS = "systemic_sclerosis", "Systemic sclerosis"
    OTHER_AUTOIMMUNE = "other_autoimmune", "Other autoimmune disease"


AUTOIMMUNE_INDICATIONS = frozenset(
    {
        Indication.SLE,
        Indication.LUPUS_NEPHRITIS,
        Indication.MYOSITIS,
        Indication.SYSTEMIC_SCLEROSIS,
        Indication.OTHER_AUTOIMMUNE,
    }
)


def indication_category(indication: str) -> str:
    if indication in AUTOIMMUNE_INDICATIONS:
        return IndicationCategory.AUTOIMMUNE
    return IndicationCategory.ONCOLOGY


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"
    OTHER = "X", "Other"
    UNKNOWN = "U", "Unknown"


class MonitoringTemplate(models.Model):
    """How often each check is due (MON-4…MON-8 defaults; C-5: per product and label)."""

    name = models.CharField(max_length=120, unique=True)
    label_version = models.CharField(max_length=60, default="US label June 2025")
    vitals_interval_hours = models.PositiveSmallIntegerField(default=4)
    vitals_febrile_interval_hours = models.PositiveSmallIntegerField(
        default=2, help_text="When febrile and tachycardic"
    )
    vitals_days = models.PositiveSmallIntegerField(default=14)
    neuro_interval_hours = models.PositiveSmallIntegerField(default=12, help_text="ICE/CAPD at least BID")
    neuro_interval_icans_hours = models.PositiveSmallIntegerField(default=8, help_text="With ICANS ≥ 1")
    neuro_days = models.PositiveSmallIntegerField(default=14)
    labs_interval_hours = models.PositiveSmallIntegerField(default=24)
    labs_days = models.PositiveSmallIntegerField(default=14)
    overdue_grace_minutes = models.PositiveSmallIntegerField(
        default=60, help_text="After this, an overdue check alerts the charge nurse"
    )

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """A CAR-T product and the product-specific settings the clinical core needs."""

    name = models.CharField(max_length=120, unique=True)
    target_antigen = models.CharField(max_length=40, help_text="e.g. CD19, BCMA")
    tocilizumab_mg_per_kg_under_30kg = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        default=Decimal("12.0"),
        validators=[MinValueValidator(Decimal("4")), MaxValueValidator(Decimal("12"))],
        help_text="12 mg/kg below 30 kg per the tisa-cel label; set 8 where the label uses 8 mg/kg for all",
    )
    high_icans_risk = models.BooleanField(
        default=False, help_text="Earlier steroids / seizure prophylaxis considered (e.g. axi-cel, brexu-cel)"
    )
    monitoring_template = models.ForeignKey(MonitoringTemplate, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PatientQuerySet(models.QuerySet):
    def visible_to(self, user) -> PatientQuerySet:
        """The one scoping method for patients: those of the user's care teams."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(care_team_id__in=self.visible_team_ids(user))

    @staticmethod
    def visible_team_ids(user) -> list[int]:
        """The care teams whose patients ``user`` sees: the rule of :meth:`visible_to` (also used by
        the observation write path's hand-written lock, ``monitoring.write_path``)."""
        if not getattr(user, "is_authenticated", False):
            return []
        return user.team_ids()


class Patient(models.Model):
    mrn = models.CharField("MRN", max_length=32, unique=True)
    given_name = models.CharField(max_length=80)
    family_name = models.CharField(max_length=80)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    weight_kg = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("1.0")), MaxValueValidator(Decimal("350.0"))],
        help_text="Actual body weight, used for weight-based doses",
    )
    indication = models.CharField(max_length=32, choices=Indication.choices)
    developmental_delay = models.BooleanField(
        default=False, help_text="Selects CAPD instead of ICE at any age (B-4)"
    )
    home_o2_l_min = models.DecimalField(
        "home oxygen (L/min)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("15"))],
        help_text="Pre-infusion home oxygen; only a new or increased need counts as hypoxia (A-8)",
    )
    care_team = models.ForeignKey(CareTeam, on_delete=models.PROTECT, related_name="patients")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name"]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name} ({self.mrn})"

    @property
    def indication_category(self) -> str:
        return indication_category(self.indication)

    def age_years_at(self, moment: datetime | date) -> float:
        """Exact age in years (days / 365.2425), as the CAPD/ICE age rule needs (B-4)."""
        day = moment.date() if isinstance(moment, datetime) else moment
        return (day - self.date_of_birth).days / 365.2425


class InfusionStatus(models.TextChoices):
    ACTIVE = "active", "Active monitoring"
    CLOSED = "closed", "Closed"


class CloseReason(models.TextChoices):
    MONITORING_COMPLETE = "monitoring_complete", "Monitoring completed"
    DEATH = "death", "Death"
    PROGRESSION = "progression", "Disease progression"
    NEXT_THERAPY = "next_therapy", "Next therapy started"
    TRANSFERRED = "transferred", "Transferred to another centre"
    LOST_TO_FOLLOW_UP = "lost_to_follow_up", "Lost to follow-up"


class InfusionQuerySet(models.QuerySet):
    def visible_to(self, user) -> InfusionQuerySet:
        return self.filter(patient__in=Patient.objects.visible_to(user))

    def active(self) -> InfusionQuerySet:
        return self.filter(status=InfusionStatus.ACTIVE)


class Infusion(models.Model):
    """A CAR-T infusion: day 0 is ``infused_at`` (with time)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="infusions")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="infusions")
    care_team = models.ForeignKey(CareTeam, on_delete=models.PROTECT, related_name="infusions")
    infused_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=InfusionStatus.choices, default=InfusionStatus.ACTIVE)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=24, choices=CloseReason.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InfusionQuerySet.as_manager()

    class Meta:
        ordering = ["-infused_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status="active"),
                name="one_active_infusion_per_patient",
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient} — {self.product} on {self.infused_at:%Y-%m-%d %H:%M}"

    def hours_after(self, moment: datetime) -> float:
        return (moment - self.infused_at).total_seconds() / 3600.0

    def day_post_infusion(self, moment: datetime | None = None) -> int:
        """Day 0 is the calendar day of infusion in the care team's time zone."""
        tz = ZoneInfo(self.care_team.time_zone)
        moment = moment or timezone.now()
        return (moment.astimezone(tz).date() - self.infused_at.astimezone(tz).date()).days


class ObservationKind(models.TextChoices):
    VITALS = "vitals", "Vitals"
    NEURO = "neuro", "Neuro check"
    LAB = "lab", "Laboratory"
    MEDICATION = "medication", "Medication given"
    EVENT = "event", "Event"
    CLINICAL_FLAG = "clinical_flag", "Clinical flag"
    # Follow-up after the first month (carttrack.followup; VISIT-4): stored like every other kind.
    SLEDAI = "sledai", "SLEDAI-2K and PGA"
    MEDICATION_STATUS = "medication_status", "Current medications"
    MYOSITIS_CORE_SET = "myositis_core_set", "Myositis core set (TIS)"
    SSC_ASSESSMENT = "ssc_assessment", "mRSS and EUSTAR activity"


#: Follow-up instrument kinds (carttrack.followup.inputs.FOLLOWUP_KINDS).
FOLLOWUP_KINDS = frozenset(
    {
        ObservationKind.SLEDAI,
        ObservationKind.MEDICATION_STATUS,
        ObservationKind.MYOSITIS_CORE_SET,
        ObservationKind.SSC_ASSESSMENT,
    }
)
#: What can still be recorded once the acute monitoring of an infusion was closed as complete: the
#: course goes on into follow-up (VISIT-2) with its instruments, labs and events (a declared flare).
AFTER_MONITORING_KINDS = FOLLOWUP_KINDS | {ObservationKind.LAB, ObservationKind.EVENT}
#: … and the one-off doses of follow-up care given at a visit: IVIG (BCELL-9: it changes how the IgG
#: checks count). Every other ``medication`` (tocilizumab, steroids for CRS/ICANS, antipyretics …)
#: belongs to the acute weeks and is refused like vitals and neuro checks.
AFTER_MONITORING_DRUGS = frozenset({IVIG_DRUG})


def recordable_after_monitoring(kind: str, payload: object) -> bool:
    """Whether an observation of ``kind`` with ``payload`` belongs to the follow-up that goes on
    after acute monitoring closed as complete (VISIT-2): a follow-up instrument, a lab, an event,
    or a follow-up medication dose (IVIG, BCELL-9)."""
    if kind in AFTER_MONITORING_KINDS:
        return True
    return (
        kind == ObservationKind.MEDICATION
        and isinstance(payload, dict)
        and payload.get("drug") in AFTER_MONITORING_DRUGS
    )


class ObservationStatus(models.TextChoices):
    FINAL = "final", "Final"
    AMENDED = "amended", "Amended"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


class ObservationSource(models.TextChoices):
    TABLET = "tablet", "Ward tablet"
    API = "api", "API"
    DEVICE = "device", "Device/EHR interface"
    DEMO = "demo", "Demo data"


class ObservationQuerySet(models.QuerySet):
    def visible_to(self, user) -> ObservationQuerySet:
        return self.filter(infusion__patient__in=Patient.objects.visible_to(user))

    def current(self) -> ObservationQuerySet:
        """The facts in force: not entered in error and not superseded by a later row."""
        return self.exclude(status=ObservationStatus.ENTERED_IN_ERROR).filter(superseded_by__isnull=True)


class Observation(models.Model):
    """One recorded clinical fact, stored as a case-file observation (``payload``, CASE-3).

    ``payload`` holds the fields of the observation kind exactly as the clinical core parses them
    (without ``kind`` and ``t_hours``, which come from ``kind`` and ``observed_at``).
    """

    infusion = models.ForeignKey(Infusion, on_delete=models.PROTECT, related_name="observations")
    kind = models.CharField(max_length=24, choices=ObservationKind.choices)
    payload = models.JSONField(default=dict)
    observed_at = models.DateTimeField(help_text="When it was measured or given")
    recorded_at = models.DateTimeField(default=timezone.now, help_text="When it was entered")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=16, choices=ObservationStatus.choices, default=ObservationStatus.FINAL
    )
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    reason = models.TextField(blank=True, help_text="Why it was amended or marked entered-in-error")
    client_uuid = models.UUIDField(
        unique=True, default=uuid.uuid4, help_text="Idempotency key from the client"
    )
    source = models.CharField(
        max_length=8, choices=ObservationSource.choices, default=ObservationSource.TABLET
    )
    completes_check = models.BooleanField(
        default=True,
        help_text="It recorded everything its check needs (carttrack.missing_for_complete_check); "
        "a partial record (a heart rate alone) leaves the check due",
    )

    objects = ObservationQuerySet.as_manager()

    class Meta:
        ordering = ["observed_at", "id"]
        indexes = [
            models.Index(fields=["infusion", "observed_at"], name="obs_infusion_time"),
            models.Index(fields=["infusion", "kind", "observed_at"], name="obs_infusion_kind_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="final", supersedes__isnull=True) | ~Q(status="final"),
                name="final_observation_supersedes_nothing",
            ),
            models.CheckConstraint(
                condition=Q(status="final") | Q(supersedes__isnull=False),
                name="correction_names_what_it_corrects",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.observed_at:%Y-%m-%d %H:%M} ({self.status})"


class GradeEvaluation(models.Model):
    """The clinical core's verdict after an observation: grades, drivers, suggestions, settings."""

    infusion = models.ForeignKey(Infusion, on_delete=models.PROTECT, related_name="evaluations")
    triggered_by = models.ForeignKey(
        Observation, null=True, blank=True, on_delete=models.PROTECT, related_name="evaluations"
    )
    evaluated_at = models.DateTimeField(default=timezone.now)
    crs_grade = models.PositiveSmallIntegerField(null=True, blank=True)
    crs_max = models.PositiveSmallIntegerField(null=True, blank=True)
    icans_grade = models.PositiveSmallIntegerField(null=True, blank=True)
    icans_max = models.PositiveSmallIntegerField(null=True, blank=True)
    icans_incomplete = models.BooleanField(default=False)
    icaht_early = models.PositiveSmallIntegerField(null=True, blank=True)
    icaht_early_provisional = models.BooleanField(default=False)
    icaht_late = models.PositiveSmallIntegerField(null=True, blank=True)
    sepsis_alert = models.BooleanField(default=False)
    iec_hs_screen_positive = models.BooleanField(default=False)
    licats_screen_positive = models.BooleanField(default=False)
    suggestions = models.JSONField(default=list)
    withheld = models.JSONField(default=list)
    drivers = models.JSONField(default=dict)
    computed = models.JSONField(default=dict)
    rule_set = models.CharField(max_length=60)
    decision_policy = models.ForeignKey(
        "DecisionPolicy",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="evaluations",
        help_text="The site decision policy in force when graded (empty: none, the core's defaults)",
    )
    policy_recorded = models.BooleanField(
        default=False,
        help_text="Whether grading recorded the policy in force; grades stored before it was recorded "
        "say 'not recorded' rather than guess",
    )
    settings = models.JSONField(default=dict)
    result = models.JSONField(default=dict, help_text="Full result of the clinical core")
    observation_count = models.PositiveIntegerField(default=0)
    alerts_processed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the alert task handled this evaluation; the auditor processes any it missed",
    )

    class Meta:
        ordering = ["-evaluated_at", "-id"]
        get_latest_by = ["evaluated_at", "id"]
        indexes = [
            models.Index(fields=["infusion", "-evaluated_at"], name="eval_infusion_latest"),
            models.Index(
                fields=["evaluated_at"],
                condition=Q(alerts_processed_at__isnull=True),
                name="eval_alerts_unprocessed",
            ),
        ]

    def __str__(self) -> str:
        return f"CRS {self.crs_grade} / ICANS {self.icans_grade} at {self.evaluated_at:%Y-%m-%d %H:%M}"

    @property
    def site_policy(self) -> DecisionPolicy | None:
        """The policy in force when graded (None: none was, or it was not recorded: ``policy_recorded``)."""
        return self.decision_policy if self.policy_recorded else None


class DecisionPolicy(models.Model):
    """Site overrides of the clinical core's DecisionSettings (docs/clinical-rules.md), versioned by row.

    The newest row is in force; older rows stay so every stored grade can be explained.
    """

    overrides = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Decision policy of {self.created_at:%Y-%m-%d %H:%M}"


class CheckType(models.TextChoices):
    VITALS = "vitals", "Vitals"
    NEURO = "neuro", "Neuro check (ICE/CAPD)"
    LABS = "labs", "Daily labs"


class MissedCheck(models.Model):
    """A nurse's record of why a due check was not done (it stays overdue-visible, with reason)."""

    infusion = models.ForeignKey(Infusion, on_delete=models.PROTECT, related_name="missed_checks")
    check_type = models.CharField(max_length=8, choices=CheckType.choices)
    due_at = models.DateTimeField()
    reason = models.CharField(max_length=300)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"{self.get_check_type_display()} due {self.due_at:%Y-%m-%d %H:%M} not done: {self.reason}"
