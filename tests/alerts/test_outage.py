"""Outages are visible: health 503 naming what is late, the clinicians' banner, the auditor's alarm
with the outage's length once the worker is back (controlled time; the worker-process version is in
tests/integration/test_outage_worker.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from alerts import outage, services
from alerts.models import AlertingOutage, EscalationStep, Notification, OperationsAlarm, StepStatus
from alerts.status_banner import BANNER_TEXT
from monitoring.models import GradeEvaluation

from .conftest import make_evaluation

pytestmark = pytest.mark.django_db


def _open_without_dispatch(infusion, at):
    ev = make_evaluation(infusion, crs=2, at=at)
    GradeEvaluation.objects.filter(pk=ev.pk).update(alerts_processed_at=at)
    with transaction.atomic():
        return services.open_alert(
            infusion=infusion, ev=ev, syndrome="crs", grade=2, urgency="urgent", now=at
        )


def test_health_is_503_naming_an_overdue_step_and_by_how_much(client, ward):
    start = timezone.now()
    services.run_auditor(now=start)
    _open_without_dispatch(ward, start)  # the first page is due now; no worker sends it
    url = reverse("health-escalations")
    with time_machine.travel(start + timedelta(seconds=59), tick=False):
        assert client.get(url).status_code == 200
    with time_machine.travel(start + timedelta(seconds=75), tick=False):
        response = client.get(url)
    assert response.status_code == 503
    body = response.json()
    [late] = body["late"]
    assert (
        late["what"] == "overdue_steps"
        and late["count"] == 1
        and late["late_by_s"] == pytest.approx(15, abs=1)
    )
    assert "alerting is delayed: 1 escalation step(s) overdue, up to 15 s late" in body["reason"]
    assert AlertingOutage.objects.get().started_at == EscalationStep.objects.get(sequence=0).due_at


def test_step_stuck_in_sending_counts_after_60_seconds(client, ward):
    start = timezone.now()
    services.run_auditor(now=start)
    alert = _open_without_dispatch(ward, start + timedelta(minutes=10))  # not due for ten minutes
    EscalationStep.objects.filter(alert=alert, sequence=0).update(
        status=StepStatus.SENDING, claimed_at=start, due_at=start
    )
    with time_machine.travel(start + timedelta(seconds=50), tick=False):
        assert client.get(reverse("health-escalations")).status_code == 200
    with time_machine.travel(start + timedelta(seconds=70), tick=False):
        body = client.get(reverse("health-escalations")).json()
    assert [i["what"] for i in body["late"]] == ["stuck_steps"]


def test_grade_waiting_for_its_alert_processing_counts_after_60_seconds(client, ward):
    start = timezone.now()
    services.run_auditor(now=start)
    make_evaluation(ward, crs=3, at=start)  # committed, never handed to a worker
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        response = client.get(reverse("health-escalations"))
    assert response.status_code == 503
    assert response.json()["late"][0]["what"] == "waiting_grades"


@pytest.mark.parametrize("who", ["nurse", "physician", "coordinator"])
def test_every_clinician_sees_the_banner_while_alerting_is_late(client, ward, who, request):
    client.force_login(request.getfixturevalue(who))
    start = timezone.now()
    _open_without_dispatch(ward, start)
    page = client.get(reverse("monitoring:my_patients")).content.decode()
    assert 'hx-get="/alerts/status/"' in page and "load, every 30s" in page
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        assert BANNER_TEXT not in client.get(reverse("alerts:status")).content.decode()
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        fragment = client.get(reverse("alerts:status"), headers={"x-background-poll": "1"}).content.decode()
    assert BANNER_TEXT in fragment and "1 escalation step(s) overdue since" in fragment and "UTC" in fragment
    assert 'hx-trigger="every 30s"' in fragment  # the banner keeps polling, so it goes away by itself


def test_signed_out_poll_swaps_nothing(client):
    assert client.get(reverse("alerts:status")).status_code == 204


def test_worker_back_auditor_alarms_with_the_outage_length_and_sends_each_step_once(client, ward, physician):
    start = timezone.now()
    services.run_auditor(now=start)
    alert = _open_without_dispatch(ward, start)
    with time_machine.travel(start + timedelta(seconds=90), tick=False):
        client.get(reverse("health-escalations"))  # the web side sees the outage
    with time_machine.travel(start + timedelta(minutes=3, seconds=20), tick=False):
        services.run_auditor()
        services.run_auditor()  # a second pass neither re-sends nor alarms again
        assert client.get(reverse("health-escalations")).status_code == 200
    [alarm] = OperationsAlarm.objects.filter(kind="alerting_outage")
    assert alarm.message.startswith("Alerting was delayed for 3 min 20 s (")
    assert "1 escalation step(s) overdue" in alarm.message and "re-sent 1 step(s)" in alarm.message
    first = alert.steps.get(sequence=0)
    assert first.status == StepStatus.SENT
    assert Notification.objects.filter(step=first, recipient=physician, channel="inapp").count() == 1
    ended = AlertingOutage.objects.get()
    assert ended.ended_at is not None and ended.alarm == alarm


def test_a_short_hiccup_is_no_outage(ward):
    start = timezone.now()
    _open_without_dispatch(ward, start)
    with time_machine.travel(start + timedelta(seconds=20), tick=False):
        services.run_auditor()
    assert not AlertingOutage.objects.exists() and not OperationsAlarm.objects.filter(kind="alerting_outage")


def test_duration_text():
    assert outage.duration_text(59.6) == "1 min 0 s"
    assert outage.duration_text(7) == "7 s"
    assert outage.duration_text(3 * 3600 + 125) == "3 h 2 min"


def test_the_two_factor_page_does_not_poll_the_banner(client, physician, settings):
    """An unverified physician's poll would be sent back to the two-factor page (HX-Redirect), reloading
    it while they type the code: that page has no banner placeholder."""
    settings.TWO_FACTOR_REQUIRED = True
    client.force_login(physician)
    page = client.get(reverse("accounts:two_factor")).content.decode()
    assert "otp_token" in page and 'id="alerting-status"' not in page
