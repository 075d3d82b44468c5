"""A course's grades over time and its toxicity episodes (REG-3), re-derived from the current
observations by the clinical core itself: the export's grade Observations and AdverseEvents and the
registry reports read this, so a correction (amended, entered-in-error) changes them all.

The current rows are fed to ``carttrack.Evaluator`` in time order and the course is evaluated after
each: a :class:`Point` per observation time.  An episode is a run of points graded ≥ 1; its onset is
the first documented sign (the earliest driver of its first graded point), its resolution the time
of the first point graded 0 after it (None while it stands)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import carttrack
from monitoring import grading
from monitoring.models import Infusion, Observation

SYNDROMES = ("crs", "icans")


@dataclass(frozen=True)
class Point:
    at: datetime
    row_id: int
    grades: dict[str, int | None]  # syndrome → current grade
    drivers: dict[str, tuple[int, ...]]  # syndrome → row ids of the observations that drove it
    first_sign: dict[str, datetime | None]  # syndrome → earliest driver time


@dataclass(frozen=True)
class Episode:
    syndrome: str
    number: int
    onset: datetime  # first documented sign
    resolved: datetime | None
    points: tuple[Point, ...]  # graded points of the episode, in time order
    resolved_by: int | None = None  # the row whose evaluation graded it 0 again

    @property
    def maximum(self) -> int:
        return max(p.grades[self.syndrome] or 0 for p in self.points)

    def driver_rows(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(r for p in self.points for r in p.drivers[self.syndrome]))

    def maximum_between(self, start: datetime, end: datetime) -> int | None:
        """The episode's highest grade within [start, end): the points in it, and the grade standing at
        ``start`` if the episode began before (E-3: the episode maximum clipped to the period)."""
        grades = [p.grades[self.syndrome] or 0 for p in self.points if start <= p.at < end]
        before = [p for p in self.points if p.at < start]
        if before and (self.resolved is None or self.resolved > start):
            grades.append(before[-1].grades[self.syndrome] or 0)
        return max(grades) if grades else None

    def in_period(self, start: datetime, end: datetime) -> bool:
        """Occurred or persisted in [start, end) (E-3)."""
        return self.onset < end and (self.resolved is None or self.resolved >= start)


def _driver_rows(result: carttrack.SyndromeResult) -> tuple[int, ...]:
    return tuple(d.observation_index for d in result.drivers if d.observation_index is not None)


def _first_sign(result: carttrack.SyndromeResult, infusion: Infusion) -> datetime | None:
    times = [d.t_hours for d in result.drivers if d.t_hours is not None]
    return infusion.infused_at + timedelta(hours=min(times)) if times else None


def timeline(infusion: Infusion) -> list[Point]:
    rows = list(
        Observation.objects.current()
        .filter(infusion=infusion)
        .order_by("observed_at", "id")
        .values_list("id", "kind", "payload", "observed_at")
    )
    settings = grading.settings_for(infusion)
    patient = carttrack.parse_patient(grading.patient_dict(infusion))
    evaluator = carttrack.Evaluator(
        patient, settings, carttrack.parse_follow_up(grading.follow_up_dict(infusion))
    )
    points: list[Point] = []
    for row_id, kind, payload, observed_at in rows:
        evaluator.add(
            carttrack.parse_observation(
                {**payload, "kind": kind, "t_hours": infusion.hours_after(observed_at)}, index=row_id
            )
        )
        ev = evaluator.evaluate()
        results = {"crs": ev.crs, "icans": ev.icans}
        points.append(
            Point(
                at=observed_at,
                row_id=row_id,
                grades={s: results[s].current for s in SYNDROMES},
                drivers={s: _driver_rows(results[s]) for s in SYNDROMES},
                first_sign={s: _first_sign(results[s], infusion) for s in SYNDROMES},
            )
        )
    return points


def episodes(points: list[Point], syndrome: str) -> list[Episode]:
    found: list[Episode] = []
    run: list[Point] = []

    def close(resolved: Point | None) -> None:
        onset = min(t for t in (run[0].first_sign[syndrome], run[0].at) if t is not None)
        found.append(
            Episode(
                syndrome,
                len(found) + 1,
                onset,
                resolved.at if resolved else None,
                tuple(run),
                resolved.row_id if resolved else None,
            )
        )

    for point in points:
        if (point.grades[syndrome] or 0) >= 1:
            run.append(point)
        elif run:
            close(point)
            run = []
    if run:
        close(None)
    return found
