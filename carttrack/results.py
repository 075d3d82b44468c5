"""Result types: every result carries its drivers (criterion + observation that met it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Driver:
    criterion: str
    observation_index: int | None
    t_hours: float | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion,
            "observation_index": self.observation_index,
            "t_hours": self.t_hours,
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class Suggestion:
    code: str
    text: str
    dose_mg: float | None
    dose_text: str | None
    source: str
    withheld: bool = False
    withheld_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "text": self.text,
            "dose_mg": self.dose_mg,
            "dose_text": self.dose_text,
            "source": self.source,
            "withheld": self.withheld,
            "withheld_reason": self.withheld_reason,
        }


@dataclass(frozen=True, slots=True)
class TIcahtResult:
    """T-ICAHT (thrombocytopenia) grades, computed in ``t_icaht.py``."""

    early: int | None
    early_provisional: bool
    late: int | None
    late_provisional: bool
    drivers: tuple[Driver, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "early": self.early,
            "early_provisional": self.early_provisional,
            "late": self.late,
            "late_provisional": self.late_provisional,
            "drivers": [d.to_dict() for d in self.drivers],
        }


NO_T_ICAHT = TIcahtResult(None, False, None, False, ())


@dataclass(frozen=True, slots=True)
class StandingValue:
    """The last recorded value of one grading domain, which stands until re-assessed (A-14,
    CRS-24 for the CRS components; B-6, ICANS-10 for the ICANS domains).

    CRS domains: ``temperature``, ``blood_pressure`` (hypotension and fluid bolus), ``vasopressors``,
    ``oxygen`` (device, flow, FiO2, for comfort). ICANS domains: ``encephalopathy`` (ICE/CAPD),
    ``consciousness``, ``seizure``, ``motor``, ``icp``. ``stale``: older than ``stale_after_hours``
    at the evaluation (the vitals interval of the current CRS grade, MON-5; 24 h for ICANS, B-6)."""

    domain: str
    text: str
    t_hours: float
    observation_index: int | None
    age_hours: float
    stale_after_hours: float
    stale: bool

    def stale_at(self, t_hours: float) -> bool:
        """Is this value stale at ``t_hours`` (e.g. the current wall-clock time in hours after infusion)?"""
        return t_hours - self.t_hours > self.stale_after_hours

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "text": self.text,
            "t_hours": self.t_hours,
            "observation_index": self.observation_index,
            "age_hours": self.age_hours,
            "stale_after_hours": self.stale_after_hours,
            "stale": self.stale,
        }


@dataclass(frozen=True, slots=True)
class UrgentFinding:
    """A finding that needs a physician now whatever the grades (A-15 hypoxaemia, B-9 intracranial
    haemorrhage). ``code`` is stable (``FINDING_CODES``); the alerting layer raises one urgent alert
    per (code, observation_index). ``suggestions`` are suggestion codes (vocabulary.SUGGESTION_CODES)."""

    code: str
    text: str
    t_hours: float
    observation_index: int | None
    drivers: tuple[Driver, ...]
    suggestions: tuple[str, ...]
    notes: tuple[str, ...] = ()
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "text": self.text,
            "t_hours": self.t_hours,
            "observation_index": self.observation_index,
            "drivers": [d.to_dict() for d in self.drivers],
            "suggestions": list(self.suggestions),
            "notes": list(self.notes),
            "source": self.source,
        }


FINDING_HYPOXAEMIA = "hypoxaemia"  # A-15, ALERT-11
FINDING_INTRACRANIAL_HAEMORRHAGE = "intracranial_haemorrhage"  # B-9, ALERT-12
FINDING_CODES: tuple[str, ...] = (FINDING_HYPOXAEMIA, FINDING_INTRACRANIAL_HAEMORRHAGE)


@dataclass(frozen=True, slots=True)
class SyndromeResult:
    current: int | None
    maximum: int | None
    drivers: tuple[Driver, ...]
    episode_open: bool = False
    notes: tuple[str, ...] = ()
    incomplete: bool = False
    episode_maximum: int | None = None
    standing: tuple[StandingValue, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "maximum": self.maximum,
            "episode_maximum": self.episode_maximum,
            "episode_open": self.episode_open,
            "incomplete": self.incomplete,
            "drivers": [d.to_dict() for d in self.drivers],
            "notes": list(self.notes),
            "standing": [v.to_dict() for v in self.standing],
        }


@dataclass(frozen=True, slots=True)
class IcahtResult:
    early: int | None
    early_provisional: bool
    late: int | None
    late_provisional: bool
    drivers: tuple[Driver, ...]
    early_days_anc_le_500: int = 0
    early_days_anc_le_100: int = 0
    interpolated_days: tuple[int, ...] = ()
    # ICAHT-5: the first ANC > 500/µL of the stable recovery after the window's last day ≤ 500/µL
    # (hours after infusion; None while it lasts). Not part of the grade: the episode's resolution.
    early_recovered_hours: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "early": self.early,
            "early_provisional": self.early_provisional,
            "late": self.late,
            "late_provisional": self.late_provisional,
            "early_days_anc_le_500": self.early_days_anc_le_500,
            "early_days_anc_le_100": self.early_days_anc_le_100,
            "interpolated_days": list(self.interpolated_days),
            "early_recovered_hours": self.early_recovered_hours,
            "drivers": [d.to_dict() for d in self.drivers],
        }


@dataclass(frozen=True, slots=True)
class Evaluation:
    crs: SyndromeResult
    icans: SyndromeResult
    icaht: IcahtResult
    suggestions: tuple[Suggestion, ...]
    withheld: tuple[Suggestion, ...]
    computed: Mapping[str, object]
    iec_hs_screen_positive: bool
    licats_screen_positive: bool
    sepsis_alert: bool
    rule_set: str
    settings: Mapping[str, Any]
    screen_drivers: tuple[Driver, ...] = ()
    warnings: tuple[str, ...] = field(default=())
    t_icaht: TIcahtResult = NO_T_ICAHT
    urgent_findings: tuple[UrgentFinding, ...] = ()
    # Checks made due by a stale standing value: "vitals" (a CRS component older than the vitals
    # interval of the current grade) and/or "neuro" (an ICANS domain older than 24 h, B-6).
    checks_due: tuple[str, ...] = ()
    vitals_interval_hours: float | None = None  # MON-5 interval for the current CRS grade

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_set": self.rule_set,
            "crs": self.crs.to_dict(),
            "icans": self.icans.to_dict(),
            "icaht": self.icaht.to_dict(),
            "t_icaht": self.t_icaht.to_dict(),
            "suggestions": [s.to_dict() for s in self.suggestions],
            "withheld": [s.to_dict() for s in self.withheld],
            "computed": dict(self.computed),
            "iec_hs_screen_positive": self.iec_hs_screen_positive,
            "licats_screen_positive": self.licats_screen_positive,
            "sepsis_alert": self.sepsis_alert,
            "screen_drivers": [d.to_dict() for d in self.screen_drivers],
            "warnings": list(self.warnings),
            "urgent_findings": [f.to_dict() for f in self.urgent_findings],
            "checks_due": list(self.checks_due),
            "vitals_interval_hours": self.vitals_interval_hours,
            "settings": dict(self.settings),
        }

    def case_output(self, case_id: str) -> dict[str, Any]:
        """One case of the CLI output (CASE-5), plus `sepsis_alert` and `withheld`."""
        return {
            "id": case_id,
            "crs_grade": self.crs.maximum,
            "crs_grade_at_last_observation": self.crs.current,
            "icans_grade": self.icans.maximum,
            "icans_grade_at_last_observation": self.icans.current,
            "icaht_grade": {"early": self.icaht.early, "late": self.icaht.late},
            "t_icaht_grade": {"early": self.t_icaht.early, "late": self.t_icaht.late},
            "suggestions": [s.code for s in self.suggestions],
            "computed": dict(self.computed),
            "iec_hs_screen_positive": self.iec_hs_screen_positive,
            "licats_screen_positive": self.licats_screen_positive,
            "sepsis_alert": self.sepsis_alert,
            "withheld": [{"code": s.code, "reason": s.withheld_reason} for s in self.withheld],
            "urgent_findings": [{"code": f.code, "text": f.text} for f in self.urgent_findings],
            "icans_incomplete": self.icans.incomplete,
            "drivers": {
                "crs": [d.text for d in self.crs.drivers],
                "icans": [d.text for d in self.icans.drivers],
                "icaht": [d.text for d in self.icaht.drivers],
                "screens": [d.text for d in self.screen_drivers],
            },
            "rule_set": self.rule_set,
        }
