"""CAR-T Track clinical core: pure-Python CRS/ICANS/ICAHT grading, scores, screens and suggestions,
and the long-term follow-up after the first month (carttrack.followup: remission, relapse, B cells).

Decision support only: the software supports, and does not replace, the clinician's judgement.

What every entry path (tablet, API, FHIR import, case files) calls:

* ``parse_observation(data)`` — validate one record (``kind``, ``t_hours`` and case-file fields) and
  return the typed observation; raises ``ObservationError`` (first error; all in ``.errors``).
  ``observation_errors(data)`` returns every field error of the record at once (the tablet form).
* ``parse_timestamp(text, zone=team_zone)`` — a recorded time with its zone, or read in the team's
  IANA zone; skipped / repeated daylight-saving times are refused. ``hours_after(infused_at, t)``.
* ``Evaluator(patient, settings).add(obs)`` / ``.evaluate(as_of=now_hours)`` — grades, suggestions,
  ``urgent_findings`` (A-15, B-9), standing values per domain with age and staleness (A-14, B-6),
  ``checks_due`` and ``vitals_interval_hours``.
* ``missing_for_complete_check(obs, patient)`` — what a record lacks to count as a complete check;
  ``vitals_interval_hours(grade, febrile_tachycardic=...)``, ``neuro_interval_hours(grade)``.
"""

from __future__ import annotations

from . import checks, limits, vocabulary
from .checks import missing_for_complete_check, neuro_interval_hours, vitals_interval_hours
from .dose_limits import TocilizumabAllowance, tocilizumab_allowance
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
    observation_errors,
    parse_case,
    parse_follow_up,
    parse_observation,
    parse_patient,
    register_kinds,
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

# The follow-up kinds (CASE-7) go through the same parse_observation / parse_case as the rest.
register_kinds(FOLLOWUP_PARSERS)

__all__ = [
    "FINDING_CODES",
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
    "StandingValue",
    "Suggestion",
    "SyndromeResult",
    "TocilizumabAllowance",
    "UrgentFinding",
    "Vitals",
    "checks",
    "evaluate",
    "evaluate_case_followup",
    "evaluate_followup",
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
    "tocilizumab_allowance",
    "vitals_interval_hours",
    "vocabulary",
]
