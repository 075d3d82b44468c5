"""Visit template (VISIT-3, G-1; VISIT-4): due visits with their windows, and which are overdue.

Default template, the same schedule for every indication group (the groups differ in what a visit
records): day −5 (pre-lymphodepletion baseline), 0, 7, 14, 28; months 2, 3, 6, 9, 12; every 6 months
to year 2; yearly to year 15 (the CIBMTR 15-year track for genetically modified cells, VISIT-2
[CIBMTR manual]). Windows: ±2 days to day 28, ±14 days to month 12, ±30 days after. A month is 1/12 of
8 766 h. A visit not documented by the end of its window is overdue (a task for the coordinator, ALERT-13).

Templates are versioned: a result stores the version it was scheduled with; a new version is added
beside the old one, never edited in place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from .groups import IndicationGroup
from .wording import HOURS_PER_DAY, HOURS_PER_MONTH

TEMPLATE_VERSION_G1 = "g1-2025.1"
DEFAULT_TEMPLATE_VERSION = TEMPLATE_VERSION_G1
TEMPLATE_VERSIONS: tuple[str, ...] = (TEMPLATE_VERSION_G1,)

# G-1 schedule and windows.
ACUTE_VISIT_DAYS = (-5, 0, 7, 14, 28)
EARLY_VISIT_MONTHS = (2, 3, 6, 9, 12)
SEMIANNUAL_VISIT_MONTHS = (18, 24)  # every 6 months to year 2
YEARLY_FROM_YEAR = 3
YEARLY_TO_YEAR = 15
WINDOW_TO_DAY_28_DAYS = 2.0
WINDOW_TO_MONTH_12_DAYS = 14.0
WINDOW_AFTER_MONTH_12_DAYS = 30.0
CD4_FROM_MONTH = 3  # VISIT-4: CD4 from month 3
MALIGNANCY_SCREEN_EVERY_MONTHS = 12  # VISIT-4: new malignancy screen yearly
# VISIT-8: a course with no follow-up data is followed from the close of the day-28 window (day 30).
FOLLOWED_WITHOUT_DATA_FROM_HOURS = (ACUTE_VISIT_DAYS[-1] + WINDOW_TO_DAY_28_DAYS) * HOURS_PER_DAY


class Record(StrEnum):
    """What a follow-up visit records (VISIT-4), the items of its checklist."""

    TOXICITY_CHECKS = "toxicity_checks"  # vitals, neuro checks (MON-4, MON-6)
    SLEDAI_PGA = "sledai_2k_pga"
    TIS_CORE_SET = "tis_core_set"
    MRSS_EUSTAR_FVC = "mrss_eustar_fvc"
    CBC_DIFFERENTIAL = "cbc_differential"
    CREATININE_EGFR = "creatinine_egfr"
    UPCR_URINALYSIS = "upcr_urinalysis"
    SEROLOGY = "anti_dsdna_c3_c4"
    IMMUNOGLOBULINS = "immunoglobulins"
    CD19 = "cd19"
    CD4 = "cd4"
    MEDICATIONS = "medications"
    INFECTIONS_VACCINATIONS = "infections_vaccinations"
    MALIGNANCY_SCREEN = "malignancy_screen"


_INSTRUMENT: dict[IndicationGroup, tuple[Record, ...]] = {
    IndicationGroup.SLE: (Record.SLEDAI_PGA, Record.SEROLOGY),
    IndicationGroup.LUPUS_NEPHRITIS: (Record.SLEDAI_PGA, Record.SEROLOGY, Record.UPCR_URINALYSIS),
    IndicationGroup.MYOSITIS: (Record.TIS_CORE_SET,),
    IndicationGroup.JUVENILE_DERMATOMYOSITIS: (Record.TIS_CORE_SET,),
    IndicationGroup.SSC: (Record.MRSS_EUSTAR_FVC,),
    IndicationGroup.ONCOLOGY: (),
    IndicationGroup.OTHER_AUTOIMMUNE: (),
}
# Observation kinds that document a visit of each group (any of them within the window).
_DOCUMENTING_KINDS: dict[IndicationGroup, tuple[str, ...]] = {
    IndicationGroup.SLE: ("sledai",),
    IndicationGroup.LUPUS_NEPHRITIS: ("sledai",),
    IndicationGroup.MYOSITIS: ("myositis_core_set",),
    IndicationGroup.JUVENILE_DERMATOMYOSITIS: ("myositis_core_set",),
    IndicationGroup.SSC: ("ssc_assessment",),
    IndicationGroup.ONCOLOGY: ("lab",),
    IndicationGroup.OTHER_AUTOIMMUNE: ("lab", "medication_status"),
}
_ACUTE_DOCUMENTING_KINDS = ("vitals", "neuro", "lab")


@dataclass(frozen=True, slots=True)
class VisitSpec:
    code: str  # stable: "day_-5", "day_28", "month_3", "month_18", "year_3"
    label: str
    target_hours: float
    window_hours: float  # ± around the target
    records: tuple[Record, ...]
    documenting_kinds: tuple[str, ...]

    @property
    def opens_hours(self) -> float:
        return self.target_hours - self.window_hours

    @property
    def closes_hours(self) -> float:
        return self.target_hours + self.window_hours


@dataclass(frozen=True, slots=True)
class VisitTemplate:
    group: IndicationGroup
    version: str
    visits: tuple[VisitSpec, ...]

    def visit(self, code: str) -> VisitSpec | None:
        return next((v for v in self.visits if v.code == code), None)


def _records(group: IndicationGroup, month: float) -> tuple[Record, ...]:
    out = [*_INSTRUMENT[group], Record.CBC_DIFFERENTIAL, Record.CREATININE_EGFR]
    out += [Record.IMMUNOGLOBULINS, Record.CD19]
    if month >= CD4_FROM_MONTH:
        out.append(Record.CD4)
    out += [Record.MEDICATIONS, Record.INFECTIONS_VACCINATIONS]
    if month >= MALIGNANCY_SCREEN_EVERY_MONTHS and round(month) % MALIGNANCY_SCREEN_EVERY_MONTHS == 0:
        out.append(Record.MALIGNANCY_SCREEN)
    return tuple(out)


@lru_cache(maxsize=64)
def template_for(group: IndicationGroup, version: str = DEFAULT_TEMPLATE_VERSION) -> VisitTemplate:
    """The visit template of a group (G-1). Raises ValueError for an unknown version."""
    if version not in TEMPLATE_VERSIONS:
        raise ValueError(f"visit template version {version!r} is not one of: {', '.join(TEMPLATE_VERSIONS)}")
    kinds = _DOCUMENTING_KINDS[group]
    visits: list[VisitSpec] = []
    for d in ACUTE_VISIT_DAYS:
        label = "Day −5 (pre-lymphodepletion baseline)" if d < 0 else f"Day {d}"
        records = (Record.TOXICITY_CHECKS, *_records(group, 0.0))
        visits.append(
            VisitSpec(
                f"day_{d}",
                label,
                d * HOURS_PER_DAY,
                WINDOW_TO_DAY_28_DAYS * HOURS_PER_DAY,
                records,
                kinds + _ACUTE_DOCUMENTING_KINDS,
            )
        )
    for m in EARLY_VISIT_MONTHS:
        visits.append(
            VisitSpec(
                f"month_{m}",
                f"Month {m}",
                m * HOURS_PER_MONTH,
                WINDOW_TO_MONTH_12_DAYS * HOURS_PER_DAY,
                _records(group, m),
                kinds,
            )
        )
    late = [(f"month_{m}", f"Month {m}", float(m)) for m in SEMIANNUAL_VISIT_MONTHS]
    late += [(f"year_{y}", f"Year {y}", 12.0 * y) for y in range(YEARLY_FROM_YEAR, YEARLY_TO_YEAR + 1)]
    for code, label, month in late:
        visits.append(
            VisitSpec(
                code,
                label,
                month * HOURS_PER_MONTH,
                WINDOW_AFTER_MONTH_12_DAYS * HOURS_PER_DAY,
                _records(group, month),
                kinds,
            )
        )
    return VisitTemplate(group, version, tuple(visits))


class VisitState(StrEnum):
    UPCOMING = "upcoming"  # the window has not opened
    DUE = "due"  # the window is open and nothing documents the visit yet
    DOCUMENTED = "documented"
    OVERDUE = "overdue"  # the window has closed undocumented: a task for the coordinator (G-1)


@dataclass(frozen=True, slots=True)
class DocumentedVisit:
    """A documented visit: its time, and its template code when the form recorded one."""

    t_hours: float
    code: str | None = None


@dataclass(frozen=True, slots=True)
class VisitStatus:
    spec: VisitSpec
    state: VisitState
    documented_hours: float | None = None


def visit_schedule(
    template: VisitTemplate,
    *,
    as_of_hours: float,
    documented: Sequence[DocumentedVisit] = (),
    ended_hours: float | None = None,
) -> tuple[VisitStatus, ...]:
    """Every visit of the template with its state at `as_of_hours`. A documented visit with a code
    documents that visit; one without a code documents the visit whose window holds it (the nearest
    target when two would). Visits whose window opens after `ended_hours` (death, the end of this
    course) are not due and are left out."""
    matched: dict[str, float] = {}
    for d in sorted(documented, key=lambda x: x.t_hours):
        spec = template.visit(d.code) if d.code is not None else _window_holding(template, d.t_hours)
        if spec is not None and spec.code not in matched:
            matched[spec.code] = d.t_hours
    out: list[VisitStatus] = []
    for spec in template.visits:
        if ended_hours is not None and spec.opens_hours > ended_hours:
            continue
        if spec.code in matched:
            out.append(VisitStatus(spec, VisitState.DOCUMENTED, matched[spec.code]))
        elif as_of_hours > spec.closes_hours:
            out.append(VisitStatus(spec, VisitState.OVERDUE))
        elif as_of_hours >= spec.opens_hours:
            out.append(VisitStatus(spec, VisitState.DUE))
        else:
            out.append(VisitStatus(spec, VisitState.UPCOMING))
    return tuple(out)


def _window_holding(template: VisitTemplate, t_hours: float) -> VisitSpec | None:
    holding = [v for v in template.visits if v.opens_hours <= t_hours <= v.closes_hours]
    return min(holding, key=lambda v: abs(v.target_hours - t_hours)) if holding else None


def overdue_visits(schedule: Iterable[VisitStatus]) -> tuple[VisitStatus, ...]:
    return tuple(v for v in schedule if v.state is VisitState.OVERDUE)


def documented_from_observations(
    template: VisitTemplate, observations: Iterable[object]
) -> tuple[DocumentedVisit, ...]:
    """Visits documented by the course's own observations: an observation of a kind that documents
    the visit (its disease instrument; labs for oncology) within the visit's window."""
    out: list[DocumentedVisit] = []
    for obs in observations:
        kind = getattr(obs, "kind", None)
        t = getattr(obs, "t_hours", None)
        if not isinstance(kind, str) or not isinstance(t, (int, float)):
            continue
        spec = _window_holding(template, float(t))
        if spec is not None and kind in spec.documenting_kinds:
            out.append(DocumentedVisit(float(t), spec.code))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class DatedVisit:
    spec: VisitSpec
    target: datetime
    opens: datetime
    closes: datetime


def dated_schedule(template: VisitTemplate, infusion_at: datetime) -> tuple[DatedVisit, ...]:
    """The template's visits as aware datetimes from the infusion time (a naive time is refused: every
    time a person sees carries its zone)."""
    if infusion_at.tzinfo is None or infusion_at.utcoffset() is None:
        raise ValueError("infusion_at must carry its time zone")

    def at(hours: float) -> datetime:
        return infusion_at + timedelta(hours=hours)

    return tuple(
        DatedVisit(v, at(v.target_hours), at(v.opens_hours), at(v.closes_hours)) for v in template.visits
    )
