"""Overdue bedside checks become nurse tasks, then an alert to the charge nurse after the grace period."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts import services
from alerts.models import Alert, AlertStatus, CheckTask, CheckTaskStatus, Notification
from monitoring.models import MissedCheck
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_infusion(team, product, charge_nurse, nurse):
    patient = factories.make_patient(team)
    return factories.make_infusion(patient, product, hours_ago=4.5)  # vitals due at 4 h: 30 min overdue


def test_overdue_check_becomes_task_then_charge_nurse_alert(fresh_infusion, charge_nurse, nurse):
    now = timezone.now()
    result = services.overdue_checks_scan(now=now)
    assert result["tasks_created"] >= 1 and result["alerts_opened"] == 0  # within the 60 min grace
    task = CheckTask.objects.get(infusion=fresh_infusion, check_type="vitals")
    assert task.status == CheckTaskStatus.OPEN
    later = now + timedelta(minutes=45)
    result = services.overdue_checks_scan(now=later)
    assert result["alerts_opened"] == 1
    alert = Alert.objects.get(syndrome="overdue_vitals")
    assert alert.urgency == "urgent"
    assert Notification.objects.filter(alert=alert, recipient=charge_nurse, status="sent").exists()
    assert not Notification.objects.filter(alert=alert, recipient=nurse).exists()
    services.overdue_checks_scan(now=later + timedelta(minutes=1))
    assert Alert.objects.filter(syndrome="overdue_vitals").count() == 1  # not duplicated


def test_overdue_alert_says_when_in_the_teams_zone_and_how_long_in_words(fresh_infusion, team, charge_nurse):
    team.time_zone = "Europe/Berlin"
    team.save()
    now = timezone.now()
    services.overdue_checks_scan(now=now)
    due_at = CheckTask.objects.get(infusion=fresh_infusion, check_type="vitals").due_at
    services.overdue_checks_scan(now=due_at + timedelta(minutes=75))
    summary = Alert.objects.get(syndrome="overdue_vitals").summary
    local = timezone.localtime(due_at, zoneinfo.ZoneInfo("Europe/Berlin"))
    assert summary == f"Vitals overdue: due {local.day} {local:%b %H:%M %Z}, overdue by 1 h 15 min"
    assert "UTC" not in summary and "min overdue" not in summary


def test_nurse_records_why_check_was_not_done(fresh_infusion, nurse, charge_nurse):
    now = timezone.now()
    services.overdue_checks_scan(now=now + timedelta(minutes=45))
    task = CheckTask.objects.get(infusion=fresh_infusion, check_type="vitals")
    services.missed_check_record(
        infusion=fresh_infusion,
        check_type="vitals",
        due_at=task.due_at,
        reason="Patient off the ward in CT",
        user=nurse,
    )
    task.refresh_from_db()
    assert task.status == CheckTaskStatus.REASON_RECORDED
    assert Alert.objects.get(syndrome="overdue_vitals").status == AlertStatus.RESOLVED
    assert MissedCheck.objects.filter(infusion=fresh_infusion, reason="Patient off the ward in CT").exists()


def test_coordinator_cannot_record_missed_check(fresh_infusion, coordinator):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.missed_check_record(
            infusion=fresh_infusion, check_type="vitals", due_at=timezone.now(), reason="x", user=coordinator
        )


def test_the_inbox_records_a_reason_for_its_own_teams_task_only(client, fresh_infusion, nurse):
    from django.urls import reverse

    services.overdue_checks_scan(now=timezone.now())
    task = CheckTask.objects.get(infusion=fresh_infusion, check_type="vitals")
    outsider_team = factories.make_team("Other ward")
    outsider = factories.make_user("nurse", outsider_team, username="nurse_elsewhere")
    url = reverse("alerts:record_missed", args=[task.pk])
    assert client.login(username=outsider.username, password=factories.PASSWORD)
    assert client.post(url, {"reason": "not mine"}).status_code == 404
    assert not MissedCheck.objects.exists()
    assert client.login(username=nurse.username, password=factories.PASSWORD)
    assert client.post(url, {"reason": "Patient in theatre"}).status_code == 302
    task.refresh_from_db()
    assert task.status == CheckTaskStatus.REASON_RECORDED
    assert MissedCheck.objects.get().due_at == task.due_at


def test_a_missed_check_of_an_unknown_kind_is_refused_naming_the_field(fresh_infusion, nurse):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        services.missed_check_record(
            infusion=fresh_infusion, check_type="bogus", due_at=timezone.now(), reason="x", user=nurse
        )
    assert "check_type" in exc.value.message_dict and "vitals" in exc.value.message_dict["check_type"][0]


def test_a_stale_inbox_cannot_record_a_second_reason_for_the_same_check(client, fresh_infusion, nurse):
    from django.urls import reverse

    services.overdue_checks_scan(now=timezone.now())
    task = CheckTask.objects.get(infusion=fresh_infusion, check_type="vitals")
    url = reverse("alerts:record_missed", args=[task.pk])
    assert client.login(username=nurse.username, password=factories.PASSWORD)
    assert client.post(url, {"reason": "Patient in theatre"}).status_code == 302
    html = client.post(url, {"reason": "Patient asleep"}, follow=True).content.decode()
    assert "already recorded why it was not done" in html and "Patient in theatre" in html
    assert list(MissedCheck.objects.values_list("reason", flat=True)) == ["Patient in theatre"]
