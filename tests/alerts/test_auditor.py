"""The auditor: stuck and overdue steps, idle open alerts, heartbeat and /health/escalations."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from alerts import services
from alerts.models import Alert, EscalationStep, Notification, OperationsAlarm, StepStatus

from .conftest import make_evaluation

pytestmark = pytest.mark.django_db


def _open_without_dispatch(infusion, grade=2, at=None):
    at = at or timezone.now()
    ev = make_evaluation(infusion, crs=grade)
    with transaction.atomic():
        return services.open_alert(
            infusion=infusion, ev=ev, syndrome="crs", grade=grade, urgency="urgent", now=at
        )


def test_stuck_sending_step_is_rekicked_and_sent_once(ward, physician):
    start = timezone.now()
    alert = _open_without_dispatch(ward, at=start)
    [(step_id, _token)] = services.claim_due_steps(now=start)  # the worker "dies" here
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        findings = services.run_auditor()
    assert findings["stuck"] == [step_id]
    assert EscalationStep.objects.get(pk=step_id).status == StepStatus.SENT
    assert Notification.objects.filter(step_id=step_id, recipient=physician, channel="inapp").count() == 1
    assert OperationsAlarm.objects.filter(kind="stuck_step").exists()
    with time_machine.travel(start + timedelta(minutes=5, seconds=30), tick=False):
        assert services.run_auditor()["stuck"] == []  # a second pass finds nothing left to re-kick
    # The physician was paged exactly once, for this alert, although the auditor ran twice.
    [page] = Notification.objects.filter(alert=alert, recipient=physician, channel="inapp")
    assert page.step_id == step_id and page.status == "sent"


def test_overdue_pending_step_is_sent_and_alarmed(ward, physician):
    start = timezone.now() - timedelta(minutes=10)
    _open_without_dispatch(ward, at=start)
    findings = services.run_auditor()
    assert findings["overdue"] and findings["kicked"] >= 1
    assert OperationsAlarm.objects.filter(kind="overdue_step").exists()
    assert Notification.objects.filter(recipient=physician, channel="inapp", status="sent").exists()


def test_open_alert_with_nothing_pending_pages_the_leads(ward, attending):
    alert = _open_without_dispatch(ward)
    alert.steps.update(status=StepStatus.CANCELLED)
    findings = services.run_auditor()
    assert findings["idle_alerts"] == [alert.pk]
    assert Notification.objects.filter(alert=alert, recipient=attending, channel="inapp").exists()
    assert OperationsAlarm.objects.filter(kind="alert_idle").exists()


def test_health_endpoint_follows_the_heartbeat(client, ward):
    url = reverse("health-escalations")
    response = client.get(url)
    assert response.status_code == 503 and response.json()["status"] == "fail"
    services.run_auditor()
    response = client.get(url)
    assert response.status_code == 200 and response.json()["status"] == "ok"
    with time_machine.travel(timezone.now() + timedelta(minutes=3, seconds=5), tick=False):
        response = client.get(url)
    assert response.status_code == 503
    assert "has not run" in response.json()["reason"]


def test_beat_schedule_ticks_within_15_seconds():
    from alerts.schedule import beat_schedule

    schedule = beat_schedule()
    assert schedule["alerts-tick"]["schedule"] <= 15
    assert schedule["alerts-audit"]["schedule"] <= 60
    assert {e["task"] for e in schedule.values()} == {
        "alerts.tick",
        "alerts.audit",
        "alerts.overdue_checks",
        "followup.overdue_visits",
    }


def test_alert_ids_are_all_the_task_gets(ward):
    from alerts import tasks

    assert Alert.objects.count() == 0
    ev = make_evaluation(ward, crs=1)
    tasks.process_evaluation.apply(args=[ev.pk])  # runs locally, takes only the id
    assert Alert.objects.count() == 1


def test_a_grade_whose_alert_task_was_lost_is_alerted_by_the_auditor(ward, physician):
    """The broker lost the task message: the evaluation sits unprocessed until the auditor runs."""
    start = timezone.now()
    ev = make_evaluation(ward, crs=3, at=start)  # committed grade, no task ever ran
    assert not Alert.objects.filter(infusion=ward).exists()

    with time_machine.travel(start + timedelta(seconds=10), tick=False):
        assert services.run_auditor()["unprocessed_evaluations"] == []  # still within the grace period
    with time_machine.travel(start + timedelta(seconds=90), tick=False):
        findings = services.run_auditor()

    assert findings["unprocessed_evaluations"] == [ev.pk]
    alert = Alert.objects.get(infusion=ward, syndrome="crs")
    assert alert.grade == 3 and alert.urgency == "emergent"
    assert Notification.objects.filter(alert=alert, recipient=physician, channel="inapp").exists()
    assert OperationsAlarm.objects.filter(kind="unprocessed_eval").exists()
    ev.refresh_from_db()
    assert ev.alerts_processed_at is not None
    with time_machine.travel(start + timedelta(seconds=150), tick=False):
        assert services.run_auditor()["unprocessed_evaluations"] == []  # handled once


def test_the_alert_task_marks_its_evaluation_processed(ward):
    ev = make_evaluation(ward, crs=1)
    services.alert_process_evaluation(evaluation_id=ev.pk)
    ev.refresh_from_db()
    assert ev.alerts_processed_at is not None
