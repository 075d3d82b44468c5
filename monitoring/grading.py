"""Bridge from the database to the clinical core: build a ``carttrack`` case for an infusion, run
:func:`carttrack.evaluate` and store the verdict as a :class:`~monitoring.models.GradeEvaluation`.

No clinical rule lives here: this module only translates rows into the case-file format
(CASE-1…CASE-7, the same format the core's command line reads), so a stored grade can be re-derived
outside Django from ``GradeEvaluation.settings`` and the observations.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import logging
import threading
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

import carttrack

from . import write_path
from .course_cache import COURSES, Course
from .models import (
    CloseReason,
    DecisionPolicy,
    GradeEvaluation,
    Infusion,
    Observation,
    ObservationStatus,
)

logger = logging.getLogger(__name__)

#: Settings key names of the product's tocilizumab dose below 30 kg (A-12), tried in order.
_TOCI_UNDER_30_KEYS = ("tocilizumab_low_weight_mg_per_kg",)


#: Values already plain JSON (exact types: an IntEnum or StrEnum member is converted below).
_PLAIN = frozenset({str, int, float, bool, type(None)})


def jsonable(value: Any) -> Any:
    """Dataclasses, enums, tuples, Decimals and datetimes as plain JSON values."""
    if type(value) in _PLAIN:  # most values of a result: answered before the slower checks
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def patient_dict(infusion: Infusion) -> dict[str, Any]:
    """The case file's ``patient`` block: exact age at infusion, weight, sex, indication label, product."""
    patient = infusion.patient
    data: dict[str, Any] = {
        "age_years": patient.age_years_at(infusion.infused_at),
        "weight_kg": float(patient.weight_kg),
        "indication": patient.get_indication_display(),
        "product": infusion.product.name,
        "developmental_delay": bool(patient.developmental_delay),
    }
    if patient.sex in ("F", "M"):
        data["sex"] = patient.sex
    if patient.home_o2_l_min is not None and _patient_info_accepts("home_o2_l_min"):
        data["home_o2_l_min"] = float(patient.home_o2_l_min)
    return data


def _patient_info_accepts(name: str) -> bool:
    try:
        return name in {f.name for f in dataclasses.fields(carttrack.PatientInfo)}
    except TypeError:
        return False


def current_observation_dicts(infusion: Infusion) -> list[dict[str, Any]]:
    """The infusion's current observations as case-file dicts (payload + ``kind`` + ``t_hours``),
    read as plain values: grading runs on every save and needs only these three fields."""
    rows = (
        Observation.objects.current()
        .filter(infusion=infusion)
        .order_by("observed_at", "id")
        .values_list("payload", "kind", "observed_at")
    )
    return [
        {**payload, "kind": kind, "t_hours": infusion.hours_after(observed_at)}
        for payload, kind, observed_at in rows
    ]


def follow_up_dict(infusion: Infusion) -> dict[str, float] | None:
    """Censoring from the infusion's close reason (windows such as early ICAHT close there)."""
    if infusion.closed_at is None:
        return None
    hours = infusion.hours_after(infusion.closed_at)
    key = {
        CloseReason.DEATH: "death_hours",
        CloseReason.PROGRESSION: "progression_hours",
        CloseReason.NEXT_THERAPY: "next_therapy_hours",
    }.get(infusion.close_reason, "last_follow_up_hours")
    return {key: hours}


def case_dict(infusion: Infusion) -> dict[str, Any]:
    """The infusion as a ``carttrack-case/1`` case (current observations only)."""
    case: dict[str, Any] = {
        "id": f"infusion-{infusion.pk}",
        "patient": patient_dict(infusion),
        "observations": current_observation_dicts(infusion),
    }
    follow_up = follow_up_dict(infusion)
    if follow_up:
        case["follow_up"] = follow_up
    return case


#: Decision settings by (policy id, product's tocilizumab mg/kg under 30 kg): policies are versioned
#: by row (a change is a new row, never an edit), so a policy id always means the same settings.
_SETTINGS: dict[tuple[int | None, float], tuple[carttrack.DecisionSettings, dict[str, Any]]] = {}
_SETTINGS_LOCK = threading.Lock()


def latest_policy_id() -> int | None:
    return DecisionPolicy.objects.order_by("-created_at", "-id").values_list("id", flat=True).first()


def _settings_and_json(infusion: Infusion, policy_id: int | None) -> tuple[carttrack.DecisionSettings, dict]:
    key = (policy_id, float(infusion.product.tocilizumab_mg_per_kg_under_30kg))
    hit = _SETTINGS.get(key)
    if hit is not None:
        return hit
    data = dict(carttrack.DecisionSettings().to_dict())
    overrides = (
        DecisionPolicy.objects.filter(pk=policy_id).values_list("overrides", flat=True).first()
        if policy_id is not None
        else None
    )
    if overrides:
        data.update(overrides)
    for name in _TOCI_UNDER_30_KEYS:
        if name in data:
            data[name] = key[1]
            break
    settings = carttrack.DecisionSettings.from_dict(data)
    value = (settings, jsonable(settings.to_dict()))
    with _SETTINGS_LOCK:
        if len(_SETTINGS) > 256:  # policies change rarely; this only guards against unbounded growth
            _SETTINGS.clear()
        _SETTINGS[key] = value
    return value


