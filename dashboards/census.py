"""The census: the active infusions of the user's care teams, one row each, in a bounded number of
database queries whatever the number of patients (selectors only: nothing here writes).

Queries (independent of the number of rows): the user's team ids, the infusions with their patient,
product and team plus the newest evaluation id and the time of the last current vitals (subqueries),
the newest evaluations, the open alerts (when the alerts app has its model), and the check schedule
(``monitoring.schedules``, batched).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape  # the stdlib function Django's escape wraps (same five characters)
from zoneinfo import ZoneInfo

from django.db.models import Max, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from accounts.models import CareTeam
from alerts.models import GRADED_SYNDROMES, Alert, Syndrome
from monitoring import schedules
from monitoring.models import (
    AUTOIMMUNE_INDICATIONS,
    CheckType,
    GradeEvaluation,
    Indication,
    IndicationCategory,
    Infusion,
    MissedCheck,
    Observation,
    ObservationKind,
    Product,
    indication_category,
)
from monitoring.selectors import VITALS_STALE_AFTER

#: Vitals older than this look stale: the same threshold as the nurse's screens.
STALE_VITALS = VITALS_STALE_AFTER

SORTS = {
    "day": "Day post-infusion (newest infusion first)",
    "-day": "Day post-infusion (oldest infusion first)",
    "name": "Patient name",
    "crs": "CRS grade (highest first)",
    "icans": "ICANS grade (highest first)",
    "alerts": "Open alerts (oldest first)",
    "vitals": "Last vitals (oldest first)",
    "overdue": "Overdue checks (most first)",
}
GRADE_FILTERS = {
    "": "Any grade",
    "1": "CRS or ICANS grade ≥ 1",
    "2": "CRS or ICANS grade ≥ 2",
    "3": "CRS or ICANS grade ≥ 3",
    "crs1": "CRS grade ≥ 1",
    "icans1": "ICANS grade ≥ 1",
    "none": "No CRS or ICANS now",
}


@dataclass(frozen=True)
class CensusFilters:
    team: int | None = None
    product: int | None = None
    grade: str = ""
    day_min: int | None = None
    day_max: int | None = None
    category: str = ""
    sort: str = "day"

    @classmethod
    def from_query(cls, query) -> CensusFilters:
        """Parse request.GET leniently: a bad value is ignored (the form shows what is applied)."""

        def as_int(name: str, low: int, high: int) -> int | None:
            raw = (query.get(name) or "").strip()
            try:
                value = int(raw)
            except ValueError:
                return None
            return value if low <= value <= high else None

        grade = query.get("grade", "")
        category = query.get("category", "")
        sort = query.get("sort", "day")
        return cls(
            team=as_int("team", 1, 2**63 - 1),
            product=as_int("product", 1, 2**63 - 1),
            grade=grade if grade in GRADE_FILTERS else "",
            day_min=as_int("day_min", -30, 3650),
            day_max=as_int("day_max", -30, 3650),
            category=category if category in IndicationCategory.values else "",
            sort=sort if sort in SORTS else "day",
        )

    def as_query(self) -> dict[str, str]:
        out = {
            "team": self.team,
            "product": self.product,
            "grade": self.grade,
            "day_min": self.day_min,
            "day_max": self.day_max,
            "category": self.category,
            "sort": self.sort,
        }
        return {k: str(v) for k, v in out.items() if v not in (None, "")}


@dataclass
class OpenAlert:
    id: int
    syndrome: str
    grade: int | None
    status: str
    opened_at: datetime
    acknowledged_at: datetime | None
    title: str = ""

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


@dataclass
class CheckState:
    check_type: str
    label: str
    overdue_by: timedelta | None
    next_due: datetime | None
    missed_reason: str = ""


@dataclass
class CensusRow:
    infusion_id: int
    patient_id: int
    patient_name: str
    mrn: str
    team_id: int
    team_name: str
    product_id: int
    product_name: str
    indication: str
    indication_label: str
    category: str
    infused_at: datetime
    day: int
    crs_grade: int | None = None
    crs_max: int | None = None
    icans_grade: int | None = None
    icans_max: int | None = None
    icans_incomplete: bool = False
    icaht_early: int | None = None
    icaht_early_provisional: bool = False
    icaht_late: int | None = None
    evaluated_at: datetime | None = None
    graded: bool = False
    last_vitals_at: datetime | None = None
    vitals_age: timedelta | None = None
    vitals_stale: bool = True
    alerts: list[OpenAlert] = field(default_factory=list)
    checks: list[CheckState] = field(default_factory=list)
    now: datetime | None = None

    # --- display helpers (text always accompanies colour) ----------------------------------------
    @staticmethod
    def _grade_class(value: int | None, graded: bool) -> str:
        return f"grade-{value}" if graded and value is not None else "grade-na"

    @property
    def crs_class(self) -> str:
        return self._grade_class(self.crs_grade, self.graded)

    @property
    def icans_class(self) -> str:
        return self._grade_class(self.icans_grade, self.graded)

    @property
    def crs_text(self) -> str:
        return grade_text(self.crs_grade, graded=self.graded)

    @property
    def icans_text(self) -> str:
        text = grade_text(self.icans_grade, graded=self.graded)
        return text + " (incomplete)" if self.icans_incomplete else text

    @property
    def crs_max_text(self) -> str:
        return "–" if self.crs_max is None else f"max {self.crs_max}"

    @property
    def icans_max_text(self) -> str:
        return "–" if self.icans_max is None else f"max {self.icans_max}"

    @property
    def vitals_age_text(self) -> str:
        return format_age(self.vitals_age) if self.last_vitals_at else "no vitals yet"

    @property
    def alert_items(self) -> list[tuple[OpenAlert, str]]:
        return [(a, format_age(self.now - a.opened_at) if self.now else "") for a in self.alerts]

    @property
    def overdue_items(self) -> list[tuple[CheckState, str]]:
        return [(c, format_age(c.overdue_by)) for c in self.overdue]

    @property
    def overdue(self) -> list[CheckState]:
        return [c for c in self.checks if c.overdue_by is not None and c.overdue_by > timedelta(0)]

    @property
    def oldest_alert_opened_at(self) -> datetime | None:
        return min((a.opened_at for a in self.alerts), default=None)

    @property
    def top_grade(self) -> int:
        return max(self.crs_grade or 0, self.icans_grade or 0)

    @property
    def icaht_text(self) -> str:
        parts = []
        if self.icaht_early is not None:
            parts.append(
                f"early grade {self.icaht_early}" + (" (provisional)" if self.icaht_early_provisional else "")
            )
        if self.icaht_late is not None:
            parts.append(f"late grade {self.icaht_late}")
        return "; ".join(parts) if parts else "none"


def _latest_evaluation_id():
    return Subquery(
        GradeEvaluation.objects.filter(infusion=OuterRef("pk"))
        .order_by("-evaluated_at", "-id")
        .values("id")[:1]
    )


_TEMPLATE_FIELDS = (
    "id",
    "vitals_interval_hours",
    "vitals_febrile_interval_hours",
    "vitals_days",
    "neuro_interval_hours",
    "neuro_interval_icans_hours",
    "neuro_days",
    "labs_interval_hours",
    "labs_days",
    "overdue_grace_minutes",
)


def _last_vitals_payload():
    return Subquery(
        Observation.objects.current()
        .filter(infusion_id=OuterRef("pk"), kind=ObservationKind.VITALS)
        .order_by("-observed_at", "-id")
        .values("payload")[:1]
    )


def census_infusions(user, filters: CensusFilters | None = None):
    """The user's active infusions (scoped through ``Infusion.objects.visible_to``), DB-side filters."""
    filters = filters or CensusFilters()
    qs = (
        Infusion.objects.visible_to(user)
        .active()
        .select_related("patient", "product__monitoring_template", "care_team")
        .only(
            "id",
            "infused_at",
            "status",
            "care_team_id",
            "product_id",
            "patient_id",
            "patient__id",
            "patient__family_name",
            "patient__given_name",
            "patient__mrn",
            "patient__indication",
            "product__id",
            "product__name",
            "product__monitoring_template",
            "care_team__id",
            "care_team__name",
            "care_team__time_zone",
            *(f"product__monitoring_template__{f}" for f in _TEMPLATE_FIELDS),
        )
        .annotate(
            latest_evaluation_id=_latest_evaluation_id(),
            last_vitals_payload=_last_vitals_payload(),
        )
    )
    if filters.team:
        qs = qs.filter(care_team_id=filters.team)
    if filters.product:
        qs = qs.filter(product_id=filters.product)
    if filters.category == IndicationCategory.AUTOIMMUNE:
        qs = qs.filter(patient__indication__in=list(AUTOIMMUNE_INDICATIONS))
    elif filters.category == IndicationCategory.ONCOLOGY:
        qs = qs.exclude(patient__indication__in=list(AUTOIMMUNE_INDICATIONS))
    return qs.order_by("-infused_at", "id")


