"""Urgent findings: what needs a physician now whatever the grades (A-15, ALERT-11; B-9, ALERT-12).

* Hypoxaemia (A-15): the standing SpO2 below 90 % (setting) — "hypoxaemia: SpO2 86 % on room air —
  assess oxygen". The CRS grade still follows the oxygen given (ASTCT grades by support).
* Intracranial haemorrhage (B-9): not an ICANS grade but its own finding — "intracranial haemorrhage:
  grade by CTCAE, not ICANS" — with neuro consult and neuroimaging, and a transfusion-threshold note
  when the platelet count at the time is below 50 ×10⁹/L (setting).
Each finding stands while its record stands (a later SpO2, a neuro record saying no haemorrhage)."""

from __future__ import annotations

from collections.abc import Sequence

from .crs_components import oxygen_text
from .numbers import against, plain
from .observations import Neuro, Vitals
from .results import FINDING_HYPOXAEMIA, FINDING_INTRACRANIAL_HAEMORRHAGE, Driver, UrgentFinding
from .settings import DecisionSettings

# B-9 "a platelet count … at the time": a count within a day of the haemorrhage record (labs are
# drawn daily, MON-8).
ICH_PLATELET_WINDOW_HOURS = 24.0
HYPOXAEMIA_SUGGESTIONS = ("notify_physician_urgent",)
ICH_SUGGESTIONS = ("notify_physician_urgent", "neuro_consult", "neuroimaging")  # B-9

Series = Sequence[tuple[float, float, int | None]]


def _t(t: float) -> str:
    return f"t={t:+.1f} h"


def hypoxaemia(
    spo2_record: Vitals | None, oxygen: Vitals | None, s: DecisionSettings
) -> UrgentFinding | None:
    """A-15 from the record of the standing SpO2 and the standing oxygen support."""
    if spo2_record is None or spo2_record.spo2 is None:
        return None
    thr = s.hypoxaemia_spo2_below_percent
    spo2 = spo2_record.spo2
    if spo2 >= thr:
        return None
    support = oxygen_text(oxygen) if oxygen is not None else "oxygen support not recorded"
    text = f"hypoxaemia: SpO2 {against(spo2, thr)} % on {support} — assess oxygen"
    t = spo2_record.t_hours
    driver = Driver(
        f"A-15 SpO2 < {plain(thr)} %",
        spo2_record.index,
        t,
        f"SpO2 {against(spo2, thr)} % < {plain(thr)} % at {_t(t)} on {support} (A-15)",
    )
    return UrgentFinding(
        FINDING_HYPOXAEMIA,
        text,
        t,
        spo2_record.index,
        (driver,),
        HYPOXAEMIA_SUGGESTIONS,
        (),
        "ALERT-11, A-15",
    )


def intracranial_haemorrhage(
    ich: Neuro | None, platelets: Series, s: DecisionSettings
) -> UrgentFinding | None:
    """B-9 from the standing neuro record that recorded an intracranial haemorrhage."""
    if ich is None:
        return None
    t = ich.t_hours
    driver = Driver(
        "B-9 intracranial haemorrhage (ICANS-6)",
        ich.index,
        t,
        f"intracranial haemorrhage recorded at {_t(t)}: graded by CTCAE, excluded from ICANS (B-9)",
    )
    thr = s.ich_platelet_transfusion_below_10e9_l
    near = [p for p in platelets if abs(p[0] - t) <= ICH_PLATELET_WINDOW_HOURS]
    notes: list[str] = []
    drivers = [driver]
    if near:
        pt, value, index = min(near, key=lambda p: (abs(p[0] - t), p[0] > t))
        if value < thr:
            notes.append(
                f"platelets {against(value, thr)} ×10⁹/L at {_t(pt)}: below the transfusion threshold of "
                f"{plain(thr)} ×10⁹/L for intracranial haemorrhage (B-9)"
            )
            drivers.append(Driver(f"B-9 platelets < {plain(thr)} ×10⁹/L", index, pt, notes[-1]))
    else:
        notes.append(
            f"no platelet count within {plain(ICH_PLATELET_WINDOW_HOURS)} h: check platelets "
            f"(transfusion threshold {plain(thr)} ×10⁹/L for intracranial haemorrhage, B-9)"
        )
    return UrgentFinding(
        FINDING_INTRACRANIAL_HAEMORRHAGE,
        "intracranial haemorrhage: grade by CTCAE, not ICANS",
        t,
        ich.index,
        tuple(drivers),
        ICH_SUGGESTIONS,
        tuple(notes),
        "ALERT-12, B-9",
    )
