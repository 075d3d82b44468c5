"""Writes that open a course: register or update a patient and start an infusion (day 0).

Used by the API (``monitoring.api``) and by the coordinator's screens (``monitoring.course_views``)
alike, so both validate the same way and leave the same history (django-simple-history, with the
user who made the change). Keyword-only, one durable transaction each; ``infusion_start_within``
is the same start inside a caller's durable transaction (``followup.course_start``). Closing an infusion is
``monitoring.services.infusion_close`` (it shares the observation write path's lock and hand-off).

Errors callers handle: ``ValidationError`` keyed by field (HTTP 400 / a form error),
``ObservationConflict`` (the patient already has an active infusion: HTTP 409) and
``PermissionDenied`` (the role lacks ``patient.manage`` in that care team: HTTP 403).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import CareTeam
from accounts.permissions import can

from .models import Infusion, InfusionStatus, Patient, Product
from .services import CLOCK_SKEW, ObservationConflict, read_observed_at

#: The earliest date of birth and infusion year a record may carry (typing slips such as 1025).
EARLIEST_BIRTH_YEAR = 1900
EARLIEST_INFUSION_YEAR = 2000
#: The patient fields a coordinator may set; ``care_team`` only when registering (a transfer is not
#: an edit).
PATIENT_FIELDS = (
    "mrn",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "weight_kg",
    "indication",
    "developmental_delay",
    "home_o2_l_min",
)
ACTIVE_INFUSION_TEXT = "This patient already has an active infusion: close it before recording a new one."


def _require_manage(user: Any, team_id: int) -> None:
    if not can(user, "patient.manage", team_id):
        raise PermissionDenied("Your role does not allow patient.manage in this care team")


def check_date_of_birth(value: date) -> None:
    """The rule for a date of birth (raises ValidationError naming ``date_of_birth``)."""
    if value > timezone.localdate():
        raise ValidationError({"date_of_birth": ["Date of birth cannot be in the future."]})
    if value.year < EARLIEST_BIRTH_YEAR:
        raise ValidationError(
            {"date_of_birth": [f"Date of birth must be in {EARLIEST_BIRTH_YEAR} or later."]}
        )


def check_infused_at(value: datetime) -> None:
    """The rule for an infusion time (raises ValidationError naming ``infused_at``)."""
    if value > timezone.now() + CLOCK_SKEW:
        raise ValidationError({"infused_at": ["The infusion time cannot be in the future."]})
    if value.year < EARLIEST_INFUSION_YEAR:
        raise ValidationError(
            {"infused_at": [f"The infusion time must be in {EARLIEST_INFUSION_YEAR} or later."]}
        )


def _infusion_time(value: datetime | str, patient: Patient) -> datetime:
    """``value`` as an aware time; the care team's zone is looked up only for a time without offset."""
    if isinstance(value, datetime) and timezone.is_aware(value):
        return value
    zone = CareTeam.objects.filter(pk=patient.care_team_id).values_list("time_zone", flat=True).first()
    return read_observed_at(value=value, zone=zone or "UTC", field="infused_at")


def _save_with_history(obj, *, user, reason: str, **save_kwargs) -> None:
    obj.full_clean()
    obj._history_user = user  # django-simple-history: the history row names who did it and why
    obj._change_reason = reason
    obj.save(**save_kwargs)


def patient_register(*, user: Any, care_team_id: int, **fields: Any) -> Patient:
    """Register a patient in ``care_team_id`` (the user needs ``patient.manage`` there)."""
    unknown = set(fields) - set(PATIENT_FIELDS)
    if unknown:
        raise ValidationError({name: ["This field cannot be set here."] for name in sorted(unknown)})
    _require_manage(user, care_team_id)
    if fields.get("date_of_birth") is not None:
        check_date_of_birth(fields["date_of_birth"])
    with transaction.atomic(durable=True):
        patient = Patient(care_team_id=care_team_id, **fields)
        _save_with_history(patient, user=user, reason="patient registered")
    return patient


def patient_update(*, user: Any, patient: Patient, **fields: Any) -> Patient:
    """Change a patient's own fields (never the care team)."""
    unknown = set(fields) - set(PATIENT_FIELDS)
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    _require_manage(user, patient.care_team_id)
    if fields.get("date_of_birth") is not None:
        check_date_of_birth(fields["date_of_birth"])
    with transaction.atomic(durable=True):
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        for name, value in fields.items():
            setattr(locked, name, value)
        _save_with_history(locked, user=user, reason="patient updated")
    return locked


def infusion_start(
    *, user: Any, patient: Patient, product: Product, infused_at: datetime | str, reason: str = ""
) -> Infusion:
    """Record the infusion (day 0) of ``product`` for ``patient``, in the patient's care team.

    Raises ObservationConflict while the patient has an active infusion."""
    with transaction.atomic(durable=True):
        return infusion_start_within(
            user=user, patient=patient, product=product, infused_at=infused_at, reason=reason
        )


def infusion_start_within(
    *, user: Any, patient: Patient, product: Product, infused_at: datetime | str, reason: str = ""
) -> Infusion:
    """:func:`infusion_start` inside the caller's transaction, for a caller that records more with the
    infusion in one durable transaction (``followup.course_start``: a planned course becomes this
    infusion). ``reason`` is the history row's reason (default: "infusion of <product> started").
    ``infused_at`` is an aware time, or ISO-8601 text / a naive time read through the clinical core's
    one rule (INPUT-12): a time without offset is a wall time of the patient's care team."""
    _require_manage(user, patient.care_team_id)
    infused_at = _infusion_time(infused_at, patient)
    check_infused_at(infused_at)
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    if Infusion.objects.filter(patient=locked, status=InfusionStatus.ACTIVE).exists():
        raise ObservationConflict(ACTIVE_INFUSION_TEXT)
    infusion = Infusion(
        patient=locked, product=product, care_team_id=locked.care_team_id, infused_at=infused_at
    )
    try:
        with transaction.atomic():  # a savepoint: a concurrent start wins the partial unique constraint
            _save_with_history(infusion, user=user, reason=reason or f"infusion of {product} started")
    except IntegrityError:
        raise ObservationConflict(ACTIVE_INFUSION_TEXT) from None
    return infusion
