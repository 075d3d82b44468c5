"""Overdue bedside checks become nurse tasks, then an alert to the charge nurse after the grace period."""

from __future__ import annotations

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
