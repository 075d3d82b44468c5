"""Registry reports (E-3, REG-1…REG-3): per course and reporting period, the CIBMTR Form 4100 CRS
block and the EBMT Cellular Therapy MED-A Day-100 CRS/ICANS fields, filled from the course's
episodes (``interop.course``), each value with the observations behind it, what cannot be filled and
why, and the "previously reported" flags from the coordinator's records (``RegistryReport``).

Fields are keyed by the registry's question text (never by question number, E-3).  Not found in the
specification and therefore left out (said on every report): the Form 4100 fields beyond the CRS
block, and EBMT MED-A fields beyond CRS and ICANS (late neurological events of the 6-month and yearly
forms included)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from carttrack.vocabulary import CORTICOSTEROIDS, drug_name
from monitoring.models import Infusion, Observation

from . import course
from .models import Registry, RegistryReport, ReportState

#: Period boundaries in days after infusion (E-3): day 100, 6 months (day 180), 1 year, then yearly
#: to the CIBMTR 15-year track.  EBMT's forms are due at the same points (day 100, 6 months, yearly).
DAY_100, MONTH_6, YEAR = 100, 180, 365
TRACK_YEARS = 15

NOT_INCLUDED = {
    Registry.CIBMTR: (
        "Form 4100 fields beyond the CRS block (the full R10 field list was not found in the "
        "specification), including the IEC-HS block: fill them from the chart."
    ),
    Registry.EBMT: (
        "MED-A fields beyond CRS and ICANS, and the late neurological events of the 6-month and yearly "
        "forms (their field names were not found in the specification): fill them from the chart."
    ),
}
#: CIBMTR "therapy given" choices (REG-1): drug codes of the clinical core per choice.
THERAPY_CHOICES = (
    ("tocilizumab", frozenset({"tocilizumab"})),
    ("corticosteroids", frozenset(CORTICOSTEROIDS)),
    ("siltuximab", frozenset({"siltuximab"})),
    ("anakinra", frozenset({"anakinra"})),
    ("other", frozenset({"ruxolitinib", "cyclophosphamide", "atg", "ivig"})),
)
THERAPY_DRUGS = frozenset().union(*(drugs for _, drugs in THERAPY_CHOICES))


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    start: datetime
    end: datetime


def _period(infusion: Infusion, key: str, label: str, start_days: int, end_days: int) -> Period:
    day0 = infusion.infused_at
    return Period(key, label, day0 + timedelta(days=start_days), day0 + timedelta(days=end_days))


def _milestones(infusion: Infusion) -> list[Period]:
    periods = [
        _period(infusion, "day-100", "Day 100", 0, DAY_100),
        _period(infusion, "6-month", "6 months", DAY_100, MONTH_6),
        _period(infusion, "year-1", "1 year", MONTH_6, YEAR),
    ]
    years = range(2, TRACK_YEARS + 1)
    return periods + [_period(infusion, f"year-{y}", f"{y} years", (y - 1) * YEAR, y * YEAR) for y in years]


def cibmtr_periods(infusion: Infusion) -> list[Period]:
    """Form 4100: 0–100 days, 100 days–6 months, then yearly, non-overlapping, for 15 years."""
    return _milestones(infusion)


def ebmt_periods(infusion: Infusion) -> list[Period]:
    """MED-A: the Day-100 form, the 6-month form and yearly forms (the same milestones, E-3)."""
    return _milestones(infusion)


PERIODS = {Registry.CIBMTR: cibmtr_periods, Registry.EBMT: ebmt_periods}


@dataclass(frozen=True)
class Value:
    """One answer: the registry's question, the answer (None: not filled), the observation rows behind
    it and, when not filled, why."""

    question: str
    answer: str | None
    rows: tuple[int, ...] = ()
    missing: str = ""
    note: str = ""  # what the data manager checks against the chart (the therapies' doses, REG-3)


@dataclass(frozen=True)
class Therapy:
    drug: str
    choice: str
    first: datetime
    last: datetime
    prophylactic_before_onset: bool
    rows: tuple[int, ...]


@dataclass
class Report:
    registry: str
    period: Period
    infusion: Infusion
    state: str
    values: list[Value] = field(default_factory=list)
    not_included: str = ""
    evidence: dict[int, Observation] = field(default_factory=dict)
    reported_onsets: list[str] = field(default_factory=list)

    @property
    def state_label(self) -> str:
        return ReportState(self.state).label

    @property
    def zone(self) -> str:
        return self.infusion.care_team.time_zone

    def as_row(self) -> dict[str, str]:
        return {v.question: ("" if v.answer is None else v.answer) for v in self.values}


def _day(moment: datetime | None, zone: str = "UTC") -> str | None:
    """The calendar date in the care team's zone (a registry asks for dates, not times)."""
    return None if moment is None else moment.astimezone(ZoneInfo(zone)).date().isoformat()


