"""Builders for follow-up tests: SLEDAI entries by the descriptors present, regimens, labs, courses."""

from __future__ import annotations

from typing import Any

import carttrack
from carttrack.followup.evaluate import evaluate_followup
from carttrack.followup.results import FollowupResult
from carttrack.followup.settings import FollowupSettings
from carttrack.followup.sledai import SLEDAI_CODES

MONTH = 730.5  # hours (8766 / 12)
SLE = {"age_years": 30, "weight_kg": 60, "sex": "F", "indication": "SLE", "product": "CD19 CAR-T"}
LN = {**SLE, "indication": "lupus nephritis"}
BASELINE_ACTIVE = ("arthritis", "rash", "low_complement", "increased_dna_binding")


def sledai(t: float, *present: str, pga: float | None = 0.2, **kw: Any) -> dict[str, Any]:
    """A SLEDAI-2K entry with every descriptor assessed: `present` true, the rest false."""
    items: dict[str, bool | None] = {code: code in present for code in SLEDAI_CODES}
    items.update(kw.pop("items", {}))
    out: dict[str, Any] = {"kind": "sledai", "t_hours": t, "items": items, **kw}
    if pga is not None:
        out["pga"] = pga
    return out


def meds(t: float, *drugs: tuple[str, float] | dict[str, Any]) -> dict[str, Any]:
    listed = [d if isinstance(d, dict) else {"drug": d[0], "mg_per_day": d[1]} for d in drugs]
    return {"kind": "medication_status", "t_hours": t, "drugs": listed}


def lab(t: float, **kw: Any) -> dict[str, Any]:
    return {"kind": "lab", "t_hours": t, **kw}


def event(t: float, name: str, **kw: Any) -> dict[str, Any]:
    return {"kind": "event", "t_hours": t, "event": name, **kw}


def baseline(pga: float = 1.8, *drugs: tuple[str, float]) -> list[dict[str, Any]]:
    regimen = drugs or (("prednisolone", 10.0), ("hydroxychloroquine", 400.0))
    return [sledai(-120, *BASELINE_ACTIVE, pga=pga), meds(-120, *regimen)]


def case(
    observations: list[dict[str, Any]], patient: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {"id": "T", "patient": dict(patient or SLE), "observations": observations, **extra}


def followup(
    observations: list[dict[str, Any]],
    patient: dict[str, Any] | None = None,
    settings: FollowupSettings | None = None,
    **kw: Any,
) -> FollowupResult:
    parsed = carttrack.parse_case(case(observations, patient))
    result = evaluate_followup(
        parsed.patient, parsed.observations, settings=settings or FollowupSettings(), **kw
    )
    assert result is not None
    return result


def out(
    observations: list[dict[str, Any]], patient: dict[str, Any] | None = None, **kw: Any
) -> dict[str, Any]:
    return followup(observations, patient, **kw).case_output()
