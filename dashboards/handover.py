"""The shift handover of one care team (reads only, scoped to the user): for every patient under
active monitoring, the day after infusion, the current grades with their age, open alerts, due and
overdue checks, the last tocilizumab and steroid doses and the tocilizumab limits left (TOCI-2,
TOCI-3 through ``carttrack.tocilizumab_allowance``, with the site's decision settings).

The census supplies the grades, alerts and checks (``dashboards.census.census_rows``, one team); this
module adds the doses, in one more query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.http import Http404
from django.utils import timezone

import carttrack
from accounts.models import CareTeam
from accounts.permissions import team_ids_with
from carttrack import wording
from carttrack.vocabulary import CORTICOSTEROIDS, TOCILIZUMAB
from monitoring import grading
from monitoring.models import Infusion, Observation, ObservationKind

from .census import CensusFilters, census_rows
from .census_rows import CensusRow

CAPABILITY = "dashboard.view"


@dataclass(frozen=True)
class DoseGiven:
    drug: str
    dose_mg: float | None
    given_at: datetime

    @property
    def drug_name(self) -> str:
        return wording.words(self.drug).capitalize()


@dataclass(frozen=True)
class TocilizumabState:
    last: DoseGiven | None
    allowance: carttrack.TocilizumabAllowance
    next_not_before: datetime | None


@dataclass(frozen=True)
class HandoverRow:
    census: CensusRow
    tocilizumab: TocilizumabState
    steroid: DoseGiven | None


@dataclass(frozen=True)
class Handover:
    team: CareTeam
    zone: ZoneInfo
    generated_at: datetime
    rows: list[HandoverRow]


def handover_teams(user) -> list[CareTeam]:
    return list(CareTeam.objects.filter(pk__in=team_ids_with(user, CAPABILITY)).order_by("name"))


def _doses(infusion_ids: list[int]) -> dict[int, list[DoseGiven]]:
    """Current tocilizumab and corticosteroid doses per infusion, oldest first (one query)."""
    out: dict[int, list[DoseGiven]] = {}
    drugs = [TOCILIZUMAB, *sorted(CORTICOSTEROIDS)]
    rows = (
        Observation.objects.current()
        .filter(infusion_id__in=infusion_ids, kind=ObservationKind.MEDICATION, payload__drug__in=drugs)
        .order_by("observed_at", "id")
        .values_list("infusion_id", "observed_at", "payload")
    )
    for infusion_id, observed_at, payload in rows:
        out.setdefault(infusion_id, []).append(
            DoseGiven(drug=payload["drug"], dose_mg=payload.get("dose_mg"), given_at=observed_at)
        )
    return out


def _tocilizumab(infusion: Infusion, doses: list[DoseGiven], now: datetime) -> TocilizumabState:
    given = [d for d in doses if d.drug == TOCILIZUMAB]
    times = [infusion.hours_after(d.given_at) for d in given]
    settings = grading.settings_for(infusion)  # the site's limits, as grading uses them
    allowance = carttrack.tocilizumab_allowance(times, infusion.hours_after(now), settings)
    next_at = None
    if allowance.next_not_before_t is not None:
        next_at = infusion.infused_at + timedelta(hours=allowance.next_not_before_t)
    return TocilizumabState(last=given[-1] if given else None, allowance=allowance, next_not_before=next_at)


def handover_for(*, user, team_id: int, now: datetime | None = None) -> Handover:
    """The handover of ``team_id`` (404 unless the user may see that team's dashboards)."""
    team = next((t for t in handover_teams(user) if t.pk == team_id), None)
    if team is None:
        raise Http404("No such care team among yours")
    now = now or timezone.now()
    rows = census_rows(user, CensusFilters(team=team.pk), now=now)
    ids = [r.infusion_id for r in rows]
    infusions = Infusion.objects.select_related("product", "care_team", "patient").in_bulk(ids)
    doses = _doses(ids)
    out = []
    for row in rows:
        given = doses.get(row.infusion_id, [])
        steroids = [d for d in given if d.drug in CORTICOSTEROIDS]
        out.append(
            HandoverRow(
                census=row,
                tocilizumab=_tocilizumab(infusions[row.infusion_id], given, now),
                steroid=steroids[-1] if steroids else None,
            )
        )
    return Handover(team=team, zone=ZoneInfo(team.time_zone), generated_at=now, rows=out)
