"""Writes of the monitoring app, one module because recording, correcting and closing a course share one
lock, one validation and one re-grade: record, amend and void observations, close an infusion
(keyword-only, one durable transaction each).

Every write validates through the clinical core (``carttrack.parse_observation``), stores an
append-only row, recomputes the grade synchronously in the same transaction (so the nurse sees it at
once) and hands the evaluation id to alerting (``monitoring.handoff``) only after commit.

Errors callers handle:

* :class:`django.core.exceptions.ValidationError` keyed by field (``temp_c``, ``observed_at``,
  ``infusion``, ``reason`` ...), each message naming the allowed range: HTTP 400 / a form error.
* :class:`ObservationConflict`: the client UUID was already used for a different observation, or
  somebody else corrected the same observation first: HTTP 409.
* :class:`django.core.exceptions.PermissionDenied`: the user's role lacks the capability: HTTP 403.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

import carttrack
from accounts.permissions import can
from carttrack import wording

from . import grading, handoff, write_path
from .models import (
    CloseReason,
    GradeEvaluation,
    Infusion,
    InfusionStatus,
    Observation,
    ObservationKind,
    ObservationSource,
    ObservationStatus,
    recordable_after_monitoring,
)
from .signals import observation_saved
from .write_path import InfusionScope

logger = logging.getLogger(__name__)

__all__ = [
    "InfusionScope",
    "ObservationConflict",
    "ObservationWrite",
    "UnusualValues",
    "WriteFailed",
    "infusion_close",
    "observation_amend",
    "observation_mark_entered_in_error",
    "observation_record",
    "observations_write_all",
    "validate_payload",
]

#: Tolerated clock skew between a tablet/device and the server for "observed in the future".
CLOCK_SKEW = timedelta(minutes=5)
#: How long before the infusion an observation may be dated (pre-infusion baseline labs, vitals, ICE).
MAX_BEFORE_INFUSION = timedelta(days=30)
#: Events only a physician may record (capability ``event.record_diagnosis``; A-3, A-11).
DIAGNOSIS_EVENTS = frozenset({"crs_diagnosed", "icans_diagnosed", "death"})
#: Payload keys that attribute a finding to another cause (capability ``finding.attribute``; A-9).
ATTRIBUTION_KEYS = (
    "attributed_to",
    "fever_attributed_to",
    "hypotension_attributed_to",
    "hypoxia_attributed_to",
)


class ObservationConflict(Exception):
    """The request conflicts with what is already stored (HTTP 409)."""

    def __init__(self, message: str, *, existing: Observation | None = None):
        super().__init__(message)
        self.message = message
        self.existing = existing


class UnusualValues(Exception):
    """Values inside the hard limits but unusual (``carttrack.limits.soft_warnings``): the tablet asks
    the nurse to confirm them; nothing was stored."""

    def __init__(self, warnings: list):
        super().__init__("; ".join(w.message for w in warnings))
        self.warnings = warnings


MAX_REASON_LENGTH = 1000  # a correction reason is a sentence or two, never a document


def _enqueue_alert_processing(evaluation_id: int) -> None:
    """Hand the evaluation to the alert worker; if the broker is unreachable, process it in this
    process instead (a lost alert can harm a patient; the alert service is idempotent per evaluation)."""
    handoff.grade_committed(evaluation_id)


def _schedule_alerts(evaluation: GradeEvaluation) -> None:
    # Only after commit: the worker must find the committed evaluation.  robust=True: if even the
    # in-process fallback fails, the nurse's saved observation must not turn into an error page; the
    # failure is logged at ERROR level (monitored) with the evaluation id.
    transaction.on_commit(lambda: _enqueue_alert_processing(evaluation.pk), robust=True)


def _validation_error_from(exc: Exception) -> ValidationError:
    """Every error of the record (``ObservationError.errors``), keyed by field, in the core's words."""
    by_field: dict[str, list[str]] = {}
    for err in getattr(exc, "errors", None) or (exc,):
        field = getattr(err, "field", None) or "payload"
        allowed = getattr(err, "allowed", None)
        message = str(err)  # the core's words: "field X: <the problem>" (an unknown field, a missing drug…)
        if allowed and str(allowed) not in message:
            message = f"{message}; allowed: {allowed}"
        by_field.setdefault(field, []).append(message)
    return ValidationError(by_field, code="invalid")


