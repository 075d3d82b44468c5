"""Bedside checks: how often each is due (MON-4…MON-6, MON-8) and what a complete check must record.

Django's schedule (monitoring/schedules.py) and the staleness of standing values (A-14, CRS-24;
B-6, ICANS-10) read the same table. A product's monitoring template may lengthen the monitoring window
(C-5); the intervals below are the defaults it starts from.
"""

from __future__ import annotations

from .crs_components import FEVER_C
from .icans import uses_capd
from .observations import Lab, Neuro, Observation, PatientInfo, Vitals
from .settings import DecisionSettings
from .vocabulary import HIGH_FLOW_OR_MASK_DEVICES, Consciousness, O2Device

# ---- intervals (hours)
VITALS_ROUTINE_HOURS = 4.0  # MON-4: vitals at least q4h inpatient [Brudno 2016]
VITALS_FEBRILE_TACHYCARDIC_HOURS = 2.0  # MON-4, MON-5: q2h if febrile and tachycardic [Brudno 2016]
# MON-5: continuous telemetry and pulse oximetry from CRS grade 2 [Santomasso 2021] p4. Charting the
# monitored values hourly is our reading of "continuous" for the chart and for staleness.
VITALS_CRS_G2_HOURS = 1.0
CRS_CONTINUOUS_MONITORING_GRADE = 2
TACHYCARDIA_HR_ABOVE = 100.0  # MON-4, MON-5: "tachycardic" [Brudno 2016]: heart rate above 100/min (adult)
NEURO_ROUTINE_HOURS = 12.0  # MON-6: ICE/CAPD at least twice daily [Santomasso 2021] p6
NEURO_ICANS_HOURS = 8.0  # MON-6: many centres q8h [ASH-SAP] Table 2; used while ICANS ≥ 1
LABS_HOURS = 24.0  # MON-8: daily labs days 0–14 (project decision)

CHECK_VITALS = "vitals"
CHECK_NEURO = "neuro"
CHECK_LABS = "labs"


def vitals_interval_hours(crs_grade: int | None, *, febrile_tachycardic: bool = False) -> float:
    """Hours between vitals checks for the current CRS grade (MON-5)."""
    if crs_grade is not None and crs_grade >= CRS_CONTINUOUS_MONITORING_GRADE:
        return VITALS_CRS_G2_HOURS
    return VITALS_FEBRILE_TACHYCARDIC_HOURS if febrile_tachycardic else VITALS_ROUTINE_HOURS


def neuro_interval_hours(icans_grade: int | None) -> float:
    """Hours between ICE/CAPD checks for the current ICANS grade (MON-5, MON-6)."""
    return NEURO_ICANS_HOURS if icans_grade is not None and icans_grade >= 1 else NEURO_ROUTINE_HOURS


def is_febrile_tachycardic(temp_c: float | None, hr: float | None) -> bool:
    """Febrile (≥ 38.0 °C, unrounded, CRS-1) and tachycardic (HR > 100/min): vitals q2h."""
    return temp_c is not None and hr is not None and temp_c >= FEVER_C and hr > TACHYCARDIA_HR_ABOVE


# ---- what a complete check records
# MON-15 lists the vitals of a check: T, HR, BP, RR, SpO2, O2 device/flow.
COMPLETE_VITALS_FIELDS: tuple[str, ...] = ("temperature", "hr", "sbp", "dbp", "rr", "spo2", "o2_device")
# Devices whose flow is part of the check (MON-15 "O2 device/flow"); positive pressure and blow-by
# are charted by device.
FLOW_CHECKED_DEVICES = frozenset({O2Device.NASAL_CANNULA}) | HIGH_FLOW_OR_MASK_DEVICES
# MON-6, MON-15: ICE (or CAPD) + motor exam; with the ICANS domains a bedside check can assess
# (consciousness, seizure). Raised ICP/oedema needs imaging or fundoscopy and is not a bedside item.
COMPLETE_NEURO_FIELDS: tuple[str, ...] = ("ice_or_capd", "consciousness", "seizure", "motor")


def missing_for_complete_check(
    obs: Observation, patient: PatientInfo, settings: DecisionSettings | None = None
) -> tuple[str, ...]:
    """What ``obs`` lacks to count as a complete check of its kind (empty: complete).

    Vitals: ``temperature`` (temp_c or temp_f), ``hr``, ``sbp``, ``dbp``, ``rr``, ``spo2``,
    ``o2_device``, and ``o2_flow_l_min`` for a cannula, HFNC or mask. Neuro: ``ice`` (patients ≥ 12 y)
    or ``capd_items`` (< 12 y or developmental delay, B-4) given as a score, or the patient recorded as
    sedated / consciousness not assessable (ICANS-7); ``consciousness``, ``seizure``, ``motor``.
    A lab record completes the labs check by itself. Other kinds are not checks: ()."""
    if isinstance(obs, Vitals):
        return _vitals_missing(obs)
    if isinstance(obs, Neuro):
        return _neuro_missing(obs, patient, settings or DecisionSettings())
    return ()


def check_of(obs: Observation) -> str | None:
    """The check a record of this kind can complete: "vitals", "neuro", "labs", or None."""
    if isinstance(obs, Vitals):
        return CHECK_VITALS
    if isinstance(obs, Neuro):
        return CHECK_NEURO
    if isinstance(obs, Lab):
        return CHECK_LABS
    return None


def _vitals_missing(v: Vitals) -> tuple[str, ...]:
    present = {
        "temperature": v.temp_c is not None,
        "hr": v.hr is not None,
        "sbp": v.sbp is not None,
        "dbp": v.dbp is not None,
        "rr": v.rr is not None,
        "spo2": v.spo2 is not None,
        "o2_device": v.o2_device is not None,
    }
    missing = [name for name in COMPLETE_VITALS_FIELDS if not present[name]]
    if v.o2_device in FLOW_CHECKED_DEVICES and v.o2_flow_l_min is None:
        missing.append("o2_flow_l_min")
    return tuple(missing)


def _neuro_missing(n: Neuro, patient: PatientInfo, settings: DecisionSettings) -> tuple[str, ...]:
    from_capd = uses_capd(patient, settings)
    unassessable = n.sedated or n.consciousness is Consciousness.NOT_ASSESSABLE
    missing: list[str] = []
    scored = n.capd_items is not None if from_capd else n.ice is not None
    if not scored and not unassessable:
        missing.append("capd_items" if from_capd else "ice")
    for name in ("consciousness", "seizure", "motor"):
        if getattr(n, name) is None:
            missing.append(name)
    return tuple(missing)