def open_alerts_by_infusion(infusions: list[Infusion]) -> dict[int, list[OpenAlert]]:
    """Active (open or acknowledged, not resolved) alerts of these infusions, in one query."""
    out: dict[int, list[OpenAlert]] = defaultdict(list)
    if not infusions:
        return out
    fields = ("infusion_id", "id", "syndrome", "grade", "status", "opened_at", "acknowledged_at")
    for values in (
        Alert.objects.filter(infusion_id__in=[i.pk for i in infusions])
        .active()
        .order_by("opened_at", "id")
        .values(*fields)
    ):
        alert = OpenAlert(**{k: v for k, v in values.items() if k != "infusion_id"})
        label = Syndrome(alert.syndrome).label if alert.syndrome in Syndrome.values else alert.syndrome
        graded = alert.syndrome in GRADED_SYNDROMES and alert.grade is not None
        alert.title = f"{label} grade {alert.grade}" if graded else label
        out[values["infusion_id"]].append(alert)
    return out


def last_checks_by_infusion(ids: list[int]) -> dict[int, dict[str, datetime]]:
    """Time of the last current vitals / neuro / lab observation per infusion (one query)."""
    last: dict[int, dict[str, datetime]] = defaultdict(dict)
    for r in (
        Observation.objects.current()
        .filter(infusion_id__in=ids, kind__in=list(schedules.CHECK_FOR_KIND))
        .values("infusion_id", "kind")
        .annotate(last=Max("observed_at"))
        .order_by()
    ):
        last[r["infusion_id"]][schedules.CHECK_FOR_KIND[r["kind"]]] = r["last"]
    return last


