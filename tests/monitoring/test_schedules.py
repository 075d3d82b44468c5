"""Due / overdue checks (MON-4…MON-8, MON-14) at their boundaries, and the batched variant's query count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitoring import schedules, services
from monitoring.models import CheckType, MissedCheck
from tests import factories

from .conftest import NORMAL_VITALS

T0 = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.fixture
def inf(patient, product):
    return factories.make_infusion(patient, product, infused_at=T0)


def by_type(statuses):
    return {s.check_type: s for s in statuses}


def status(inf, now, *, last=None, icans=None, febrile=False, missed=()):
    return by_type(
        schedules.checks_for(
            inf,
            now=now,
            last_by_type=last or {},
            current_icans=icans,
            febrile_tachycardic=febrile,
            missed=missed,
        )
    )


def test_vitals_every_4_hours_overdue_one_minute_after(inf):
    at_due = status(inf, T0 + 4 * H)[CheckType.VITALS]
    assert at_due.next_due == T0 + 4 * H and not at_due.is_overdue and at_due.state == "due"
    late = status(inf, T0 + 4 * H + timedelta(minutes=1))[CheckType.VITALS]
    assert late.is_overdue and late.overdue_by == timedelta(minutes=1) and late.state == "overdue"
    done = status(inf, T0 + 5 * H, last={CheckType.VITALS: T0 + 3 * H})[CheckType.VITALS]
    assert done.next_due == T0 + 7 * H and not done.is_overdue and done.state == "ok"


def test_febrile_and_tachycardic_vitals_every_2_hours(inf):
    s = status(inf, T0 + 3 * H, last={CheckType.VITALS: T0 + H}, febrile=True)[CheckType.VITALS]
    assert s.interval_hours == 2 and s.next_due == T0 + 3 * H and not s.is_overdue
    assert status(inf, T0 + 3 * H + timedelta(seconds=1), last={CheckType.VITALS: T0 + H}, febrile=True)[
        CheckType.VITALS
    ].is_overdue
    assert schedules.is_febrile_tachycardic({"temp_c": 38.0, "hr": 101})
    assert not schedules.is_febrile_tachycardic({"temp_c": 38.0, "hr": 100})
    assert not schedules.is_febrile_tachycardic({"temp_c": 37.9, "hr": 130})
    assert schedules.is_febrile_tachycardic({"temp_f": 100.4, "hr": 120})
    assert not schedules.is_febrile_tachycardic({"temp_f": 100.3, "hr": 120})


def test_neuro_twice_daily_and_every_8_hours_with_icans(inf):
    last = {CheckType.NEURO: T0 + H}
    assert status(inf, T0 + 2 * H, last=last, icans=0)[CheckType.NEURO].next_due == T0 + 13 * H
    s = status(inf, T0 + 9 * H + timedelta(minutes=1), last=last, icans=1)[CheckType.NEURO]
    assert s.interval_hours == 8 and s.next_due == T0 + 9 * H and s.is_overdue
    assert "ICANS grade 1" in s.reason_for_interval
    assert status(inf, T0, last=last, icans=None)[CheckType.NEURO].interval_hours == 12


def test_daily_labs(inf):
    s = status(inf, T0 + 25 * H)[CheckType.LABS]
    assert s.next_due == T0 + 24 * H and s.overdue_by == H


def test_checks_end_after_day_14(inf):
    end = datetime(2026, 1, 16, 0, 0, tzinfo=UTC)  # midnight after day 14 (day 0 = 1 January)
    s = status(inf, end - 2 * H, last={CheckType.VITALS: end - 5 * H})[CheckType.VITALS]
    assert s.next_due == end - H and s.window_ends == end
    ended = status(inf, end + 10 * H, last={CheckType.VITALS: end - 3 * H})[CheckType.VITALS]
    assert ended.next_due is None and not ended.is_overdue and ended.state == "ended"


def test_day_boundaries_follow_the_team_time_zone(product):
    team = factories.make_team("Ward NY", time_zone="America/New_York")
    inf = factories.make_infusion(factories.make_patient(team), product, infused_at=T0)  # 05:00 New York
    assert schedules.window_end(inf, 14) == datetime(2026, 1, 16, 5, 0, tzinfo=UTC)  # midnight New York


def test_missed_check_reason_is_shown_for_the_open_slot(inf, nurse):
    missed = MissedCheck(
        infusion=inf,
        check_type=CheckType.VITALS,
        due_at=T0 + 4 * H,
        reason="patient in CT",
        recorded_by=nurse,
    )
    s = status(inf, T0 + 6 * H, missed=[missed])[CheckType.VITALS]
    assert s.is_overdue and s.missed_reason == "patient in CT"
    done_after = status(inf, T0 + 6 * H, last={CheckType.VITALS: T0 + 5 * H}, missed=[missed])[
        CheckType.VITALS
    ]
    assert done_after.missed_reason == ""


def test_batched_variant_uses_a_bounded_number_of_queries(
    team, product, nurse, django_assert_max_num_queries, monkeypatch
):
    monkeypatch.setattr("monitoring.services._enqueue_alert_processing", lambda evaluation_id: None)
    from django.utils import timezone

    infusions = []
    for _ in range(6):
        inf = factories.make_infusion(factories.make_patient(team), product, hours_ago=20)
        services.observation_record(
            infusion=inf,
            kind="vitals",
            payload={**NORMAL_VITALS, "temp_c": 38.5, "hr": 120},
            observed_at=timezone.now() - H,
            recorded_by=nurse,
        )
        infusions.append(inf)
    wrong, _, _ = services.observation_record(
        infusion=infusions[0],
        kind="lab",
        payload={"anc_per_uL": 900},
        observed_at=timezone.now() - H,
        recorded_by=nurse,
    )
    services.observation_mark_entered_in_error(original=wrong, reason="wrong patient", user=nurse)
    MissedCheck.objects.create(
        infusion=infusions[1],
        check_type=CheckType.NEURO,
        due_at=timezone.now() - 8 * H,
        reason="asleep, charge nurse informed",
        recorded_by=nurse,
    )
    now = timezone.now()
    with django_assert_max_num_queries(4):
        result = schedules.checks_for_infusions(infusions, now=now)
    assert set(result) == {i.pk for i in infusions}
    first = by_type(result[infusions[0].pk])
    assert first[CheckType.VITALS].interval_hours == 2  # febrile + tachycardic
    assert first[CheckType.LABS].last_done is None  # entered-in-error labs are not "done"
    assert by_type(result[infusions[1].pk])[CheckType.NEURO].missed_reason == "asleep, charge nurse informed"
    assert schedules.checks_for_infusions([], now=now) == {}
