"""CAR-T Track clinical core: pure-Python CRS/ICANS/ICAHT grading, scores, screens and suggestions,
and the long-term follow-up after the first month (carttrack.followup: remission, relapse, B cells).

Decision support only: the software supports, and does not replace, the clinician's judgement.
"""

from __future__ import annotations

from . import limits, vocabulary
from .engine import RULE_SET, Evaluator, evaluate
from .followup.evaluate import FOLLOWUP_RULE_SET, evaluate_case_followup, evaluate_followup
from .followup.parsing import FOLLOWUP_PARSERS
from .followup.results import FollowupFinding, FollowupResult
from .followup.settings import FollowupSettings
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
    register_kinds,
)
from .results import Driver, Evaluation, IcahtResult, Suggestion, SyndromeResult
from .settings import DecisionSettings

# The follow-up kinds (FOLLOWUP.md) go through the same parse_observation / parse_case as the rest.
register_kinds(FOLLOWUP_PARSERS)

__all__ = [
    "FOLLOWUP_RULE_SET",
    "RULE_SET",
    "Case",
    "ClinicalFlag",
    "DecisionSettings",
    "Driver",
    "Evaluation",
    "Evaluator",
    "Event",
    "FollowUp",
    "FollowupFinding",
    "FollowupResult",
    "FollowupSettings",
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
    "evaluate_case_followup",
    "evaluate_followup",
    "limits",
    "parse_case",
    "parse_follow_up",
    "parse_observation",
    "parse_patient",
    "vocabulary",
]