def checks_by_infusion(
    infusions: list[Infusion],
    now: datetime,
    current_icans: dict[int, int | None],
    last: dict[int, dict[str, datetime]] | None = None,
) -> dict[int, list[CheckState]]:
    """Due/overdue checks by the tablet's schedule rules (``monitoring.schedules.checks_for``, pure),
    fed with what the census already loaded plus the missed-check reasons (one query)."""
    ids = [i.pk for i in infusions]
    if last is None:
        last = last_checks_by_infusion(ids)
    missed: dict[int, list[MissedCheck]] = defaultdict(list)
    for m in MissedCheck.objects.filter(infusion_id__in=ids).order_by("-recorded_at", "-id"):
        missed[m.infusion_id].append(m)
    out: dict[int, list[CheckState]] = {}
    for inf in infusions:
        statuses = schedules.checks_for(
            inf,
            now=now,
            last_by_type=last.get(inf.pk, {}),
            current_icans=current_icans.get(inf.pk),
            febrile_tachycardic=schedules.is_febrile_tachycardic(getattr(inf, "last_vitals_payload", None)),
            missed=missed.get(inf.pk, ()),
        )
        out[inf.pk] = [
            CheckState(
                check_type=str(st.check_type),
                label=str(st.label),
                overdue_by=st.overdue_by,
                next_due=st.next_due,
                missed_reason=st.missed_reason,
            )
            for st in statuses
        ]
    return out


def _day(infused_at: datetime, tz_name: str, now: datetime) -> int:
    tz = ZoneInfo(tz_name)
    return (now.astimezone(tz).date() - infused_at.astimezone(tz).date()).days


def _matches_grade(row: CensusRow, grade: str) -> bool:
    if not grade:
        return True
    if grade == "none":
        return row.top_grade == 0
    if grade == "crs1":
        return (row.crs_grade or 0) >= 1
    if grade == "icans1":
        return (row.icans_grade or 0) >= 1
    return row.top_grade >= int(grade)


_FAR_PAST = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))


def _sort_key(sort: str):
    return {
        "day": lambda r: (r.day, r.patient_name),
        "-day": lambda r: (-r.day, r.patient_name),
        "name": lambda r: (r.patient_name.lower(), r.mrn),
        "crs": lambda r: (-(r.crs_grade or 0), -(r.crs_max or 0), r.patient_name),
        "icans": lambda r: (-(r.icans_grade or 0), -(r.icans_max or 0), r.patient_name),
        "alerts": lambda r: (
            not r.alerts,
            min((a.opened_at for a in r.alerts), default=_FAR_PAST),
            r.patient_name,
        ),
        "vitals": lambda r: (r.last_vitals_at is not None, r.last_vitals_at or _FAR_PAST, r.patient_name),
        "overdue": lambda r: (-len(r.overdue), r.patient_name),
    }[sort]


