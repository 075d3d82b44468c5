"""Builders of the demo's planned observations: each returns ``(hours after infusion, kind, payload,
who records it)`` in the case-file vocabulary, normal unless told otherwise."""

from __future__ import annotations

from typing import Any


def vit(
    t,
    temp=36.8,
    hr=78,
    sbp=122,
    dbp=74,
    rr=14,
    spo2=98,
    device="room_air",
    flow=None,
    pressors=(),
    bolus=False,
):
    p: dict[str, Any] = {
        "temp_c": temp,
        "hr": hr,
        "sbp": sbp,
        "dbp": dbp,
        "rr": rr,
        "spo2": spo2,
        "o2_device": device,
        "vasopressors": list(pressors),
    }
    if flow is not None:
        p["o2_flow_l_min"] = flow
    if bolus:
        p["fluid_bolus_for_hypotension"] = True
    return (t, "vitals", p, "nurse")


def ice(t, orientation=4, naming=3, commands=1, writing=1, attention=1, consciousness="alert", **extra):
    p = {
        "ice": {
            "orientation": orientation,
            "naming": naming,
            "commands": commands,
            "writing": writing,
            "attention": attention,
        },
        "consciousness": consciousness,
        "seizure": "none",
        "motor": "none",
        "icp_edema": "none",
        **extra,
    }
    return (t, "neuro", p, "nurse")


def capd(t, items, consciousness="alert"):
    return (
        t,
        "neuro",
        {
            "capd_items": list(items),
            "consciousness": consciousness,
            "seizure": "none",
            "motor": "none",
            "icp_edema": "none",
        },
        "nurse",
    )


def lab(t, **values):
    return (t, "lab", values, "nurse")


def med(t, drug, dose, **extra):
    return (t, "medication", {"drug": drug, "dose_mg": dose, **extra}, "nurse")


def routine(start: float, end: float, *, every: float = 4, **kw) -> list:
    out, t = [], start
    while t <= end:
        out.append(vit(t, **kw))
        t += every
    return out


def checks(start: float, end: float, *, every: float = 12) -> list:
    out, t = [], start
    while t <= end:
        out.append(ice(t))
        t += every
    return out


def daily_labs(start_day: int, end_day: int, **values) -> list:
    return [lab(d * 24 + 6, **values) for d in range(start_day, end_day + 1)]
