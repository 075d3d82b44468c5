"""Relapse-free survival as a Kaplan–Meier estimate (OUTCOME-2), computed by ``lifelines`` (a
well-kept survival library; no hand-written statistics), with the number at risk under the curve."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lifelines import KaplanMeierFitter

from carttrack.followup.outcomes import SurvivalTime
from carttrack.followup.wording import HOURS_PER_MONTH

AT_RISK_MONTHS = (0, 3, 6, 12, 18, 24)


@dataclass(frozen=True)
class KaplanMeier:
    steps: tuple[tuple[float, float], ...]  # (month, survival probability), a step function from (0, 1)
    at_risk: tuple[tuple[int, int], ...]  # (month, number at risk)
    events: int
    censored: int
    median_months: float | None


def kaplan_meier(times: Sequence[SurvivalTime]) -> KaplanMeier | None:
    if not times:
        return None
    durations = [max(t.time_hours, 0.0) / HOURS_PER_MONTH for t in times]
    events = [t.event for t in times]
    kmf = KaplanMeierFitter()
    kmf.fit(durations, event_observed=events)
    curve = kmf.survival_function_.iloc[:, 0]
    steps = tuple((float(month), float(p)) for month, p in curve.items())
    at_risk = tuple((m, sum(1 for d in durations if d >= m)) for m in AT_RISK_MONTHS)
    median = float(kmf.median_survival_time_)
    return KaplanMeier(
        steps=steps,
        at_risk=at_risk,
        events=sum(events),
        censored=len(events) - sum(events),
        median_months=None if median == float("inf") else median,
    )