def census_rows(
    user, filters: CensusFilters | None = None, *, now: datetime | None = None
) -> list[CensusRow]:
    filters = filters or CensusFilters()
    now = now or timezone.now()
    infusions = list(census_infusions(user, filters))
    evaluations = {
        e.pk: e
        for e in GradeEvaluation.objects.filter(
            pk__in=[i.latest_evaluation_id for i in infusions if i.latest_evaluation_id]
        ).only(
            "id",
            "evaluated_at",
            "crs_grade",
            "crs_max",
            "icans_grade",
            "icans_max",
            "icans_incomplete",
            "icaht_early",
            "icaht_early_provisional",
            "icaht_late",
        )
    }
    labels = dict(Indication.choices)
    last_checks = last_checks_by_infusion([i.pk for i in infusions]) if infusions else {}
    rows: list[CensusRow] = []
    for inf in infusions:
        patient = inf.patient
        last_vitals_at = last_checks.get(inf.pk, {}).get(CheckType.VITALS)
        row = CensusRow(
            infusion_id=inf.pk,
            patient_id=patient.pk,
            patient_name=f"{patient.family_name}, {patient.given_name}",
            mrn=patient.mrn,
            team_id=inf.care_team_id,
            team_name=inf.care_team.name,
            product_id=inf.product_id,
            product_name=inf.product.name,
            indication=patient.indication,
            indication_label=labels.get(patient.indication, patient.indication),
            category=str(indication_category(patient.indication)),
            infused_at=inf.infused_at,
            day=_day(inf.infused_at, inf.care_team.time_zone, now),
            last_vitals_at=last_vitals_at,
            now=now,
        )
        if last_vitals_at is not None:
            row.vitals_age = now - last_vitals_at
            row.vitals_stale = row.vitals_age > STALE_VITALS
        ev = evaluations.get(inf.latest_evaluation_id)
        if ev is not None:
            row.graded = True
            row.evaluated_at = ev.evaluated_at
            row.crs_grade, row.crs_max = ev.crs_grade, ev.crs_max
            row.icans_grade, row.icans_max = ev.icans_grade, ev.icans_max
            row.icans_incomplete = ev.icans_incomplete
            row.icaht_early, row.icaht_late = ev.icaht_early, ev.icaht_late
            row.icaht_early_provisional = ev.icaht_early_provisional
        if filters.day_min is not None and row.day < filters.day_min:
            continue
        if filters.day_max is not None and row.day > filters.day_max:
            continue
        if not _matches_grade(row, filters.grade):
            continue
        rows.append(row)
    if rows:
        kept_ids = {r.infusion_id for r in rows}
        kept = [i for i in infusions if i.pk in kept_ids]
        alerts = open_alerts_by_infusion(kept)
        checks = checks_by_infusion(kept, now, {r.infusion_id: r.icans_grade for r in rows}, last_checks)
        for row in rows:
            row.alerts = alerts.get(row.infusion_id, [])
            row.checks = checks.get(row.infusion_id, [])
    rows.sort(key=_sort_key(filters.sort))
    return rows


def census_choices(user) -> dict[str, list[tuple[int, str]]]:
    """Teams and products for the filter form (the user's teams; products used there)."""
    team_ids = user.team_ids()
    return {
        "teams": list(CareTeam.objects.filter(pk__in=team_ids).values_list("id", "name")),
        "products": list(
            Product.objects.filter(infusions__care_team_id__in=team_ids).distinct().values_list("id", "name")
        ),
    }


def format_age(delta: timedelta | None) -> str:
    if delta is None:
        return "never"
    minutes = int(delta.total_seconds() // 60)
    if minutes < 0:
        return "0 min"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} d {hours % 24} h"


def grade_text(value: int | None, *, graded: bool = True) -> str:
    if not graded:
        return "not graded yet"
    if value is None:
        return "not assessable"
    return f"grade {value}"


CSV_HEADER = [
    "team",
    "mrn",
    "patient",
    "product",
    "indication",
    "category",
    "infused_at_utc",
    "day_post_infusion",
    "crs_current",
    "crs_max",
    "icans_current",
    "icans_max",
    "icans_incomplete",
    "icaht",
    "open_alerts",
    "oldest_open_alert_age",
    "overdue_checks",
    "last_vitals_utc",
    "last_vitals_age",
    "evaluated_at_utc",
]


