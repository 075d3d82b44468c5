"""One piece: every cohort figure is computed from the same courses, loaded once in four queries.

Cohort analytics: CRS/ICANS incidence and maximum grade by product and by indication category,
onset day and duration, time from CRS grade ≥ 2 to tocilizumab, ICAHT grades, time to acknowledge.

Reads only, four queries whatever the cohort size (infusions, evaluations, tocilizumab doses, alerts).
The cohort is the infusions (active or closed) of the teams where the user holds ``analytics.view``,
infused within the date range.  Grades are those the clinical core stored (episode maximum, A-10).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from accounts.permissions import team_ids_with
from alerts.models import Alert, AlertStatus, Syndrome
from monitoring.models import (
    GradeEvaluation,
    IndicationCategory,
    Infusion,
    Observation,
    ObservationKind,
    indication_category,
)

SMALL_N = 10
GRADES = (0, 1, 2, 3, 4, 5)


@dataclass
class Course:
    infusion_id: int
    product: str
    category: str
    infused_at: datetime
    graded: bool = False
    crs_max: int | None = None
    icans_max: int | None = None
    crs_onset_h: float | None = None
    crs_resolved_h: float | None = None
    icans_onset_h: float | None = None
    icans_resolved_h: float | None = None
    crs2_h: float | None = None
    toci_after_crs2_h: float | None = None
    toci_before_crs2: bool = False
    icaht_early: int | None = None
    icaht_late: int | None = None


@dataclass
class Summary:
    """Median with quartiles, and n."""

    n: int
    median: float | None
    q1: float | None
    q3: float | None

    @classmethod
    def of(cls, values: list[float]) -> Summary:
        values = sorted(v for v in values if v is not None)
        if not values:
            return cls(0, None, None, None)
        if len(values) == 1:
            return cls(1, values[0], values[0], values[0])
        q = statistics.quantiles(values, n=4, method="inclusive")
        return cls(len(values), statistics.median(values), q[0], q[2])

    @property
    def text_day(self) -> str:
        return self.text("days")

    @property
    def text_hour(self) -> str:
        return self.text("h")

    @property
    def text_min(self) -> str:
        return self.text("min", 0)

    def text(self, unit: str, digits: int = 1) -> str:
        if not self.n:
            return "no data"
        return (
            f"median {self.median:.{digits}f} {unit} (IQR {self.q1:.{digits}f}–{self.q3:.{digits}f}), "
            f"n = {self.n}"
        )


@dataclass
class GroupStats:
    label: str
    n: int
    graded: int
    crs_any: int
    crs_severe: int
    icans_any: int
    icans_severe: int
    crs_distribution: dict
    icans_distribution: dict
    icaht_distribution: dict
    icaht_late_distribution: dict
    crs_onset_day: Summary
    crs_duration_days: Summary
    icans_onset_day: Summary
    icans_duration_days: Summary
    crs2_to_toci_h: Summary
    crs2_no_toci: int
    toci_before_crs2: int
    small: bool = field(default=False)

    @staticmethod
    def pct(part: int, whole: int) -> str:
        return f"{100.0 * part / whole:.0f} %" if whole else "–"

    @property
    def crs_any_pct(self) -> str:
        return self.pct(self.crs_any, self.graded)

    @property
    def crs_severe_pct(self) -> str:
        return self.pct(self.crs_severe, self.graded)

    @property
    def icans_any_pct(self) -> str:
        return self.pct(self.icans_any, self.graded)

    @property
    def icans_severe_pct(self) -> str:
        return self.pct(self.icans_severe, self.graded)


@dataclass
class AckStats:
    label: str
    n: int
    acknowledged: int
    unacknowledged_open: int
    minutes: Summary


@dataclass
class Cohort:
    start: date
    end: date
    overall: GroupStats
    by_product: list[GroupStats]
    by_category: list[GroupStats]
    ack: list[AckStats]
    figures: list[dict]

    @property
    def small(self) -> bool:
        return self.overall.n < SMALL_N


def _hours(moment: datetime, infused_at: datetime) -> float:
    return (moment - infused_at).total_seconds() / 3600.0


def _courses(user, start: date, end: date, tz: ZoneInfo) -> tuple[dict[int, Course], list[int]]:
    teams = team_ids_with(user, "analytics.view")
    lo = datetime.combine(start, time.min, tzinfo=tz)
    hi = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    infusions = (
        Infusion.objects.visible_to(user)
        .filter(care_team_id__in=teams, infused_at__gte=lo, infused_at__lt=hi)
        .values_list("id", "product__name", "patient__indication", "infused_at")
    )
    courses = {
        pk: Course(pk, product, str(indication_category(indication)), infused_at)
        for pk, product, indication, infused_at in infusions
    }
    return courses, teams


def _apply_evaluations(courses: dict[int, Course]) -> None:
    rows = (
        GradeEvaluation.objects.filter(infusion_id__in=list(courses))
        .order_by("infusion_id", "evaluated_at", "id")
        .values_list(
            "infusion_id",
            "crs_grade",
            "crs_max",
            "icans_grade",
            "icans_max",
            "icaht_early",
            "icaht_late",
            "triggered_by__observed_at",
            "evaluated_at",
        )
    )
    for inf_id, crs, crs_max, icans, icans_max, icaht_e, icaht_l, observed_at, evaluated_at in rows:
        c = courses[inf_id]
        c.graded = True
        t = _hours(observed_at or evaluated_at, c.infused_at)
        for value in (crs, crs_max):
            if value is not None:
                c.crs_max = max(c.crs_max or 0, value)
        for value in (icans, icans_max):
            if value is not None:
                c.icans_max = max(c.icans_max or 0, value)
        if crs is not None:
            if crs >= 1 and c.crs_onset_h is None:
                c.crs_onset_h = t
            if crs == 0 and c.crs_onset_h is not None and c.crs_resolved_h is None:
                c.crs_resolved_h = t
            if crs >= 1 and c.crs_resolved_h is not None and t > c.crs_resolved_h:
                c.crs_resolved_h = None  # recurred: duration runs to the later resolution
            if crs >= 2 and c.crs2_h is None:
                c.crs2_h = t
        if icans is not None:
            if icans >= 1 and c.icans_onset_h is None:
                c.icans_onset_h = t
            if icans == 0 and c.icans_onset_h is not None and c.icans_resolved_h is None:
                c.icans_resolved_h = t
            if icans >= 1 and c.icans_resolved_h is not None and t > c.icans_resolved_h:
                c.icans_resolved_h = None
        # The latest evaluation's ICAHT grade stands (early grades are provisional until day 30, C-6).
        if icaht_e is not None:
            c.icaht_early = icaht_e
        if icaht_l is not None:
            c.icaht_late = icaht_l


def _apply_tocilizumab(courses: dict[int, Course]) -> None:
    doses = defaultdict(list)
    for inf_id, observed_at in (
        Observation.objects.current()
        .filter(infusion_id__in=list(courses), kind=ObservationKind.MEDICATION, payload__drug="tocilizumab")
        .order_by("observed_at")
        .values_list("infusion_id", "observed_at")
    ):
        doses[inf_id].append(observed_at)
    for inf_id, times in doses.items():
        c = courses[inf_id]
        if c.crs2_h is None:
            continue
        hours = [_hours(t, c.infused_at) for t in times]
        if any(h < c.crs2_h for h in hours):
            c.toci_before_crs2 = True
        after = [h for h in hours if h >= c.crs2_h]
        if after and not c.toci_before_crs2:
            c.toci_after_crs2_h = after[0] - c.crs2_h


def _distribution(values: list[int | None]) -> dict:
    out = {str(g): 0 for g in GRADES}
    out["n/a"] = 0
    for v in values:
        out["n/a" if v is None else str(v)] += 1
    return out


def _group(label: str, courses: list[Course]) -> GroupStats:
    graded = [c for c in courses if c.graded]
    crs_onset = [c.crs_onset_h / 24 for c in graded if c.crs_onset_h is not None]
    crs_dur = [
        (c.crs_resolved_h - c.crs_onset_h) / 24
        for c in graded
        if c.crs_onset_h is not None and c.crs_resolved_h is not None
    ]
    icans_onset = [c.icans_onset_h / 24 for c in graded if c.icans_onset_h is not None]
    icans_dur = [
        (c.icans_resolved_h - c.icans_onset_h) / 24
        for c in graded
        if c.icans_onset_h is not None and c.icans_resolved_h is not None
    ]
    crs2 = [c for c in graded if c.crs2_h is not None]
    return GroupStats(
        label=label,
        n=len(courses),
        graded=len(graded),
        crs_any=sum(1 for c in graded if (c.crs_max or 0) >= 1),
        crs_severe=sum(1 for c in graded if (c.crs_max or 0) >= 3),
        icans_any=sum(1 for c in graded if (c.icans_max or 0) >= 1),
        icans_severe=sum(1 for c in graded if (c.icans_max or 0) >= 3),
        crs_distribution=_distribution([c.crs_max for c in graded]),
        icans_distribution=_distribution([c.icans_max for c in graded]),
        icaht_distribution=_distribution([c.icaht_early for c in graded]),
        icaht_late_distribution=_distribution([c.icaht_late for c in graded]),
        crs_onset_day=Summary.of(crs_onset),
        crs_duration_days=Summary.of(crs_dur),
        icans_onset_day=Summary.of(icans_onset),
        icans_duration_days=Summary.of(icans_dur),
        crs2_to_toci_h=Summary.of([c.toci_after_crs2_h for c in crs2 if c.toci_after_crs2_h is not None]),
        crs2_no_toci=sum(1 for c in crs2 if c.toci_after_crs2_h is None and not c.toci_before_crs2),
        toci_before_crs2=sum(1 for c in crs2 if c.toci_before_crs2),
        small=len(courses) < SMALL_N,
    )


def _ack_stats(courses: dict[int, Course]) -> list[AckStats]:
    per: dict[str, list[tuple]] = defaultdict(list)
    for syndrome, status, opened_at, acknowledged_at in Alert.objects.filter(
        infusion_id__in=list(courses)
    ).values_list("syndrome", "status", "opened_at", "acknowledged_at"):
        per[syndrome].append((status, opened_at, acknowledged_at))
        per["all"].append((status, opened_at, acknowledged_at))
    labels = dict(Syndrome.choices)
    out = []
    for key in ["all"] + [s for s in Syndrome.values if s in per]:
        rows = per.get(key, [])
        minutes = [(ack - opened).total_seconds() / 60 for _, opened, ack in rows if ack]
        out.append(
            AckStats(
                label="All alerts" if key == "all" else labels[key],
                n=len(rows),
                acknowledged=len(minutes),
                unacknowledged_open=sum(
                    1 for status, _, ack in rows if not ack and status == AlertStatus.OPEN
                ),
                minutes=Summary.of(minutes),
            )
        )
    return out


def _distribution_figure(key: str, title: str, groups: list[GroupStats], attr: str) -> dict:
    colours = ["#d5f5e3", "#f9e79f", "#f5b041", "#e74c3c", "#922b21", "#000000", "#aab7b8"]
    labels = [g.label + (" (n < 10)" if g.small else "") for g in groups]
    data = []
    for i, grade in enumerate([*map(str, GRADES), "n/a"]):
        counts = [getattr(g, attr)[grade] for g in groups]
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": f"grade {grade}" if grade != "n/a" else "not graded / not assessable",
                "y": labels,
                "x": counts,
                "marker": {"color": colours[i], "line": {"color": "#333", "width": 1}},
                "text": [str(c) if c else "" for c in counts],
                "textposition": "inside",
                "hovertemplate": "%{y}: %{x} patient(s) with maximum "
                + (f"grade {grade}" if grade != "n/a" else "not graded / not assessable")
                + "<extra></extra>",
            }
        )
    return {
        "id": f"chart-{key}",
        "title": title,
        "has_data": any(g.graded for g in groups),
        "log_toggle": False,
        "summary": "; ".join(f"{g.label}: {g.graded} graded" for g in groups),
        "figure": {
            "data": data,
            "layout": {
                "barmode": "stack",
                "height": 120 + 40 * max(1, len(groups)),
                "margin": {"l": 180, "r": 20, "t": 16, "b": 90},
                "xaxis": {
                    "title": {"text": "patients"},
                    "dtick": 1 if max((g.graded for g in groups), default=0) <= 12 else None,
                },
                "yaxis": {"automargin": True},
                "legend": {"orientation": "h", "yanchor": "top", "y": -0.35},
            },
        },
    }


def default_range(today: date) -> tuple[date, date]:
    return today - timedelta(days=365), today


def cohort_analytics(user, *, start: date, end: date, tz: ZoneInfo | None = None) -> Cohort:
    tz = tz or ZoneInfo(timezone.get_current_timezone_name())
    courses, _teams = _courses(user, start, end, tz)
    if courses:
        _apply_evaluations(courses)
        _apply_tocilizumab(courses)
    all_courses = list(courses.values())
    by_product: dict[str, list[Course]] = defaultdict(list)
    by_category: dict[str, list[Course]] = defaultdict(list)
    for c in all_courses:
        by_product[c.product].append(c)
        by_category[c.category].append(c)
    products = [_group(name, by_product[name]) for name in sorted(by_product)]
    category_labels = dict(IndicationCategory.choices)
    categories = [
        _group(category_labels[cat], by_category[cat])
        for cat in IndicationCategory.values
        if cat in by_category
    ]
    figures = []
    if products:
        figures = [
            _distribution_figure("crs-product", "Maximum CRS grade by product", products, "crs_distribution"),
            _distribution_figure(
                "icans-product", "Maximum ICANS grade by product", products, "icans_distribution"
            ),
            _distribution_figure(
                "crs-category", "Maximum CRS grade: oncology vs autoimmune", categories, "crs_distribution"
            ),
            _distribution_figure(
                "icans-category",
                "Maximum ICANS grade: oncology vs autoimmune",
                categories,
                "icans_distribution",
            ),
            _distribution_figure(
                "icaht-product", "Early ICAHT grade by product", products, "icaht_distribution"
            ),
        ]
    return Cohort(
        start=start,
        end=end,
        overall=_group("All patients", all_courses),
        by_product=products,
        by_category=categories,
        ack=_ack_stats(courses) if courses else [],
        figures=figures,
    )
