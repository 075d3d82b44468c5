"""Outcome arithmetic for the coordinators' outcomes page (OUTCOME-1…OUTCOME-3), pure: the caller selects the
cohort (product, indication, date range) and passes one member per course.

- DORIS and LLDAS rates at months 3, 6 and 12; drug-free remission at months 6 and 12: the
  denominator is the patients assessed (a SLEDAI-2K visit in the visit window of G-1, the one nearest
  the target when several), with the met / not met / not decided counts and how many were due (their
  follow-up passed the window) but not assessed. Only lupus courses (SLE, lupus nephritis) count.
- Time to B-cell reconstitution (days) among patients with documented aplasia.
- Relapse-free survival: each course's (time, event) pair for a Kaplan–Meier estimate, which the
  Django layer computes with a survival library: event = the first relapse or death, otherwise
  censored at the last visit.
A group with n < 10 carries a caution, as the toxicity cohort view does.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from .groups import LUPUS_GROUPS, IndicationGroup
from .logic import Tri
from .results import FollowupResult, SleVisit
from .visits import template_for
from .wording import HOURS_PER_DAY

LANDMARK_MONTHS: tuple[int, ...] = (3, 6, 12)  # OUTCOME-1: DORIS and LLDAS rates
DRUG_FREE_LANDMARK_MONTHS: tuple[int, ...] = (6, 12)  # OUTCOME-1: drug-free remission
SMALL_GROUP_N = 10  # OUTCOME-3: n < 10 carries a caution
DEFINITIONS = ("doris", "lldas", "drug_free")


@dataclass(frozen=True, slots=True)
class CohortMember:
    """One course: its follow-up result (None = no follow-up data yet), how far it has been followed
    (the last visit, hours after infusion) and the death time when the patient died."""

    patient_id: str
    result: FollowupResult | None
    followed_to_hours: float
    death_hours: float | None = None


@dataclass(frozen=True, slots=True)
class LandmarkRate:
    definition: str
    month: int
    met: int
    not_met: int
    not_decided: int
    not_assessed: int

    @property
    def denominator(self) -> int:
        return self.met + self.not_met

    @property
    def rate(self) -> float | None:
        return self.met / self.denominator if self.denominator else None

    @property
    def caution(self) -> bool:
        return self.denominator < SMALL_GROUP_N


@dataclass(frozen=True, slots=True)
class ReconstitutionSummary:
    with_aplasia: int
    reconstituted: int
    days: tuple[float, ...]
    median_days: float | None

    @property
    def caution(self) -> bool:
        return self.reconstituted < SMALL_GROUP_N


@dataclass(frozen=True, slots=True)
class SurvivalTime:
    patient_id: str
    time_hours: float
    event: bool
    reason: str  # "relapse", "death" or "censored at the last visit"


def _answer(visit: SleVisit, definition: str) -> Tri:
    if definition == "doris":
        return visit.doris.met
    if definition == "lldas":
        return visit.lldas.met
    return visit.drug_free_at_visit


def landmark_rate(members: Sequence[CohortMember], definition: str, month: int) -> LandmarkRate:
    if definition not in DEFINITIONS:
        raise ValueError(f"definition {definition!r} is not one of: {', '.join(DEFINITIONS)}")
    spec = template_for(IndicationGroup.SLE).visit(f"month_{month}")
    if spec is None:
        raise ValueError(f"month {month} is not a visit of the G-1 template")
    counts = {True: 0, False: 0, None: 0}
    not_assessed = 0
    for m in members:
        r = m.result
        if r is None or IndicationGroup(r.group) not in LUPUS_GROUPS:
            continue
        in_window = [v for v in r.sle_visits if spec.opens_hours <= v.t_hours <= spec.closes_hours]
        if in_window:
            visit = min(in_window, key=lambda v: abs(v.t_hours - spec.target_hours))
            counts[_answer(visit, definition)] += 1
        elif m.followed_to_hours > spec.closes_hours:
            not_assessed += 1
    return LandmarkRate(definition, month, counts[True], counts[False], counts[None], not_assessed)


def landmark_rates(members: Sequence[CohortMember]) -> tuple[LandmarkRate, ...]:
    """DORIS and LLDAS at months 3, 6, 12 and drug-free remission at months 6, 12."""
    out = [landmark_rate(members, d, month) for d in ("doris", "lldas") for month in LANDMARK_MONTHS]
    out += [landmark_rate(members, "drug_free", month) for month in DRUG_FREE_LANDMARK_MONTHS]
    return tuple(out)


def reconstitution_summary(members: Sequence[CohortMember]) -> ReconstitutionSummary:
    """Time to B-cell reconstitution (G-7) in days; patients not yet reconstituted are counted in
    `with_aplasia` only (the median is of those reconstituted)."""
    with_aplasia = [
        m.result.b_cells for m in members if m.result and m.result.b_cells.aplasia_documented_hours
    ]
    days = tuple(
        sorted(
            b.reconstitution_hours / HOURS_PER_DAY for b in with_aplasia if b.reconstitution_hours is not None
        )
    )
    return ReconstitutionSummary(
        len(with_aplasia), len(days), days, statistics.median(days) if days else None
    )


def relapse_free_survival(member: CohortMember) -> SurvivalTime:
    """Event at the first relapse (or death), otherwise censored at the last visit."""
    relapse = member.result.relapse_hours if member.result is not None else None
    death = member.death_hours
    if relapse is not None and (death is None or relapse <= death):
        return SurvivalTime(member.patient_id, relapse, True, "relapse")
    if death is not None:
        return SurvivalTime(member.patient_id, death, True, "death")
    return SurvivalTime(member.patient_id, member.followed_to_hours, False, "censored at the last visit")
