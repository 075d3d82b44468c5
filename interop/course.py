"""A course's grades over time and its toxicity episodes (REG-3), re-derived from the current
observations by the clinical core itself: the export's grade Observations and AdverseEvents and the
registry reports read this, so a correction (amended, entered-in-error) changes them all.

The current rows are fed to ``carttrack.Evaluator`` in time order and the course is evaluated after
each: a :class:`Point` per observation time.  An episode is a run of points graded ≥ 1; its onset is
the first documented sign (the earliest driver of its first graded point), its resolution the time
of the first point graded 0 after it (None while it stands).

Beside CRS and ICANS (ASTCT 2019), the toxicities the export also writes (FHIR-6): early and late
ICAHT by their grades (ICAHT-4, ICAHT-10; an early grade stands for its window, so its episode
resolves at the recovery the clinical core reports, ICAHT-5), and the IEC-HS and LICATS screens
(IECHS-3, LICATS-4; not grades, C-3, LICATS-3) as 1 while positive; a LICATS episode is confirmed
once a physician marks SLEDAI-2K descriptors as part of it (D-5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import carttrack
from monitoring import grading
from monitoring.models import Infusion, Observation

SYNDROMES = ("crs", "icans")  # ASTCT 2019: grade Observations and the registry reports (REG-3)
ICAHT = ("icaht-early", "icaht-late")  # EHA/EBMT grades (ICAHT-4, ICAHT-10)
SCREENS = ("iec-hs", "licats")  # screens, not grades (C-3, LICATS-3): 1 while positive
TOXICITIES = SYNDROMES + ICAHT + SCREENS  # each episode a Condition and its AdverseEvent (FHIR-6)
_SCREEN_CRITERIA = {"iec-hs": "IEC-HS screen", "licats": "LICATS screen"}


@dataclass(frozen=True)
class Point:
    at: datetime
    row_id: int
    grades: dict[str, int | None]  # syndrome → current grade
    drivers: dict[str, tuple[int, ...]]  # syndrome → row ids of the observations that drove it
    first_sign: dict[str, datetime | None]  # syndrome → earliest driver time
    recovered: dict[str, datetime | None] = field(default_factory=dict)  # early ICAHT: ICAHT-5
    confirmed: frozenset[str] = frozenset()  # licats: a physician marked it (D-5), rows so far
    provisional: frozenset[str] = frozenset()  # ICAHT grades of a window still open (ICAHT-8)


@dataclass(frozen=True)
class Episode:
    syndrome: str
    number: int
    onset: datetime  # first documented sign
    resolved: datetime | None
    points: tuple[Point, ...]  # graded points of the episode, in time order
    resolved_by: int | None = None  # the row whose evaluation graded it 0 again

    @property
    def confirmed(self) -> bool:
        """A graded episode, or a screen a physician confirmed (LICATS, D-5)."""
        return self.syndrome not in SCREENS or any(self.syndrome in p.confirmed for p in self.points)

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


def _driver_rows(drivers: tuple[carttrack.Driver, ...]) -> tuple[int, ...]:
    return tuple(d.observation_index for d in drivers if d.observation_index is not None)


def _first_sign(drivers: tuple[carttrack.Driver, ...], infusion: Infusion) -> datetime | None:
    times = [d.t_hours for d in drivers if d.t_hours is not None]
    return infusion.infused_at + timedelta(hours=min(times)) if times else None


def _toxicities(ev: carttrack.Evaluation) -> dict[str, tuple[int | None, tuple[carttrack.Driver, ...]]]:
    """Grade (screens: 1 positive, 0 not) and drivers of each toxicity of TOXICITIES."""
    screens = {
        name: (
            int(positive),
            tuple(d for d in ev.screen_drivers if d.criterion.startswith(_SCREEN_CRITERIA[name])),
        )
        for name, positive in (("iec-hs", ev.iec_hs_screen_positive), ("licats", ev.licats_screen_positive))
    }
    return {
        "crs": (ev.crs.current, ev.crs.drivers),
        "icans": (ev.icans.current, ev.icans.drivers),
        "icaht-early": (ev.icaht.early, ev.icaht.drivers),
        "icaht-late": (ev.icaht.late, ev.icaht.drivers),
        **screens,
    }


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
    marked: tuple[int, ...] = ()  # D-5: SLEDAI-2K rows whose descriptors a physician marked LICATS
    for row_id, kind, payload, observed_at in rows:
        evaluator.add(
            carttrack.parse_observation(
                {**payload, "kind": kind, "t_hours": infusion.hours_after(observed_at)}, index=row_id
            )
        )
        ev = evaluator.evaluate()
        results = _toxicities(ev)
        if kind == "sledai" and payload.get("licats"):
            marked = (*marked, row_id)
        grades = {s: grade for s, (grade, _) in results.items()}
        drivers = {s: _driver_rows(found) for s, (_, found) in results.items()}
        if marked:  # a marked visit confirms the episode and drives it (LICATS is not resolved, LICATS-3)
            grades["licats"], drivers["licats"] = 1, (*drivers["licats"], *marked)
        recovered = ev.icaht.early_recovered_hours
        points.append(
            Point(
                at=observed_at,
                row_id=row_id,
                grades=grades,
                drivers=drivers,
                first_sign={s: _first_sign(found, infusion) for s, (_, found) in results.items()},
                recovered={
                    "icaht-early": None
                    if recovered is None
                    else infusion.infused_at + timedelta(hours=recovered)
                },
                confirmed=frozenset({"licats"} if marked else ()),
                provisional=frozenset(
                    name
                    for name, open_ in (
                        ("icaht-early", ev.icaht.early_provisional),
                        ("icaht-late", ev.icaht.late_provisional),
                    )
                    if open_
                ),
            )
        )
    return points


def episodes(points: list[Point], syndrome: str) -> list[Episode]:
    found: list[Episode] = []
    run: list[Point] = []

    def close(resolved: Point | None) -> None:
        onset = min(t for t in (run[0].first_sign[syndrome], run[0].at) if t is not None)
        # A grade standing for its window (early ICAHT) resolves at the recovery the core reports.
        recovery = None if resolved else run[-1].recovered.get(syndrome)
        found.append(
            Episode(
                syndrome,
                len(found) + 1,
                onset,
                resolved.at if resolved else recovery,
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