def read_observed_at(*, value: datetime | str | None, zone: str, field: str = "observed_at") -> datetime:
    """A recorded time through the core's one rule (INPUT-12): with its UTC offset as written, or a
    wall time read in the care team's zone ``zone``; a time skipped or repeated by a daylight-saving
    change is refused. Raises ValidationError naming ``field``."""
    if value is None:
        raise ValidationError({field: ["a date and time is required"]})
    try:
        return carttrack.parse_timestamp(value, zone=zone, field=field)
    except carttrack.ObservationError as exc:
        raise _validation_error_from(exc) from exc


def _aware_time(
    value: datetime | str | None, infusion: Infusion | int, field: str = "observed_at"
) -> datetime:
    """``value`` as an aware time; the team's zone is looked up only for a time without offset."""
    if isinstance(value, datetime) and not timezone.is_naive(value):
        return value
    return read_observed_at(value=value, zone=_team_zone(infusion), field=field)


def _team_zone(infusion: Infusion | int) -> str:
    """The IANA zone of the infusion's care team (a wall time without offset is read there)."""
    pk = infusion.pk if isinstance(infusion, Infusion) else infusion
    zone = Infusion.objects.filter(pk=pk).values_list("care_team__time_zone", flat=True).first()
    return zone or "UTC"


def validate_payload(*, kind: str, payload: Any, t_hours: float) -> Any:
    """Parse through the clinical core; return the parsed observation or raise ValidationError."""
    if kind not in ObservationKind.values:
        raise ValidationError(
            {"kind": [f"unknown kind {kind!r}; allowed: {', '.join(ObservationKind.values)}"]}
        )
    if not isinstance(payload, dict):
        raise ValidationError({"payload": ["must be an object of case-file fields"]})
    if "kind" in payload or "t_hours" in payload:
        raise ValidationError({"payload": ["kind and t_hours come from the observation, not the payload"]})
    try:
        return carttrack.parse_observation({**payload, "kind": kind, "t_hours": t_hours})
    except carttrack.ObservationError as exc:
        raise _validation_error_from(exc) from exc


def _parse(*, kind: str, payload: Any, t_hours: float, unusual_confirmed: bool) -> Any:
    """The one parse of a new payload through the core; unusual values raise UnusualValues unless the
    caller confirmed them (the API does not ask: it passes True)."""
    parsed = validate_payload(kind=kind, payload=payload, t_hours=t_hours)
    if not unusual_confirmed:
        warnings = carttrack.limits.soft_warnings(parsed)
        if warnings:
            raise UnusualValues(warnings)
    return parsed


def _check_time(*, infusion: Infusion, observed_at: datetime, now: datetime) -> None:
    if observed_at is None or timezone.is_naive(observed_at):
        raise ValidationError({"observed_at": ["a date and time with time zone is required"]})
    if observed_at > now + CLOCK_SKEW:
        raise ValidationError(
            {
                "observed_at": [
                    f"{observed_at:%Y-%m-%d %H:%M} is in the future; observations can be dated at most "
                    f"{int(CLOCK_SKEW.total_seconds() // 60)} minutes ahead of the server clock"
                ]
            }
        )
    if observed_at < infusion.infused_at - MAX_BEFORE_INFUSION:
        raise ValidationError(
            {
                "observed_at": [
                    f"{observed_at:%Y-%m-%d %H:%M} is more than {MAX_BEFORE_INFUSION.days} days before the "
                    f"infusion ({infusion.infused_at:%Y-%m-%d %H:%M}); the limit for baseline values is "
                    f"{MAX_BEFORE_INFUSION.days} days"
                ]
            }
        )


def _attribution(kind: str, payload: dict) -> dict:
    if kind == ObservationKind.EVENT:
        return {}
    return {k: payload.get(k) for k in ATTRIBUTION_KEYS if payload.get(k) not in (None, "", "crs", "CRS")}


