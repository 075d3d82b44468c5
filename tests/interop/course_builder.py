"""A short CRS course recorded the way a nurse does (``monitoring.services``): fever, hypotension on
norepinephrine (CRS 3), tocilizumab, then recovery (CRS 0)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from monitoring import services

#: (hours ago, kind, payload)
COURSE = (
    (
        20.0,
        "vitals",
        {"temp_c": 37.1, "hr": 82, "sbp": 124, "dbp": 76, "rr": 14, "spo2": 98, "o2_device": "room_air"},
    ),
    (16.0, "vitals", {"temp_c": 38.9, "hr": 112}),
    (15.5, "lab", {"crp_mg_L": 85, "ferritin_ng_mL": 1200, "alt_U_L": 40, "alt_uln_U_L": 45}),
    (15.0, "medication", {"drug": "tocilizumab", "dose_mg": 496, "route": "IV"}),
    (12.0, "vitals", {"sbp": 84, "dbp": 50}),
    (11.5, "vitals", {"vasopressors": ["norepinephrine"]}),
    (
        11.0,
        "neuro",
        {
            "ice": {"orientation": 4, "naming": 3, "commands": 1, "writing": 1, "attention": 1},
            "consciousness": "alert",
        },
    ),
    (10.0, "medication", {"drug": "dexamethasone", "dose_mg": 10, "route": "IV"}),
    (4.0, "vitals", {"vasopressors": [], "sbp": 118, "dbp": 72, "temp_c": 37.0}),
)


def record_course(infusion, nurse, *, course=COURSE, after_infusion: bool = False) -> dict:
    """Record ``course`` (hours ago, or with ``after_infusion`` hours after the infusion); the rows
    by their hour."""
    now = timezone.now()
    rows = {}
    for hours, kind, payload in course:
        at = infusion.infused_at + timedelta(hours=hours) if after_infusion else now - timedelta(hours=hours)
        rows[hours], _evaluation, _created = services.observation_record(
            infusion=infusion, kind=kind, payload=payload, observed_at=at, recorded_by=nurse
        )
    return rows
