"""CAR-T Track clinical core: pure-Python CRS/ICANS/ICAHT grading, scores, screens and suggestions.

Decision support only: the software supports, and does not replace, the clinician's judgement.
"""

from __future__ import annotations

from . import checks, limits, vocabulary
from .checks import missing_for_complete_check, neuro_interval_hours, vitals_interval_hours
from .engine import RULE_SET, Evaluator, evaluate
from .observations import (
    Case,
    ClinicalFlag,
    Event,
    FollowUp,
    IceScore,
    Lab,
    Medication,
    Neuro,
    Observation,
    ObservationError,
    PatientInfo,
    Vitals,
    observation_errors,
    parse_case,
    parse_follow_up,
    parse_observation,
    parse_patient,
)
from .results import (
    FINDING_CODES,
    Driver,
    Evaluation,
    IcahtResult,
    StandingValue,
    Suggestion,
    SyndromeResult,
    UrgentFinding,
)
from .settings import DecisionSettings
from .times import hours_after, parse_timestamp

__all__ = [
    "FINDING_CODES",
    "RULE_SET",
    "Case",
    "ClinicalFlag",
    "DecisionSettings",
    "Driver",
    "Evaluation",
    "Evaluator",
    "Event",
    "FollowUp",
    "IcahtResult",
    "IceScore",
    "Lab",
    "Medication",
    "Neuro",
    "Observation",
    "ObservationError",
    "PatientInfo",
    "StandingValue",
    "Suggestion",
    "SyndromeResult",
    "UrgentFinding",
    "Vitals",
    "checks",
    "evaluate",
    "hours_after",
    "limits",
    "missing_for_complete_check",
    "neuro_interval_hours",
    "observation_errors",
    "parse_case",
    "parse_follow_up",
    "parse_observation",
    "parse_patient",
    "parse_timestamp",
    "vitals_interval_hours",
    "vocabulary",
]