def _check_capabilities(
    *, user, infusion: Infusion, kind: str, payload: dict, capability: str, previous: dict | None = None
) -> None:
    """``capability`` for the write itself, plus ``event.record_diagnosis`` for CRS/ICANS diagnosis and
    death events and ``finding.attribute`` for (a change of) attribution to another cause or of the
    SLEDAI-2K descriptors marked as a LICATS episode (D-5)."""
    team_id = infusion.care_team_id
    if not can(user, capability, team_id):
        raise PermissionDenied(f"Your role does not allow {capability} for this patient")
    events = {payload.get("event"), (previous or {}).get("event")} if kind == ObservationKind.EVENT else set()
    if events & DIAGNOSIS_EVENTS and not can(user, "event.record_diagnosis", team_id):
        raise PermissionDenied("Only a physician can record (or correct) a CRS/ICANS diagnosis or a death")
    if _attribution(kind, payload) != _attribution(kind, previous or {}) and not can(
        user, "finding.attribute", team_id
    ):
        raise PermissionDenied("Only a physician can attribute a finding to another cause")
    if _licats(kind, payload) != _licats(kind, previous or {}) and not can(
        user, "finding.attribute", team_id
    ):
        raise PermissionDenied(LICATS_PHYSICIAN_ONLY)


#: D-5, SLEDAI-10: the screen and the API refuse anyone else with this message.
LICATS_PHYSICIAN_ONLY = "Only a physician can mark SLEDAI-2K descriptors as part of a LICATS episode"


def _licats(kind: str, payload: dict) -> frozenset:
    """The SLEDAI-2K descriptors marked as a LICATS episode (D-5), as a set (order does not matter)."""
    if kind != ObservationKind.SLEDAI:
        return frozenset()
    marked = payload.get("licats")
    if isinstance(marked, (list, tuple)):
        return frozenset(str(x) for x in marked)
    return frozenset({str(marked)}) if marked else frozenset()


def _same_request(
    obs: Observation, *, infusion_id: int, kind: str, payload: dict, observed_at: datetime
) -> bool:
    return (
        obs.infusion_id == infusion_id
        and obs.kind == kind
        and _normalised(obs.payload) == _normalised(payload)
        and obs.observed_at == observed_at
    )