def _csv_safe(value) -> str:
    """Neutralise spreadsheet formulas (CSV injection) in free-text cells."""
    text = "" if value is None else str(value)
    if text[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + text
    return text


def census_csv(rows: list[CensusRow], *, now: datetime) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for r in rows:
        oldest = min((a.opened_at for a in r.alerts), default=None)
        writer.writerow(
            [
                _csv_safe(r.team_name),
                _csv_safe(r.mrn),
                _csv_safe(r.patient_name),
                _csv_safe(r.product_name),
                _csv_safe(r.indication_label),
                r.category,
                r.infused_at.astimezone(ZoneInfo("UTC")).isoformat(),
                r.day,
                "" if r.crs_grade is None else r.crs_grade,
                "" if r.crs_max is None else r.crs_max,
                "" if r.icans_grade is None else r.icans_grade,
                "" if r.icans_max is None else r.icans_max,
                "yes" if r.icans_incomplete else "no",
                r.icaht_text,
                len(r.alerts),
                format_age(now - oldest) if oldest else "",
                _csv_safe("; ".join(f"{c.label} overdue {format_age(c.overdue_by)}" for c in r.overdue)),
                r.last_vitals_at.astimezone(ZoneInfo("UTC")).isoformat() if r.last_vitals_at else "",
                format_age(r.vitals_age) if r.last_vitals_at else "never",
                r.evaluated_at.astimezone(ZoneInfo("UTC")).isoformat() if r.evaluated_at else "",
            ]
        )
    return out.getvalue()


def census_rows_html(rows: list[CensusRow]) -> str:
    """The census table body.

    Built in Python rather than with the template language: a 500-row census rendered by Django
    templates costs ~250 ms, this ~15 ms, and the census must answer within 300 ms (issue 5).
    Every value is escaped with ``django.utils.html.escape``; the result is marked safe here only.
    """
    sentinel = 987654321
    head, tail = reverse("dashboards:timeline", kwargs={"patient_id": sentinel}).split(str(sentinel))
    out: list[str] = []
    for r in rows:
        alerts = (
            "".join(
                f'<span class="alert-chip{"" if a.acknowledged else " alert-unack"}">{escape(a.title)} — '
                f"{'acknowledged' if a.acknowledged else 'NOT acknowledged'}, open {escape(age)}</span>"
                for a, age in r.alert_items
            )
            or "none"
        )
        overdue = (
            "".join(
                f'<span class="overdue-chip">{escape(c.label)} overdue {escape(late)}'
                f"{f' (not done: {escape(c.missed_reason)})' if c.missed_reason else ''}</span>"
                for c, late in r.overdue_items
            )
            or "none"
        )
        vitals = escape(r.vitals_age_text) + (" ago" if r.last_vitals_at else "")
        if r.vitals_stale:
            vitals += " <strong>(stale)</strong>"
        out.append(
            f'<tr data-infusion="{r.infusion_id}">'
            f'<th scope="row"><a class="patient-link" href="{head}{r.patient_id}{tail}">'
            f"{escape(r.patient_name)}</a>"
            f'<span class="sub">MRN {escape(r.mrn)} · {escape(r.team_name)}</span></th>'
            f'<td class="num" data-label="Day">day {r.day}</td>'
            f'<td data-label="Product">{escape(r.product_name)}'
            f'<span class="sub">{escape(r.indication_label)} '
            f"({escape(r.category)})</span></td>"
            f'<td data-label="CRS"><span class="grade grade-badge {r.crs_class}">'
            f"CRS {escape(r.crs_text)}</span>"
            f'<span class="sub">{escape(r.crs_max_text)}</span></td>'
            f'<td data-label="ICANS"><span class="grade grade-badge {r.icans_class}">'
            f"ICANS {escape(r.icans_text)}</span>"
            f'<span class="sub">{escape(r.icans_max_text)}</span></td>'
            f'<td data-label="ICAHT">{escape(r.icaht_text)}</td>'
            f'<td data-label="Open alerts">{alerts}</td>'
            f'<td data-label="Overdue checks">{overdue}</td>'
            f'<td class="{"stale" if r.vitals_stale else ""}" data-label="Last vitals">{vitals}</td>'
            "</tr>"
        )
    return mark_safe("\n".join(out))  # noqa: S308 - every interpolated value above is escaped
