"""Antiviral and PJP prophylaxis after CAR-T: when it may stop (BCELL-7) [ASH-SAP] Table 4
[Stanford CAR19 table]: acyclovir/valacyclovir and PJP prophylaxis for at least 12 months and
until CD4 > 200 /µL (LOINC 24467-3). A task when the stop criteria are met (unless the recorded
regimen holds no such prophylaxis); a warning when a recorded regimen drops it before then.
The CD4 count used is the latest at or before the time judged.
"""

from __future__ import annotations

import itertools

from ..observations import INFUSION_T
from ..results import Driver
from .course import FollowupCourse
from .regimen import regimen_at
from .results import ProphylaxisStatus
from .steroids import ANTIVIRAL_PJP_PROPHYLAXIS
from .wording import HOURS_PER_MONTH, day, num

PROPHYLAXIS_MIN_MONTHS = 12.0  # BCELL-7: at least 12 months …
PROPHYLAXIS_CD4_ABOVE_PER_UL = 200.0  # … and until CD4 > 200 /µL
_CRITERIA = f"≥ {num(PROPHYLAXIS_MIN_MONTHS)} months and CD4 > {num(PROPHYLAXIS_CD4_ABOVE_PER_UL)} /µL"


def _cd4_at(
    series: tuple[tuple[float, float, int | None], ...], t: float
) -> tuple[float, float, int | None] | None:
    best = None
    for s in series:
        if s[0] <= t:
            best = s
    return best


def stop_criteria_met_at(course: FollowupCourse) -> tuple[float, tuple[float, float, int | None]] | None:
    """The first time (≤ the last observation) both stop criteria hold, with the CD4 sample used."""
    cd4 = course.series("cd4_per_uL")
    from_t = PROPHYLAXIS_MIN_MONTHS * HOURS_PER_MONTH
    if course.last_hours < from_t:
        return None
    candidates = [from_t] + [t for t, _, _ in cd4 if t > from_t]
    for t in candidates:
        sample = _cd4_at(cd4, t)
        if sample is not None and sample[1] > PROPHYLAXIS_CD4_ABOVE_PER_UL:
            return t, sample
    return None


def _prophylaxis_in(drugs: tuple[str, ...]) -> list[str]:
    return [d for d in drugs if d in ANTIVIRAL_PJP_PROPHYLAXIS]


def prophylaxis_course(course: FollowupCourse) -> ProphylaxisStatus:
    met = stop_criteria_met_at(course)
    stop_driver: Driver | None = None
    task = False
    if met is not None:
        t, (cd4_t, cd4_v, cd4_idx) = met
        regimen = regimen_at(course.regimens, t)
        taking = _prophylaxis_in(tuple(d.drug for d in regimen.drugs)) if regimen else None
        if taking == []:
            text = (
                f"prophylaxis stop criteria met {day(t)} ({_CRITERIA}); the recorded regimen has none to stop"
            )
        else:
            task = True
            names = ", ".join(x.replace("_", " ") for x in taking) if taking else "antiviral/PJP prophylaxis"
            text = (
                f"prophylaxis stop criteria met {day(t)}: {_CRITERIA} (CD4 {num(cd4_v)} /µL {day(cd4_t)})"
                f" — review stopping {names}"
            )
        stop_driver = Driver("prophylaxis stop criteria (BCELL-7)", cd4_idx, t, text)
    early: list[Driver] = []
    regimens = course.regimens
    for before, r in itertools.pairwise(regimens):
        if r.t_hours <= INFUSION_T or (met is not None and r.t_hours >= met[0]):
            continue
        stopped = [d for d in _prophylaxis_in(tuple(x.drug for x in before.drugs)) if r.dose_of(d) is None]
        if stopped:
            early.append(
                Driver(
                    "prophylaxis stopped early (BCELL-7)",
                    r.index,
                    r.t_hours,
                    f"{', '.join(s.replace('_', ' ') for s in stopped)} stopped {day(r.t_hours)} before the"
                    f" stop criteria ({_CRITERIA}) — confirm this was intended",
                )
            )
    return ProphylaxisStatus(met[0] if met else None, task, stop_driver, tuple(early))