def settings_for(infusion: Infusion) -> carttrack.DecisionSettings:
    """The core's DecisionSettings defaults + the newest site policy + the product's tocilizumab rule
    under 30 kg."""
    return _settings_and_json(infusion, _policy_id_of(infusion))[0]


def _policy_id_of(infusion: Infusion) -> int | None:
    """The policy id annotated by ``services`` when it locked the infusion, else read now."""
    if "policy_id" in infusion.__dict__:
        return infusion.policy_id
    return latest_policy_id()


def _drivers(result: Any) -> list[dict[str, Any]]:
    return [jsonable(d) for d in (getattr(result, "drivers", None) or ())]


def evaluate_infusion(
    *,
    infusion: Infusion,
    triggered_by: Observation | None = None,
    parsed: carttrack.Observation | None = None,
) -> GradeEvaluation:
    """Grade ``infusion`` from its current observations and store the evaluation.

    Call inside the caller's transaction, with the infusion row locked, after the triggering
    observation is saved; ``parsed`` is that observation as the clinical core already parsed it.
    """
    policy_id = _policy_id_of(infusion)
    settings, settings_json = _settings_and_json(infusion, policy_id)
    patient = carttrack.parse_patient(patient_dict(infusion))
    follow_up = carttrack.parse_follow_up(follow_up_dict(infusion))
    basis = (infusion.infused_at, patient, settings, follow_up)
    known = {triggered_by.pk: parsed} if triggered_by is not None and parsed is not None else {}
    course = _course_up_to_date(infusion, COURSES.take(infusion.pk), basis, known)
    ev = course.evaluator.evaluate()
    icaht = ev.icaht
    evaluation = GradeEvaluation.objects.create(
        infusion=infusion,
        triggered_by=triggered_by,
        evaluated_at=timezone.now(),
        crs_grade=ev.crs.current,
        crs_max=ev.crs.maximum,
        icans_grade=ev.icans.current,
        icans_max=ev.icans.maximum,
        icans_incomplete=bool(getattr(ev.icans, "incomplete", False)),
        icaht_early=icaht.early,
        icaht_early_provisional=bool(icaht.early_provisional),
        icaht_late=icaht.late,
        sepsis_alert=bool(ev.sepsis_alert),
        iec_hs_screen_positive=bool(ev.iec_hs_screen_positive),
        licats_screen_positive=bool(ev.licats_screen_positive),
        suggestions=jsonable(list(ev.suggestions)),
        withheld=jsonable(list(ev.withheld)),
        drivers={
            "crs": _drivers(ev.crs),
            "icans": _drivers(ev.icans),
            "icaht": _drivers(icaht),
            "crs_notes": jsonable(list(getattr(ev.crs, "notes", ()) or ())),
            "icans_notes": jsonable(list(getattr(ev.icans, "notes", ()) or ())),
        },
        computed=jsonable(dict(ev.computed or {})),
        rule_set=str(ev.rule_set),
        decision_policy_id=policy_id,
        policy_recorded=True,
        settings=settings_json,
        result=jsonable(ev.to_dict()),
        observation_count=len(course.current),
    )
    transaction.on_commit(functools.partial(COURSES.put, infusion.pk, course))
    return evaluation


def _course_up_to_date(
    infusion: Infusion,
    course: Course | None,
    basis: tuple[Any, ...],
    known: dict[int, carttrack.Observation],
) -> Course:
    """``course`` brought up to the infusion's stored rows (read only the rows it has not seen), or a
    new course read in full when there is none, it was built for another day 0, or rows are missing.

    In a driver, ``observation_index`` is the observation's row id."""
    if course is not None and course.basis[0] != infusion.infused_at:
        course = None  # every t_hours would move
    rows = write_path.unseen_rows(infusion.pk, None if course is None else course.last_id)
    if course is not None:
        expected = rows[0][-1] if rows else Observation.objects.filter(infusion_id=infusion.pk).count()
        if course.rows + len(rows) != expected:
            logger.warning("infusion %s: cached course missed rows; reading the whole course", infusion.pk)
            return _course_up_to_date(infusion, None, basis, known)
    seen = course.rows if course else 0
    current = course.current if course else {}
    replay = course is None or course.basis != basis
    added: list[carttrack.Observation] = []
    for row_id, kind, payload, observed_at, status, supersedes_id, _total in rows:
        if supersedes_id is not None and current.pop(supersedes_id, None) is not None:
            replay = True
        if status == ObservationStatus.ENTERED_IN_ERROR:
            continue
        obs = known.get(row_id)
        if obs is None:
            obs = carttrack.parse_observation(
                {**payload, "kind": kind, "t_hours": infusion.hours_after(observed_at)}, index=row_id
            )
        else:
            obs = dataclasses.replace(obs, index=row_id)
        current[row_id] = obs
        added.append(obs)
    if replay:
        evaluator = carttrack.Evaluator(basis[1], basis[2], basis[3])
        evaluator.extend(list(current.values()))
    else:
        evaluator = course.evaluator
        for obs in added:
            evaluator.add(obs)
    return Course(
        basis=basis,
        last_id=rows[-1][0] if rows else (course.last_id if course else 0),
        rows=seen + len(rows),
        current=current,
        evaluator=evaluator,
    )
