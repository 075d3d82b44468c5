"""Which bedside checks are due or overdue for an infusion (MON-4…MON-8, MON-14, C-5, B-6).

The intervals come from the product's :class:`~monitoring.models.MonitoringTemplate`:

* vitals every ``vitals_interval_hours`` (4 h), every ``vitals_febrile_interval_hours`` (2 h) while the
  latest vitals are febrile **and** tachycardic by the core's rule (MON-4, MON-5:
  ``carttrack.checks.is_febrile_tachycardic``), for days 0–``vitals_days``;
* ICE/CAPD every ``neuro_interval_hours`` (12 h, i.e. at least twice daily), every
  ``neuro_interval_icans_hours`` (8 h) while the current ICANS grade is ≥ 1, for days 0–``neuro_days``;
* labs every ``labs_interval_hours`` (24 h) for days 0–``labs_days``.

"Days 0–14" follows :meth:`Infusion.day_post_infusion`: calendar days in the care team's time zone, so
the last check falls due before midnight at the end of day 14.  A check is counted from the last
*current* observation of its kind that recorded everything the check needs (``completes_check``, set
from ``carttrack.missing_for_complete_check``: a heart rate alone does not complete vitals;
entered-in-error rows do not count as done); before the first one it is counted from the infusion.
A standing value that goes stale (A-14, B-6: older than the current grade's vitals interval,
or 24 h for an ICANS domain, as the clinical core stated it in the latest evaluation) makes its check
due when it goes stale, if that is earlier.

:func:`checks_for` is pure (no queries) so the escalation engine and the screens can call it with
data they already hold; :func:`checks_for_infusions` loads what it needs for many infusions with a
bounded number of queries (4, whatever the number of infusions).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Max, OuterRef, QuerySet, Subquery

from carttrack import checks as core_checks
from carttrack import units

from .models import (
    CheckType,
    GradeEvaluation,
    Infusion,
    MissedCheck,
    MonitoringTemplate,
    Observation,
    ObservationKind,
)

DUE_SOON = timedelta(minutes=30)

#: Which observation kind completes which check.
KIND_FOR_CHECK: dict[str, str] = {
    CheckType.VITALS: ObservationKind.VITALS,
    CheckType.NEURO: ObservationKind.NEURO,
    CheckType.LABS: ObservationKind.LAB,
}
CHECK_FOR_KIND: dict[str, str] = {kind: check for check, kind in KIND_FOR_CHECK.items()}


@dataclass(frozen=True)
class CheckStatus:
    """The state of one check type for one infusion at ``now``."""

    check_type: str
    label: str
    interval_hours: int
    reason_for_interval: str
    last_done: datetime | None
    next_due: datetime | None  # None: the monitoring window for this check has ended
    window_ends: datetime
    overdue_by: timedelta | None  # None when not overdue
    missed_reason: str = ""
    missed_recorded_by_id: int | None = None

    @property
    def is_overdue(self) -> bool:
        return self.overdue_by is not None

    @property
    def is_due_soon(self) -> bool:
        return self.next_due is not None and not self.is_overdue and self.next_due - self._now <= DUE_SOON

    @property
    def window_ended(self) -> bool:
        return self.next_due is None

    @property
    def overdue_minutes(self) -> int:
        return int(self.overdue_by.total_seconds() // 60) if self.overdue_by else 0

    @property
    def state(self) -> str:
        """``overdue``, ``due`` (within 30 min), ``ok`` or ``ended`` (for CSS classes and text)."""
        if self.window_ended:
            return "ended"
        if self.is_overdue:
            return "overdue"
        if self.is_due_soon:
            return "due"
        return "ok"

    # ``now`` is kept out of the dataclass fields' public surface but needed for ``is_due_soon``.
    _now: datetime = datetime.min


def window_end(infusion: Infusion, days: int) -> datetime:
    """Midnight (care team time zone) at the end of day ``days`` post-infusion."""
    tz = ZoneInfo(infusion.care_team.time_zone)
    day0 = infusion.infused_at.astimezone(tz).date()
    return datetime.combine(day0 + timedelta(days=days + 1), time.min, tzinfo=tz)


def is_febrile_tachycardic(vitals_payload: Mapping | None) -> bool:
    """The core's rule (``carttrack.checks.is_febrile_tachycardic``, MON-4/MON-5: ≥ 38.0 °C unrounded
    and HR above 100/min) on a stored vitals payload (°F through the core's ``units.f_to_c``)."""
    if not vitals_payload:
        return False
    try:
        temp_c = vitals_payload.get("temp_c")
        if temp_c is None and vitals_payload.get("temp_f") is not None:
            temp_c = units.f_to_c(float(vitals_payload["temp_f"]))
        hr = vitals_payload.get("hr")
        return core_checks.is_febrile_tachycardic(
            None if temp_c is None else float(temp_c), None if hr is None else float(hr)
        )
    except (TypeError, ValueError):
        return False


def _status(
    *,
    check_type: str,
    interval_hours: int,
    reason: str,
    anchor: datetime,
    last_done: datetime | None,
    ends: datetime,
    now: datetime,
    missed: Sequence[MissedCheck],
) -> CheckStatus:
    next_due: datetime | None = anchor + timedelta(hours=interval_hours)
    if next_due >= ends:
        next_due = None
    overdue_by = now - next_due if next_due is not None and now > next_due else None
    missed_reason, missed_by = "", None
    for m in missed:  # newest first; a reason recorded for the slot now open
        if m.check_type == check_type and (last_done is None or m.due_at > last_done):
            missed_reason, missed_by = m.reason, m.recorded_by_id
            break
    return CheckStatus(
        check_type=check_type,
        label=CheckType(check_type).label,
        interval_hours=interval_hours,
        reason_for_interval=reason,
        last_done=last_done,
        next_due=next_due,
        window_ends=ends,
        overdue_by=overdue_by,
        missed_reason=missed_reason,
        missed_recorded_by_id=missed_by,
        _now=now,
    )


def stale_times(infusion: Infusion, result: Mapping | None) -> dict[str, datetime]:
    """When the earliest standing value of each check goes stale (A-14, B-6), from a stored result:
    ``vitals`` from the CRS domains, ``neuro`` from the ICANS domains."""
    out: dict[str, datetime] = {}
    for check_type, syndrome in ((CheckType.VITALS, "crs"), (CheckType.NEURO, "icans")):
        standing = ((result or {}).get(syndrome) or {}).get("standing") or []
        times = [
            infusion.infused_at + timedelta(hours=float(v["t_hours"]) + float(v["stale_after_hours"]))
            for v in standing
            if isinstance(v, Mapping) and v.get("t_hours") is not None and v.get("stale_after_hours")
        ]
        if times:
            out[check_type] = min(times)
    return out


def checks_for(
    infusion: Infusion,
    *,
    now: datetime,
    last_by_type: Mapping[str, datetime | None],
    current_icans: int | None,
    febrile_tachycardic: bool,
    missed: Sequence[MissedCheck] = (),
    template: MonitoringTemplate | None = None,
    stale_at: Mapping[str, datetime] | None = None,
) -> list[CheckStatus]:
    """Vitals, neuro and labs status for ``infusion`` at ``now`` (no database queries if
    ``infusion.product.monitoring_template`` and ``infusion.care_team`` are loaded or ``template`` given).

    ``last_by_type`` maps :class:`CheckType` values to the time of the last current observation.
    ``missed`` are the infusion's :class:`MissedCheck` rows, newest first. ``stale_at`` maps a check
    type to when its oldest standing value goes stale (:func:`stale_times`): the check is due then
    if that is before its interval ends.
    """
    template = template or infusion.product.monitoring_template
    if febrile_tachycardic:
        vitals = (template.vitals_febrile_interval_hours, "febrile and tachycardic")
    else:
        vitals = (template.vitals_interval_hours, "routine")
    if current_icans is not None and current_icans >= 1:
        neuro = (template.neuro_interval_icans_hours, f"ICANS grade {current_icans}")
    else:
        neuro = (template.neuro_interval_hours, "at least twice daily")
    plan = (
        (CheckType.VITALS, vitals, template.vitals_days),
        (CheckType.NEURO, neuro, template.neuro_days),
        (CheckType.LABS, (template.labs_interval_hours, "daily labs"), template.labs_days),
    )
    out: list[CheckStatus] = []
    for check_type, (hours, why), days in plan:
        last = last_by_type.get(check_type)
        anchor = last or infusion.infused_at
        stale = (stale_at or {}).get(check_type)
        if stale is not None and stale < anchor + timedelta(hours=hours):
            anchor = stale - timedelta(hours=hours)
            why = f"{why}; a standing value goes stale"
        out.append(
            _status(
                check_type=check_type,
                interval_hours=hours,
                reason=why,
                anchor=anchor,
                last_done=last,
                ends=window_end(infusion, days),
                now=now,
                missed=missed,
            )
        )
    return out


def missed_checks_by_infusion(infusion_ids: Iterable[int] | QuerySet) -> dict[int, list[MissedCheck]]:
    """The recorded reasons for missed checks of each infusion, newest first (one query)."""
    missed: dict[int, list[MissedCheck]] = {}
    # A queryset stays a subquery (no list of ids spliced into the SQL); anything else is listed.
    ids = infusion_ids if isinstance(infusion_ids, QuerySet) else list(infusion_ids)
    for m in MissedCheck.objects.filter(infusion_id__in=ids).order_by("-recorded_at", "-id"):
        missed.setdefault(m.infusion_id, []).append(m)
    return missed


def checks_for_infusions(
    infusions: Iterable[Infusion | int], *, now: datetime
) -> dict[int, list[CheckStatus]]:
    """:func:`checks_for` for many infusions in 4 queries: infusions (with template, team, latest
    vitals payload and ICANS grade), last observation per kind, missed checks.  Keyed by infusion id.

    The caller is responsible for scoping (pass infusions from ``Infusion.objects.visible_to(user)``
    or, for the escalation engine, all active infusions).
    """
    ids = [i.pk if isinstance(i, Infusion) else int(i) for i in infusions]
    if not ids:
        return {}
    latest_vitals = (
        Observation.objects.current()
        .filter(infusion_id=OuterRef("pk"), kind=ObservationKind.VITALS)
        .order_by("-observed_at", "-id")
        .values("payload")[:1]
    )
    latest = GradeEvaluation.objects.filter(infusion_id=OuterRef("pk")).order_by("-evaluated_at", "-id")
    rows = list(
        Infusion.objects.filter(pk__in=ids)
        .select_related("product__monitoring_template", "care_team")
        .annotate(
            _last_vitals=Subquery(latest_vitals),
            _icans=Subquery(latest.values("icans_grade")[:1]),
            _crs_standing=Subquery(latest.values("result__crs__standing")[:1]),
            _icans_standing=Subquery(latest.values("result__icans__standing")[:1]),
        )
    )
    last: dict[int, dict[str, datetime]] = {}
    for r in (
        Observation.objects.current()
        .filter(infusion_id__in=ids, kind__in=list(CHECK_FOR_KIND), completes_check=True)
        .values("infusion_id", "kind")
        .annotate(last=Max("observed_at"))
    ):
        last.setdefault(r["infusion_id"], {})[CHECK_FOR_KIND[r["kind"]]] = r["last"]
    missed = missed_checks_by_infusion(ids)
    return {
        inf.pk: checks_for(
            inf,
            now=now,
            last_by_type=last.get(inf.pk, {}),
            current_icans=inf._icans,
            febrile_tachycardic=is_febrile_tachycardic(inf._last_vitals),
            missed=missed.get(inf.pk, ()),
            stale_at=stale_times(
                inf,
                {"crs": {"standing": inf._crs_standing}, "icans": {"standing": inf._icans_standing}},
            ),
        )
        for inf in rows
    }
