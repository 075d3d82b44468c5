"""From the database to the clinical core's follow-up entry point: one course's current observations
as parsed ``carttrack`` observations (index = row id), the patient block, settings and censoring.

No clinical rule lives here (they are in ``carttrack.followup``); ``monitoring.grading`` builds the
same case-file blocks for the toxicity weeks and is reused for the patient and the censoring.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import carttrack
from carttrack.followup.settings import FollowupSettings
from carttrack.followup.visits import DEFAULT_TEMPLATE_VERSION
from monitoring import grading
from monitoring.models import Infusion, Observation

from .models import FollowupEvaluation

#: Fields read for each observation row.
ROW_FIELDS = ("id", "infusion_id", "kind", "payload", "observed_at")
Row = tuple[int, int, str, dict, datetime]


def template_version_of(infusion: Infusion) -> str | None:
    """A course keeps the visit template version it was first scheduled with (VISIT-3)."""
    return (
        FollowupEvaluation.objects.filter(infusion=infusion)
        .order_by("evaluated_at", "id")
        .values_list("visit_template_version", flat=True)
        .first()
    )


def current_rows(infusion_ids: Iterable[int]) -> dict[int, list[Row]]:
    """The current observation rows of many courses in one query, by infusion id, in time order."""
    ids = list(infusion_ids)
    out: dict[int, list[Row]] = {i: [] for i in ids}
    rows = (
        Observation.objects.current()
        .filter(infusion_id__in=ids)
        .order_by("observed_at", "id")
        .values_list(*ROW_FIELDS)
    )
    for row in rows:
        out[row[1]].append(row)
    return out


def parsed_observations(infusion: Infusion, rows: Iterable[Row]) -> list[carttrack.Observation]:
    return [
        carttrack.parse_observation(
            {**payload, "kind": kind, "t_hours": infusion.hours_after(observed_at)}, index=row_id
        )
        for row_id, _infusion_id, kind, payload, observed_at in rows
    ]


def followup_settings(template_version: str | None) -> FollowupSettings:
    """The site's follow-up settings (the G-1…G-9 defaults) with the course's visit template version."""
    return FollowupSettings(visit_template_version=template_version or DEFAULT_TEMPLATE_VERSION)


def evaluate(
    infusion: Infusion,
    rows: Iterable[Row],
    *,
    as_of: datetime,
    template_version: str | None = None,
    followed: bool = False,
) -> carttrack.FollowupResult | None:
    """The course's follow-up result as of ``as_of`` (overdue visits included), or None without
    follow-up data (VISIT-7) unless ``followed`` (VISIT-8)."""
    return carttrack.evaluate_followup(
        carttrack.parse_patient(grading.patient_dict(infusion)),
        parsed_observations(infusion, rows),
        settings=followup_settings(template_version),
        decision_settings=grading.settings_for(infusion),
        follow_up=carttrack.parse_follow_up(grading.follow_up_dict(infusion)),
        visits_as_of_hours=infusion.hours_after(as_of),
        product_target=infusion.product.target_antigen,
        followed=followed,
    )
