"""Small builders for clinical-core tests."""

from __future__ import annotations

from typing import Any

import carttrack

ADULT = {
    "age_years": 50,
    "weight_kg": 70,
    "indication": "relapsed LBCL",
    "product": "axicabtagene ciloleucel",
}
SLE = {
    "age_years": 28,
    "weight_kg": 62,
    "indication": "refractory SLE with lupus nephritis",
    "product": "CD19",
}
NORMAL_ICE = {"orientation": 4, "naming": 3, "commands": 1, "writing": 1, "attention": 1}


def vitals(t: float, **kw: Any) -> dict[str, Any]:
    """A full vitals set (normal values unless given). Vasopressors are not recorded unless given."""
    base: dict[str, Any] = {"kind": "vitals", "t_hours": t, "sbp": 120, "dbp": 75, "o2_device": "room_air"}
    if "temp_f" not in kw:
        base["temp_c"] = 37.0
    if "sbp" in kw and "dbp" not in kw and kw["sbp"] is not None:
        base["dbp"] = min(75, round(kw["sbp"] * 0.6))  # a diastolic below the systolic given
    base.update(kw)
    return base


def neuro(t: float, **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "kind": "neuro",
        "t_hours": t,
        "ice": dict(NORMAL_ICE),
        "consciousness": "alert",
        "seizure": "none",
        "motor": "none",
        "icp_edema": "none",
    }
    base.update(kw)
    return base


def med(t: float, drug: str, dose: float | None = None, **kw: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"kind": "medication", "t_hours": t, "drug": drug}
    if dose is not None:
        d["dose_mg"] = dose
    d.update(kw)
    return d


def lab(t: float, **kw: Any) -> dict[str, Any]:
    return {"kind": "lab", "t_hours": t, **kw}


def case(
    observations: list[dict[str, Any]], patient: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {"id": "T", "patient": dict(patient or ADULT), "observations": observations, **extra}


def run(
    observations: list[dict[str, Any]],
    patient: dict[str, Any] | None = None,
    settings: carttrack.DecisionSettings | None = None,
    **extra: Any,
) -> carttrack.Evaluation:
    return carttrack.evaluate(carttrack.parse_case(case(observations, patient, **extra)), settings)


def codes(ev: carttrack.Evaluation) -> set[str]:
    return {s.code for s in ev.suggestions}


def withheld(ev: carttrack.Evaluation) -> dict[str, str | None]:
    return {s.code: s.withheld_reason for s in ev.withheld}


def anc_course(
    values_by_day: dict[int, float], extra: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    return [lab(24.0 * d + 6, anc_per_uL=v) for d, v in sorted(values_by_day.items())] + (extra or [])