def therapies(episode: course.Episode, meds: list[Observation], period: Period) -> list[Therapy]:
    """Therapy drugs given in the period while the episode stood (onset to resolution), and those
    given before onset and continued after it (prophylaxis continued counts as therapy, E-3)."""
    end = min(period.end, episode.resolved) if episode.resolved else period.end
    out = []
    for choice, drugs in THERAPY_CHOICES:
        for drug in sorted(drugs):
            given = [
                m for m in meds if m.payload.get("drug") == drug and m.payload.get("for_crs_icans", True)
            ]
            during = [m for m in given if max(period.start, episode.onset) <= m.observed_at <= end]
            if not during:
                continue
            before = [m for m in given if m.observed_at < episode.onset]
            out.append(
                Therapy(
                    drug,
                    choice,
                    during[0].observed_at,
                    during[-1].observed_at,
                    bool(before),
                    tuple(m.pk for m in before[-1:] + during),
                )
            )
    return out


def _therapy_note(chosen: list[Therapy], zone: str) -> str:
    """The drugs of one therapy answer with their first and last dose in the period, e.g.
    'dexamethasone 2026-04-04 to 2026-04-06, given before onset as prophylaxis and continued after
    it' (REG-3: drug, first and last dose, prophylactic before onset)."""
    parts = []
    for t in chosen:
        first, last = _day(t.first, zone), _day(t.last, zone)
        text = f"{drug_name(t.drug)} {first}" + ("" if first == last else f" to {last}")
        if t.prophylactic_before_onset:
            text += ", given before onset as prophylaxis and continued after it"
        parts.append(text)
    return "; ".join(parts)


def _previous_onsets(infusion: Infusion, registry: str, period: Period) -> set[str]:
    earlier = {p.key for p in PERIODS[registry](infusion) if p.end <= period.start}
    reported: set[str] = set()
    for row in RegistryReport.objects.filter(
        infusion=infusion, registry=registry, period__in=earlier
    ).exclude(state=ReportState.DUE):
        reported.update(row.reported_onsets)
    return reported


def _episode_key(episode: course.Episode) -> str:
    return f"{episode.syndrome}-{episode.onset.isoformat()}"


def _cibmtr_values(report: Report, crs: list[course.Episode], meds) -> None:
    period = report.period
    previously = _previous_onsets(report.infusion, Registry.CIBMTR, period)
    in_period = [e for e in crs if e.in_period(period.start, period.end)]
    rows = tuple(r for e in in_period for r in e.driver_rows())
    report.values.append(
        Value(
            "Did the recipient experience cytokine release syndrome (CRS)?",
            "yes" if in_period else "no",
            rows,
        )
    )
    if not in_period:
        return
    first = in_period[0]
    reported_before = _episode_key(first) in previously
    report.values.append(
        Value("Was the date of diagnosis previously reported?", "yes" if reported_before else "no")
    )
    if not reported_before:
        report.values.append(
            Value(
                "Date of diagnosis (first symptom documented)",
                _day(first.onset, report.zone),
                first.points[0].drivers["crs"] or (first.points[0].row_id,),
            )
        )
        report.reported_onsets.append(_episode_key(first))
    given = [t for e in in_period for t in therapies(e, meds, period)]
    for choice, _drugs in THERAPY_CHOICES:
        chosen = [t for t in given if t.choice == choice]
        report.values.append(
            Value(
                f"Therapy given for CRS in this period: {choice}",
                "yes" if chosen else "no",
                tuple(r for t in chosen for r in t.rows),
                note=_therapy_note(chosen, report.zone),
            )
        )


