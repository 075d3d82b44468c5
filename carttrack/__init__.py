"""CAR-T Track clinical core: pure-Python CRS/ICANS/ICAHT grading, scores, screens and suggestions.

Decision support only: the software supports, and does not replace, the clinician's judgement.
"""

from __future__ import annotations

from . import limits, vocabulary
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
    parse_case,
    parse_follow_up,
    parse_observation,
    parse_patient,
)
from .results import Driver, Evaluation, IcahtResult, Suggestion, SyndromeResult
from .settings import DecisionSettings

__all__ = [
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
    "Suggestion",
    "SyndromeResult",
    "Vitals",
    "evaluate",
    "limits",
    "parse_case",
    "parse_follow_up",
    "parse_observation",
    "parse_patient",
    "vocabulary",
]
