"""On-call: wall-clock handovers across DST, overrides, swaps, gaps."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import Role
from alerts import services
from alerts.models import OnCallMember, OnCallSchedule, OperationsAlarm, Slot
from alerts.oncall import oncall_for_team, oncall_user_id
from tests import factories

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def berlin_schedule():
    team = factories.make_team(time_zone="Europe/Berlin")
    a = factories.make_user(Role.PHYSICIAN, team, username="doc_a")
    b = factories.make_user(Role.PHYSICIAN, team, username="doc_b")
    coord = factories.make_user(Role.COORDINATOR, team, username="coord_b")
    schedule = OnCallSchedule.objects.create(
        team=team, slot=Slot.PRIMARY, start_date=date(2026, 3, 27), handover_time=time(8, 0), shift_days=1
    )
    OnCallMember.objects.create(schedule=schedule, user=a, position=0)
    OnCallMember.objects.create(schedule=schedule, user=b, position=1)
    return schedule, a, b, coord


def at(y, m, d, hh, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=BERLIN)


def test_handover_at_local_wall_time_across_dst(berlin_schedule):
    schedule, a, b, _ = berlin_schedule
    assert oncall_user_id(schedule, at(2026, 3, 27, 7, 59)) is None  # before the first handover
    assert oncall_user_id(schedule, at(2026, 3, 27, 8, 0)) == a.pk
    assert oncall_user_id(schedule, at(2026, 3, 28, 7, 59)) == a.pk
    assert oncall_user_id(schedule, at(2026, 3, 28, 8, 0)) == b.pk
    # DST starts 29 March 2026 02:00 in Berlin: the handover is still 08:00 local (06:00 UTC).
    assert oncall_user_id(schedule, at(2026, 3, 29, 7, 59)) == b.pk
    assert oncall_user_id(schedule, datetime(2026, 3, 29, 6, 0, tzinfo=ZoneInfo("UTC"))) == a.pk
    start, end = schedule.shift_bounds(1)
    utc = ZoneInfo("UTC")
    assert end.astimezone(utc) - start.astimezone(utc) == timedelta(hours=23)  # the short night


def test_override_wins_and_swap_exchanges_two_shifts(berlin_schedule):
    schedule, a, b, coord = berlin_schedule
    services.oncall_override_create(
        schedule=schedule,
        user=b,
        starts_at=at(2026, 3, 27, 12),
        ends_at=at(2026, 3, 27, 18),
        by=coord,
        reason="clinic",
    )
    assert oncall_user_id(schedule, at(2026, 3, 27, 13)) == b.pk
    assert oncall_user_id(schedule, at(2026, 3, 27, 19)) == a.pk
    services.oncall_swap(schedule=schedule, shift_a=2, shift_b=3, by=coord)
    assert oncall_user_id(schedule, at(2026, 3, 29, 9)) == b.pk  # was a
    assert oncall_user_id(schedule, at(2026, 3, 30, 9)) == a.pk  # was b


def test_only_schedule_managers_edit(berlin_schedule):
    schedule, a, b, _ = berlin_schedule
    with pytest.raises(PermissionDenied):
        services.oncall_override_create(
            schedule=schedule, user=b, starts_at=at(2026, 3, 27, 12), ends_at=at(2026, 3, 27, 18), by=a
        )


def test_gap_is_an_alarm_for_the_coordinator_and_clears(berlin_schedule):
    schedule, a, _b, coord = berlin_schedule
    services.run_auditor(now=at(2026, 3, 27, 7))  # before the rotation starts: gap
    alarm = OperationsAlarm.objects.get(kind="oncall_gap")
    assert alarm.team_id == schedule.team_id and alarm.cleared_at is None
    from alerts.models import Notification

    assert Notification.objects.filter(alarm=alarm, recipient=coord, channel="inapp").exists()
    services.run_auditor(now=at(2026, 3, 27, 7, 30))
    assert OperationsAlarm.objects.filter(kind="oncall_gap").count() == 1  # not re-raised, counted
    services.run_auditor(now=at(2026, 3, 27, 9))
    alarm.refresh_from_db()
    assert alarm.cleared_at is not None
    assert oncall_for_team(schedule.team_id, Slot.PRIMARY, at(2026, 3, 27, 9)) == a.pk


def test_an_override_for_someone_without_the_slots_role_is_refused(berlin_schedule, client):
    """The reproduction: a nurse-role service account put on call would get the urgent page alone."""
    schedule, _a, _b, coord = berlin_schedule
    gateway = factories.make_user(Role.NURSE, schedule.team, username="svc_gateway")
    with pytest.raises(ValidationError) as refused:
        services.oncall_override_create(
            schedule=schedule,
            user=gateway,
            starts_at=at(2026, 3, 27, 12),
            ends_at=at(2026, 3, 27, 18),
            by=coord,
        )
    assert refused.value.message_dict["user"] == [
        f"{gateway} cannot be on call for {schedule}: only a physician of {schedule.team} can hold this slot."
    ]
    client.force_login(coord)
    response = client.post(
        reverse("alerts:oncall_override", args=[schedule.pk]),
        {"user": gateway.pk, "starts_at": "2026-03-27T12:00", "ends_at": "2026-03-27T18:00"},
        follow=True,
    )
    assert "only a physician of" in response.content.decode()
    assert not schedule.overrides.exists()
    assert oncall_user_id(schedule, at(2026, 3, 27, 13)) != gateway.pk


def test_a_rotation_member_must_hold_the_role_and_a_swap_refuses_one_who_lost_it(berlin_schedule):
    schedule, a, _b, coord = berlin_schedule
    nurse = factories.make_user(Role.NURSE, schedule.team, username="nurse_rota")
    with pytest.raises(ValidationError, match="only a physician"):
        OnCallMember(schedule=schedule, user=nurse, position=2).full_clean()
    a.memberships.update(role=Role.NURSE)  # doc_a is no longer a physician of the team
    with pytest.raises(ValidationError, match="only a physician"):
        services.oncall_swap(schedule=schedule, shift_a=2, shift_b=3, by=coord)


def test_an_override_time_the_clocks_skip_is_refused_not_guessed(berlin_schedule, client):
    """Override times are wall times of the schedule's zone read by the clinical core's rule (INPUT-12):
    02:30 on 29 March 2026 does not exist in Berlin; it was stored as a time an hour off."""
    schedule, a, _b, coord = berlin_schedule
    client.force_login(coord)
    page = client.get(reverse("alerts:oncall")).content.decode()
    assert "From (local time, Europe/Berlin)" in page
    response = client.post(
        reverse("alerts:oncall_override", args=[schedule.pk]),
        {"user": a.pk, "starts_at": "2026-03-29T02:30", "ends_at": "2026-03-29T10:00"},
        follow=True,
    )
    words = "does not exist in Europe/Berlin (the clocks skip it for daylight saving)"
    assert words in response.content.decode()
    assert not schedule.overrides.exists()
    fine = client.post(
        reverse("alerts:oncall_override", args=[schedule.pk]),
        {"user": a.pk, "starts_at": "2026-03-29T03:30", "ends_at": "2026-03-29T10:00"},
        follow=True,
    )
    assert fine.status_code == 200
    assert schedule.overrides.get().starts_at == at(2026, 3, 29, 3, 30)
