"""The census, one piece because its fixed set of queries and the rows built from them change together.

The active infusions of the user's care teams, one row each, in a bounded number of database queries
whatever the number of patients (selectors only: nothing here writes).

Queries (independent of the number of rows): the user's team ids, the infusions with their patient,
product and team plus the newest evaluation id and the time of the last current vitals (subqueries),
the newest evaluations, the open alerts (when the alerts app has its model), and the check schedule
(``monitoring.schedules``, batched).  The row is in :mod:`census_rows`, the CSV and HTML forms in
:mod:`census_output`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import F, Max, OuterRef, Prefetch, Subquery, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from accounts.models import CareTeam
from alerts.models import GRADED_SYNDROMES, Alert, Syndrome
from carttrack.risk import risk_order
from monitoring import schedules
from monitoring.models import (
    AUTOIMMUNE_INDICATIONS,
    CheckType,
    GradeEvaluation,
    Indication,
    IndicationCategory,
    Infusion,
    Observation,
    ObservationKind,
    Product,
    indication_category,
)
from monitoring.selectors import VITALS_STALE_AFTER

from .census_rows import CensusRow, CheckState, OpenAlert

#: Vitals older than this look stale: the same threshold as the nurse's screens.
STALE_VITALS = VITALS_STALE_AFTER

SORTS = {
    "risk": "Risk: highest grade, then open alerts, then overdue checks",
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
    sort: str = "risk"

    #: The query parameters that set the census's view (others, such as ``partial``, do not).
    QUERY_KEYS = frozenset({"team", "product", "grade", "day_min", "day_max", "category", "sort"})

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
        sort = query.get("sort", "risk")
        return cls(
            team=as_int("team", 1, 2**63 - 1),
            product=as_int("product", 1, 2**63 - 1),
            grade=grade if grade in GRADE_FILTERS else "",
            day_min=as_int("day_min", -30, 3650),
            day_max=as_int("day_max", -30, 3650),
            category=category if category in IndicationCategory.values else "",
            sort=sort if sort in SORTS else "risk",
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


def _scoped(user, filters: CensusFilters):
    """The user's active infusions (``Infusion.objects.visible_to``) with the DB-side filters."""
    qs = Infusion.objects.visible_to(user).active()
    if filters.team:
        qs = qs.filter(care_team_id=filters.team)
    if filters.product:
        qs = qs.filter(product_id=filters.product)
    if filters.category == IndicationCategory.AUTOIMMUNE:
        qs = qs.filter(patient__indication__in=list(AUTOIMMUNE_INDICATIONS))
    elif filters.category == IndicationCategory.ONCOLOGY:
        qs = qs.exclude(patient__indication__in=list(AUTOIMMUNE_INDICATIONS))
    return qs


def census_infusions(user, filters: CensusFilters | None = None):
    """The user's active infusions (scoped through ``Infusion.objects.visible_to``), DB-side filters."""
    filters = filters or CensusFilters()
    # The few products (with their template) and teams are loaded once each and shared by every
    # row (prefetch_related), not joined into every row and built again per infusion: with 2 500
    # active patients that was 7 500 model instances of the same handful of rows.
    products = Product.objects.select_related("monitoring_template").only(
        "id",
        "name",
        "monitoring_template",
        *(f"monitoring_template__{f}" for f in _TEMPLATE_FIELDS),
    )
    qs = (
        _scoped(user, filters)
        .select_related("patient")
        .prefetch_related(
            Prefetch("product", queryset=products),
            Prefetch("care_team", queryset=CareTeam.objects.only("id", "name", "time_zone")),
        )
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
        )
        .annotate(last_vitals_payload=_last_vitals_payload())
    )
    return qs.order_by("-infused_at", "id")


def latest_evaluations(ids) -> dict[int, dict]:
    """The newest grade evaluation of each of these infusions (``ids``: a subquery), as values.

    One query on every backend: each infusion's evaluations are numbered newest first and the first
    is kept (a window function, not PostgreSQL's DISTINCT ON: the demo runs on SQLite)."""
    newest_first = Window(
        RowNumber(), partition_by=[F("infusion_id")], order_by=[F("evaluated_at").desc(), F("id").desc()]
    )
    return {
        e["infusion_id"]: e
        for e in GradeEvaluation.objects.filter(infusion_id__in=ids)
        .annotate(newest=newest_first)
        .filter(newest=1)
        .values("infusion_id", *_EVALUATION_FIELDS)
    }


def open_alerts_by_infusion(ids) -> dict[int, list[OpenAlert]]:
    """Active (open or acknowledged, not resolved) alerts of these infusions (``ids``: a subquery
    or a list), in one query."""
    out: dict[int, list[OpenAlert]] = defaultdict(list)
    fields = ("infusion_id", "id", "syndrome", "grade", "status", "opened_at", "acknowledged_at")
    for values in (
        Alert.objects.filter(infusion_id__in=ids).active().order_by("opened_at", "id").values(*fields)
    ):
        alert = OpenAlert(**{k: v for k, v in values.items() if k != "infusion_id"})
        label = Syndrome(alert.syndrome).label if alert.syndrome in Syndrome.values else alert.syndrome
        graded = alert.syndrome in GRADED_SYNDROMES and alert.grade is not None
        alert.title = f"{label} grade {alert.grade}" if graded else label
        out[values["infusion_id"]].append(alert)
    return out


def last_checks_by_infusion(ids) -> dict[int, dict[str, datetime]]:
    """Time of the last current vitals / neuro / lab observation per infusion (one query; ``ids``:
    a subquery or a list)."""
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
    ids=None,
) -> dict[int, list[CheckState]]:
    """Due/overdue checks by the tablet's schedule rules (``monitoring.schedules.checks_for``, pure),
    fed with what the census already loaded plus the missed-check reasons (one query; ``ids``: a
    subquery selecting at least these infusions, else their ids)."""
    if ids is None:
        ids = [i.pk for i in infusions]
    if last is None:
        last = last_checks_by_infusion(ids)
    missed = schedules.missed_checks_by_infusion(ids)
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


#: The newest evaluation's fields a row shows (the same names on ``CensusRow``).
_EVALUATION_FIELDS = (
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

_FAR_PAST = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))


def _sort_key(sort: str):
    return {
        "risk": lambda r: risk_order(
            top_grade=r.top_grade,
            open_alerts=len(r.alerts),
            overdue_checks=len(r.overdue),
            name=r.patient_name,
        ),
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
    # The other queries select "these infusions" by the same scope as a subquery, not by a list
    # of their ids: 2 500 ids are 2 500 parameters for the driver to splice into the SQL text.
    ids = _scoped(user, filters).values("pk")
    evaluations = latest_evaluations(ids) if infusions else {}
    labels = dict(Indication.choices)
    last_checks = last_checks_by_infusion(ids) if infusions else {}
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
            time_zone=inf.care_team.time_zone,
            last_vitals_at=last_vitals_at,
            now=now,
        )
        if last_vitals_at is not None:
            row.vitals_age = now - last_vitals_at
            row.vitals_stale = row.vitals_age > STALE_VITALS
        ev = evaluations.get(inf.pk)
        if ev is not None:
            row.graded = True
            for name in _EVALUATION_FIELDS:
                setattr(row, name, ev[name])
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
        alerts = open_alerts_by_infusion(ids)
        icans = {r.infusion_id: r.icans_grade for r in rows}
        checks = checks_by_infusion(kept, now, icans, last_checks, ids=ids)
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