def _ebmt_values(report: Report, by_syndrome: dict[str, list[course.Episode]]) -> None:
    period = report.period
    for syndrome, name in (("crs", "CRS"), ("icans", "ICANS")):
        in_period = [e for e in by_syndrome[syndrome] if e.in_period(period.start, period.end)]
        report.values.append(
            Value(
                f"{name}", "yes" if in_period else "no", tuple(r for e in in_period for r in e.driver_rows())
            )
        )
        if not in_period:
            continue
        first = in_period[0]
        report.values.append(
            Value(
                f"{name} date of onset",
                _day(first.onset, report.zone),
                first.points[0].drivers[syndrome] or (first.points[0].row_id,),
            )
        )
        last = in_period[-1]
        if last.resolved is None:
            report.values.append(
                Value(f"{name} date of resolution", None, (), "not resolved by the last observation: ongoing")
            )
        else:
            report.values.append(
                Value(
                    f"{name} date of resolution",
                    _day(last.resolved, report.zone),
                    (last.resolved_by,) if last.resolved_by else (),
                )
            )
        grades = [(e.maximum_between(period.start, period.end) or 0, e) for e in in_period]
        top, episode = max(grades, key=lambda g: g[0])
        top_rows = tuple(
            r for p in episode.points if (p.grades[syndrome] or 0) == top for r in p.drivers[syndrome]
        )
        report.values.append(Value(f"{name} maximum grade (ASTCT 2019)", str(top), top_rows))


def build(infusion: Infusion, registry: str, period: Period, *, points=None) -> Report:
    points = course.timeline(infusion) if points is None else points
    stored = RegistryReport.objects.filter(infusion=infusion, registry=registry, period=period.key).first()
    report = Report(
        registry,
        period,
        infusion,
        stored.state if stored else ReportState.DUE,
        not_included=NOT_INCLUDED[registry],
    )
    by_syndrome = {s: course.episodes(points, s) for s in course.SYNDROMES}
    meds = list(
        Observation.objects.current()
        .filter(infusion=infusion, kind="medication")
        .order_by("observed_at", "id")
    )
    if registry == Registry.CIBMTR:
        _cibmtr_values(report, by_syndrome["crs"], meds)
    else:
        _ebmt_values(report, by_syndrome)
    wanted = {r for v in report.values for r in v.rows}
    report.evidence = {
        o.pk: o for o in Observation.objects.filter(pk__in=wanted).select_related("recorded_by")
    }
    return report


def due(infusions: Iterable[Infusion], *, now: datetime) -> Iterator[tuple[Infusion, str, Period, str]]:
    """(course, registry, period, state) of every period that has ended, for the coordinator screen."""
    infusions = list(infusions)
    states = {
        (r.infusion_id, r.registry, r.period): r.state
        for r in RegistryReport.objects.filter(infusion__in=infusions)
    }
    for infusion in infusions:
        for registry in (Registry.CIBMTR, Registry.EBMT):
            for period in PERIODS[registry](infusion):
                if period.end > now:
                    break
                yield (
                    infusion,
                    registry,
                    period,
                    states.get((infusion.pk, registry, period.key), ReportState.DUE),
                )


def cohort_rows(
    *, infusions: Iterable[Infusion], registry: str, now: datetime | None = None
) -> list[dict[str, str]]:
    """One row per course and period that ended by ``now`` (``now`` None: every period begun by the
    newest observation), with the registry's field names (question texts) as columns."""
    rows = []
    for infusion in infusions:
        points = course.timeline(infusion)
        last = points[-1].at if points else infusion.infused_at
        for period in PERIODS[registry](infusion):
            if (now is not None and period.end > now) or (now is None and period.start > last):
                break
            report = build(infusion, registry, period, points=points)
            rows.append(
                {
                    "mrn": infusion.patient.mrn,
                    "infusion date": _day(infusion.infused_at, infusion.care_team.time_zone) or "",
                    "period": period.label,
                    **report.as_row(),
                }
            )
    return rows
