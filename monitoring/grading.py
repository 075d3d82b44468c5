"""Bridge from the database to the clinical core: build a ``carttrack`` case for an infusion, run
:func:`carttrack.evaluate` and store the verdict as a :class:`~monitoring.models.GradeEvaluation`.

No clinical rule lives here: this module only translates rows into the case-file format of
CASES.md (the same format the core's command line reads), so a stored grade can be re-derived
outside Django from ``GradeEvaluation.settings`` and the observations.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

import carttrack

from .models import CloseReason, DecisionPolicy, GradeEvaluation, Infusion, Observation

#: Settings key names of the product's tocilizumab dose below 30 kg (DECISIONS A-12), tried in order.
_TOCI_UNDER_30_KEYS = ("tocilizumab_low_weight_mg_per_kg",)


def jsonable(value: Any) -> Any:
    """Dataclasses, enums, tuples, Decimals and datetimes as plain JSON values."""
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


def settings_for(infusion: Infusion) -> carttrack.DecisionSettings:
    """DECISIONS.md defaults + the newest site policy + the product's tocilizumab rule under 30 kg."""
    data = dict(carttrack.DecisionSettings().to_dict())
    policy = DecisionPolicy.objects.order_by("-created_at", "-id").first()
    if policy and policy.overrides:
        data.update(policy.overrides)
    for key in _TOCI_UNDER_30_KEYS:
        if key in data:
            data[key] = float(infusion.product.tocilizumab_mg_per_kg_under_30kg)
            break
    return carttrack.DecisionSettings.from_dict(data)


def _drivers(result: Any) -> list[dict[str, Any]]:
    return [jsonable(d) for d in (getattr(result, "drivers", None) or ())]


def evaluate_infusion(*, infusion: Infusion, triggered_by: Observation | None = None) -> GradeEvaluation:
    """Grade ``infusion`` from its current observations and store the evaluation (call inside the
    caller's transaction, after the triggering observation is saved)."""
    case_data = case_dict(infusion)
    case = carttrack.parse_case(case_data)
    settings = settings_for(infusion)
    ev = carttrack.evaluate(case, settings)
    icaht = ev.icaht
    return GradeEvaluation.objects.create(
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
        settings=jsonable(settings.to_dict()),
        result=jsonable(ev.to_dict()),
        observation_count=len(case_data["observations"]),
    )
