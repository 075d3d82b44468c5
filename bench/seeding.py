"""Bulk rows for the benchmarks (bench only): a care team's active courses with their observation
history, stored grades and open CRS alerts, inserted with ``bulk_create``.

Grading thousands of history rows one by one through the service would take minutes; the benches
time reading them (``bench/dashboards.py``: a ward's census and timeline) or grade only their own
requests for real (``bench/network_seed.py``: a network of centres).  What differs between the two is
passed in (which patients, when each course started, its rows); the shape of a course, a grade and
an open alert is written here once.

The models are imported inside the functions: ``bench/network_load.py`` imports its seeding before
``django.setup()`` (it first creates and migrates the bench database).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

#: The rule-set id stored on the seeded grades (the census reads it as any stored grade's).
RULE_SET = "astct-2019/carttrack-1"

#: One history row of a course: (kind, time after the infusion, case-file payload).
HistoryRow = tuple[str, timedelta, dict]
#: One stored grade of a course: (time after the infusion, ``GradeEvaluation`` grade fields).
GradeRow = tuple[timedelta, dict]


def observation_row(infusion: Any, *, kind: str, after: timedelta, payload: dict, nurse: Any) -> Any:
    """An unsaved ``Observation`` recorded by ``nurse`` ``after`` the infusion (its own client UUID)."""
    from monitoring.models import Observation

    return Observation(
        infusion=infusion,
        kind=kind,
        payload=payload,
        observed_at=infusion.infused_at + after,
        recorded_by=nurse,
        client_uuid=uuid.uuid4(),
    )


def grade_row(infusion: Any, *, after: timedelta, **grades: Any) -> Any:
    """An unsaved ``GradeEvaluation`` stored ``after`` the infusion with these grade fields."""
    from monitoring.models import GradeEvaluation

    return GradeEvaluation(
        infusion=infusion, evaluated_at=infusion.infused_at + after, rule_set=RULE_SET, **grades
    )


def save_rows(observations: Sequence[Any], grades: Sequence[Any], alerts: Sequence[Any] = ()) -> None:
    from alerts.models import Alert
    from monitoring.models import GradeEvaluation, Observation

    Observation.objects.bulk_create(observations, batch_size=2000)
    GradeEvaluation.objects.bulk_create(grades, batch_size=2000)
    Alert.objects.bulk_create(alerts, batch_size=2000)


def seed_courses(
    *,
    team: Any,
    nurse: Any,
    products: Sequence[Any],
    patients: Sequence[dict],
    infused_at: Callable[[int], datetime],
    history: Callable[[int], Iterable[HistoryRow]],
    grades: Callable[[int], Iterable[GradeRow]],
    alert_every: int,
    now: datetime,
) -> list[Any]:
    """One active course per entry of ``patients`` (the ``Patient`` fields; the care team is added),
    of product ``i % len(products)``, infused at ``infused_at(i)``, with the rows ``history(i)`` and
    the grades ``grades(i)``; every ``alert_every``-th course (from the first) has an open urgent CRS
    grade 2 alert, opened ``i % 90`` minutes before ``now``.  Returns the infusions, in order."""
    from alerts.models import Alert, AlertStatus, Syndrome, Urgency
    from monitoring.models import Infusion, Patient

    people = Patient.objects.bulk_create([Patient(care_team=team, **fields) for fields in patients])
    infusions = Infusion.objects.bulk_create(
        [
            Infusion(patient=p, product=products[i % len(products)], care_team=team, infused_at=infused_at(i))
            for i, p in enumerate(people)
        ]
    )
    observations, evaluations, alerts = [], [], []
    for i, infusion in enumerate(infusions):
        observations += [
            observation_row(infusion, kind=kind, after=after, payload=payload, nurse=nurse)
            for kind, after, payload in history(i)
        ]
        evaluations += [grade_row(infusion, after=after, **fields) for after, fields in grades(i)]
        if i % alert_every == 0:
            alerts.append(
                Alert(
                    infusion=infusion,
                    patient=infusion.patient,
                    care_team=team,
                    syndrome=Syndrome.CRS,
                    grade=2,
                    current_grade=2,
                    urgency=Urgency.URGENT,
                    status=AlertStatus.OPEN,
                    opened_at=now - timedelta(minutes=i % 90),
                )
            )
    save_rows(observations, evaluations, alerts)
    return infusions