def _normalised(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalised(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalised(v) for v in value]
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def _replay(existing: Observation, **request: Any) -> tuple[Observation, GradeEvaluation | None, bool]:
    if not _same_request(existing, **request):
        raise ObservationConflict(
            "This form was already submitted with different values (client UUID reused). Reload the form and "
            "enter the values again.",
            existing=existing,
        )
    evaluation = existing.evaluations.order_by("-evaluated_at", "-id").first()
    return existing, evaluation, False


def _lock_infusion(
    infusion: Infusion | int,
    *,
    within: InfusionScope | None = None,
    client_uuid: uuid.UUID | None = None,
) -> Infusion:
    """Lock the infusion's row (only that row: patient and product are read, not locked) for the rest
    of the transaction: observations of one infusion are written and graded one at a time.

    ``within`` limits the search (the API passes the caller's scope: anything else is "no such
    infusion").  Annotated on the result, read in the same statement
    (:func:`monitoring.write_path.lock_infusion`): ``policy_id`` (the decision policy in force) and,
    given ``client_uuid``, ``replay_of`` (the row already stored under that UUID, if any)."""
    pk = infusion if isinstance(infusion, int) else infusion.pk
    locked = write_path.lock_infusion(pk, scope=within, client_uuid=client_uuid)
    if locked is None:
        raise ValidationError({"infusion": ["No such infusion in your care teams."]})
    return locked


def observation_record(
    *,
    infusion: Infusion | int,
    kind: str,
    payload: dict,
    observed_at: datetime | str,
    recorded_by,
    client_uuid: uuid.UUID | str | None = None,
    source: str = ObservationSource.TABLET,
    within: InfusionScope | None = None,
    unusual_confirmed: bool = True,
) -> tuple[Observation, GradeEvaluation | None, bool]:
    """Record one observation, grade the infusion and schedule alert processing after commit.

    Returns ``(observation, evaluation, created)``; a resubmission with the same ``client_uuid`` and the
    same content returns the stored row with ``created=False`` and writes nothing.  ``infusion`` may be
    an id; ``within`` (an :class:`InfusionScope`) limits which infusions may be found (else ``infusion``
    answers "no such infusion").
    """
    try:
        client_uuid = uuid.UUID(str(client_uuid)) if client_uuid else uuid.uuid4()
    except ValueError as exc:
        raise ValidationError({"client_uuid": ["must be a UUID"]}) from exc
    infusion_id = infusion if isinstance(infusion, int) else infusion.pk
    observed_at = _aware_time(observed_at, infusion_id)
    request = {"infusion_id": infusion_id, "kind": kind, "payload": payload, "observed_at": observed_at}
    replay_of = None
    try:
        with transaction.atomic(durable=True):
            locked = _lock_infusion(infusion_id, within=within, client_uuid=client_uuid)
            replay_of = locked.replay_of
            if replay_of is not None:
                # Read after the lock: a concurrent first submission of this UUID has committed.
                existing = Observation.objects.get(pk=replay_of)
            else:
                obs, evaluation = _record_locked(
                    locked=locked,
                    kind=kind,
                    payload=payload,
                    observed_at=observed_at,
                    recorded_by=recorded_by,
                    client_uuid=client_uuid,
                    source=source,
                    unusual_confirmed=unusual_confirmed,
                )
    except IntegrityError:
        existing = Observation.objects.filter(client_uuid=client_uuid).first()
        if existing is None:
            raise
        return _replay(existing, **request)
    if replay_of is not None:
        return _replay(existing, **request)
    return obs, evaluation, True


def _completes_check(infusion: Infusion, parsed: Any) -> bool:
    """Does the record hold everything its check needs (A-14: a heart rate alone does not)?"""
    if parsed is None:  # an entered-in-error marker completes nothing
        return False
    patient = carttrack.parse_patient(grading.patient_dict(infusion))
    return not carttrack.missing_for_complete_check(parsed, patient, grading.settings_for(infusion))


def _refuse_if_closed(locked: Infusion, *, kind: str, payloads: Sequence[object]) -> None:
    """Recording and correcting follow one rule: nothing is written on a closed course, except the
    follow-up record of a course whose acute monitoring closed as complete (VISIT-2). ``payloads``:
    the record's payload, and for a correction the corrected row's too (an IVIG dose cannot be
    amended into tocilizumab on a closed course, nor vitals voided)."""
    if locked.status == InfusionStatus.ACTIVE or all(
        _follow_up_continues(locked, kind, payload) for payload in payloads
    ):
        return
    reason = locked.get_close_reason_display() or "closed"
    when = f" on {timezone.localtime(locked.closed_at):%Y-%m-%d %H:%M %Z}" if locked.closed_at else ""
    raise ValidationError(
        {
            "infusion": [
                f"Monitoring of this infusion was closed{when} ({reason}); no observations can be "
                "recorded or corrected. A coordinator can start a new infusion record."
            ]
        }
    )


def _record_locked(
    *,
    locked: Infusion,
    kind: str,
    payload: dict,
    observed_at: datetime,
    recorded_by,
    client_uuid,
    source,
    unusual_confirmed: bool = True,
) -> tuple[Observation, GradeEvaluation]:
    _check_capabilities(
        user=recorded_by, infusion=locked, kind=kind, payload=payload, capability="observation.record"
    )
    _refuse_if_closed(locked, kind=kind, payloads=(payload,))
    now = timezone.now()
    _check_time(infusion=locked, observed_at=observed_at, now=now)
    parsed = _parse(
        kind=kind,
        payload=payload,
        t_hours=locked.hours_after(observed_at),
        unusual_confirmed=unusual_confirmed,
    )
    obs = Observation.objects.create(
        completes_check=_completes_check(locked, parsed),
        infusion=locked,
        kind=kind,
        payload=payload,
        observed_at=observed_at,
        recorded_at=now,
        recorded_by=recorded_by,
        status=ObservationStatus.FINAL,
        client_uuid=client_uuid,
        source=source,
    )
    return obs, _grade_and_hand_off(infusion=locked, observation=obs, parsed=parsed)


def _grade_and_hand_off(*, infusion: Infusion, observation: Observation, parsed):
    """Grade the course with the row just written, tell the receivers, and hand the grade to alerting
    once the transaction commits: what every recording and every correction does next."""
    evaluation = grading.evaluate_infusion(infusion=infusion, triggered_by=observation, parsed=parsed)
    observation_saved.send(
        sender=Observation, infusion=infusion, observation=observation, parsed=parsed, evaluation=evaluation
    )
    _schedule_alerts(evaluation)
    return evaluation


def _follow_up_continues(infusion: Infusion, kind: str, payload: object) -> bool:
    """A course whose acute monitoring closed as complete goes on into follow-up (VISIT-2): its
    follow-up instruments, labs, events and IVIG doses (BCELL-9) are still recorded on it."""
    return infusion.close_reason == CloseReason.MONITORING_COMPLETE and recordable_after_monitoring(
        kind, payload
    )


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Give a reason for the correction (it is kept with the record)."]})
    if len(reason) > MAX_REASON_LENGTH or any(ord(ch) < 32 and ch not in "\t\n\r" for ch in reason):
        raise ValidationError(
            {"reason": [f"The reason must be printable text of at most {MAX_REASON_LENGTH} characters."]}
        )
    return reason


def _correct(
    *,
    original: Observation,
    user,
    reason: str,
    status: str,
    payload: dict,
    observed_at: datetime,
    client_uuid: uuid.UUID | str | None,
    source: str,
    unusual_confirmed: bool = True,
) -> tuple[Observation, GradeEvaluation]:
    reason = _clean_reason(reason)
    try:
        client_uuid = uuid.UUID(str(client_uuid)) if client_uuid else uuid.uuid4()
    except ValueError as exc:
        raise ValidationError({"client_uuid": ["must be a UUID"]}) from exc
    replay = Observation.objects.filter(client_uuid=client_uuid).first()
    if replay is not None:
        if (
            replay.supersedes_id == original.pk
            and replay.status == status
            and replay.recorded_by_id == user.pk
        ):
            evaluation = replay.evaluations.order_by("-evaluated_at", "-id").first()
            return replay, evaluation  # a double tap on "save correction": nothing new is stored
        raise ObservationConflict("This form was already used for another correction. Reload and try again.")
    try:
        with transaction.atomic(durable=True):
            infusion = _lock_infusion(original.infusion)
            row, evaluation = _correct_locked(
                infusion=infusion,
                original=original,
                user=user,
                reason=reason,
                status=status,
                payload=payload,
                observed_at=observed_at,
                client_uuid=client_uuid,
                source=source,
                unusual_confirmed=unusual_confirmed,
            )
    except IntegrityError as exc:
        winner = Observation.objects.filter(supersedes_id=original.pk).select_related("recorded_by").first()
        if winner is not None:
            raise ObservationConflict(_conflict_text(winner), existing=winner) from exc
        if Observation.objects.filter(client_uuid=client_uuid).exists():
            raise ObservationConflict("This correction was already submitted.") from exc
        raise
    return row, evaluation


def _correct_locked(
    *,
    infusion: Infusion,
    original: Observation,
    user,
    reason: str,
    status: str,
    payload: dict,
    observed_at: datetime,
    client_uuid: uuid.UUID,
    source: str,
    unusual_confirmed: bool = True,
) -> tuple[Observation, GradeEvaluation]:
    """The correction itself, inside the caller's transaction with ``infusion`` locked."""
    _refuse_if_closed(infusion, kind=original.kind, payloads=(original.payload, payload))
    # Both the original's and the new payload must be within the user's rights
    # (a nurse can neither forge nor void a physician-only event).
    _check_capabilities(
        user=user,
        infusion=infusion,
        kind=original.kind,
        payload=payload,
        capability="observation.amend",
        previous=original.payload,
    )
    current = Observation.objects.filter(pk=original.pk).select_related("superseded_by").first()
    if current is None:
        raise ValidationError({"original": ["observation not found"]})
    _raise_if_already_corrected(current)
    if status == ObservationStatus.AMENDED:
        _check_time(infusion=infusion, observed_at=observed_at, now=timezone.now())
        t_hours = infusion.hours_after(observed_at)
        parsed = _parse(
            kind=original.kind, payload=payload, t_hours=t_hours, unusual_confirmed=unusual_confirmed
        )
    else:
        parsed = None
    row = Observation.objects.create(
        completes_check=_completes_check(infusion, parsed),
        infusion=infusion,
        kind=original.kind,
        payload=payload,
        observed_at=observed_at,
        recorded_at=timezone.now(),
        recorded_by=user,
        status=status,
        supersedes=current,
        reason=reason,
        client_uuid=client_uuid,
        source=source,
    )
    return row, _grade_and_hand_off(infusion=infusion, observation=row, parsed=parsed)


def _conflict_text(winner: Observation) -> str:
    what = "marked entered-in-error" if winner.status == ObservationStatus.ENTERED_IN_ERROR else "amended"
    when = wording.moment(winner.recorded_at, _team_zone(winner.infusion_id))  # "2 Dec 14:05 CET"
    return (
        f"This observation was already {what} by {wording.person(winner.recorded_by)} at {when} "
        f"(reason: {winner.reason}). Review the current value before correcting it again."
    )


def _raise_if_already_corrected(obs: Observation) -> None:
    if obs.status == ObservationStatus.ENTERED_IN_ERROR:
        raise ObservationConflict("This row is an entered-in-error marker; it cannot be corrected.")
    winner = Observation.objects.filter(supersedes_id=obs.pk).select_related("recorded_by").first()
    if winner is not None:
        raise ObservationConflict(_conflict_text(winner), existing=winner)


def observation_amend(
    *,
    original: Observation,
    payload: dict,
    reason: str,
    user,
    observed_at: datetime | str | None = None,
    client_uuid: uuid.UUID | str | None = None,
    source: str = ObservationSource.TABLET,
    unusual_confirmed: bool = True,
) -> tuple[Observation, GradeEvaluation]:
    """Correct ``original`` with a new row (status ``amended``, ``supersedes`` = original) and re-grade.
    ``unusual_confirmed=False``: unusual values raise UnusualValues (the tablet asks first)."""
    return _correct(
        original=original,
        user=user,
        reason=reason,
        status=ObservationStatus.AMENDED,
        payload=payload,
        observed_at=original.observed_at
        if observed_at is None
        else _aware_time(observed_at, original.infusion_id),
        client_uuid=client_uuid,
        source=source,
        unusual_confirmed=unusual_confirmed,
    )


def observation_mark_entered_in_error(
    *,
    original: Observation,
    reason: str,
    user,
    client_uuid: uuid.UUID | str | None = None,
    source: str = ObservationSource.TABLET,
) -> tuple[Observation, GradeEvaluation]:
    """Void ``original`` (it stays visible, marked; grading no longer uses it) and re-grade."""
    return _correct(
        original=original,
        user=user,
        reason=reason,
        status=ObservationStatus.ENTERED_IN_ERROR,
        payload=dict(original.payload),
        observed_at=original.observed_at,
        client_uuid=client_uuid,
        source=source,
    )


@dataclass(frozen=True)
class ObservationWrite:
    """One write of :func:`observations_write_all`: a new observation (``corrects`` None), or a
    correction (``status`` amended or entered_in_error) of the row ``corrects``."""

    infusion_id: int
    kind: str
    payload: dict
    observed_at: datetime
    client_uuid: uuid.UUID
    corrects: Observation | None = None
    status: str = ObservationStatus.FINAL
    reason: str = ""


class WriteFailed(Exception):
    """Write number ``index`` of :func:`observations_write_all` failed with ``error`` (a
    ValidationError, PermissionDenied or ObservationConflict); nothing of the call was stored."""

    def __init__(self, index: int | None, error: Exception):
        super().__init__(str(error))
        self.index = index
        self.error = error


def observations_write_all(
    *,
    writes: Sequence[ObservationWrite],
    user,
    source: str,
    within: InfusionScope | None = None,
    on_stored: Callable[[int, Observation, bool], None] | None = None,
) -> list[tuple[Observation, GradeEvaluation | None, bool]]:
    """Every write in one durable transaction, all stored or none (a FHIR transaction Bundle, E-1).

    Each write runs the same steps as :func:`observation_record` / :func:`observation_amend` /
    :func:`observation_mark_entered_in_error` (lock, capability, time window, the core's
    validation, the grade, alerting after commit), in order.  A write whose client UUID is already
    stored with the same content is a no-op (``created`` False).  ``on_stored(index, row, created)``
    runs inside the transaction after each write (the caller's own rows, e.g. where an import came
    from, commit or roll back with the observations).  Raises :class:`WriteFailed`."""
    results: list[tuple[Observation, GradeEvaluation | None, bool]] = []
    index: int | None = None
    try:
        with transaction.atomic(durable=True):
            for position, write in enumerate(writes):
                index = position
                row, evaluation, created = _write_locked(write, user=user, source=source, within=within)
                if on_stored is not None:
                    on_stored(position, row, created)
                results.append((row, evaluation, created))
    except (ValidationError, PermissionDenied, ObservationConflict) as exc:
        raise WriteFailed(index, exc) from exc
    except IntegrityError as exc:
        raise WriteFailed(
            index, ObservationConflict("The record changed at the same time; send the bundle again.")
        ) from exc
    return results


def _write_locked(
    write: ObservationWrite, *, user, source: str, within: InfusionScope | None
) -> tuple[Observation, GradeEvaluation | None, bool]:
    locked = _lock_infusion(write.infusion_id, within=within, client_uuid=write.client_uuid)
    if locked.replay_of is not None:
        existing = Observation.objects.get(pk=locked.replay_of)
        if write.corrects is None:
            return _replay(
                existing,
                infusion_id=write.infusion_id,
                kind=write.kind,
                payload=write.payload,
                observed_at=write.observed_at,
            )
        if existing.status != write.status or existing.infusion_id != locked.pk:
            raise ObservationConflict("This correction's identifier was already used for another one.")
        return existing, existing.evaluations.order_by("-evaluated_at", "-id").first(), False
    if write.corrects is None:
        obs, evaluation = _record_locked(
            locked=locked,
            kind=write.kind,
            payload=write.payload,
            observed_at=write.observed_at,
            recorded_by=user,
            client_uuid=write.client_uuid,
            source=source,
        )
        return obs, evaluation, True
    if write.corrects.infusion_id != locked.pk:
        raise ValidationError({"infusion": ["A correction must stay on the infusion of what it corrects."]})
    row, evaluation = _correct_locked(
        infusion=locked,
        original=write.corrects,
        user=user,
        reason=_clean_reason(write.reason),
        status=write.status,
        payload=write.payload,
        observed_at=write.observed_at,
        client_uuid=write.client_uuid,
        source=source,
    )
    return row, evaluation, True


def infusion_close(*, infusion: Infusion, closed_at: datetime | str, close_reason: str, user) -> Infusion:
    """Close monitoring of ``infusion``: the row is saved through its history (who closed it and why)
    and, after the commit, ``handoff.course_closed`` tells the alerting layer to stop the course's alerts.

    Raises ObservationConflict when it is already closed, ValidationError for a time before the
    infusion or in the future (naming ``closed_at``)."""
    if close_reason not in CloseReason.values:
        raise ValidationError(
            {"close_reason": [f"{close_reason!r} is not one of: {', '.join(CloseReason.values)}"]}
        )
    closed_at = _aware_time(closed_at, infusion, "closed_at")
    with transaction.atomic(durable=True):
        locked = Infusion.objects.select_for_update().get(pk=infusion.pk)
        if not can(user, "patient.manage", locked.care_team_id):
            raise PermissionDenied("Your role does not allow patient.manage for this patient")
        if locked.status != InfusionStatus.ACTIVE:
            raise ObservationConflict("This infusion is already closed.")
        if closed_at < locked.infused_at:
            raise ValidationError({"closed_at": ["Cannot be before the infusion time."]})
        if closed_at > timezone.now() + CLOCK_SKEW:
            raise ValidationError({"closed_at": ["Cannot be in the future."]})
        locked.status = InfusionStatus.CLOSED
        locked.closed_at = closed_at
        locked.close_reason = close_reason
        # django-simple-history: the history row names who closed it and why.
        locked._history_user = user
        locked._change_reason = f"monitoring closed: {CloseReason(close_reason).label}"
        locked.save(update_fields=["status", "closed_at", "close_reason"])
        transaction.on_commit(lambda: handoff.course_closed(locked.pk), robust=True)
    return locked
