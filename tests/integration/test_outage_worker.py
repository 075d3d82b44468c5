"""Outages are visible, with a real worker, PostgreSQL and Redis, in real time (the default 60 s delay
limit of the pytest process, which serves /health/escalations and the banner like the web process):

worker stopped (one step left in ``sending``, one page due, one grade queued) → health 503 and the
clinicians' banner within 90 s → worker back → operations alarm with the outage's length, every step
sent once.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert, AuditorHeartbeat, EscalationStep, Notification, OperationsAlarm, StepStatus
from alerts.status_banner import BANNER_TEXT
from monitoring.models import ObservationKind
from monitoring.services import observation_record
from tests import factories
from tests.alerts.receivers import WebhookReceiver

from .conftest import SECRET, wait_for
from .test_escalation_worker import open_alert

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

FEVER = {"temp_c": 39.1, "hr": 124, "sbp": 118, "dbp": 70, "rr": 20, "spo2": 97, "o2_device": "room_air"}


def test_worker_outage_shows_503_and_banner_then_alarm_with_its_length_and_steps_sent_once(
    start_worker, ward, client
):
    nurse_client = client
    nurse_client.force_login(ward["nurse"])
    health = reverse("health-escalations")
    second_patient = factories.make_infusion(factories.make_patient(ward["team"]), ward["infusion"].product)
    with WebhookReceiver(SECRET, delay_first=6.0) as hook:
        worker = start_worker("w1", webhook_url=hook.url)
        wait_for(lambda: AuditorHeartbeat.objects.filter(pk=1).exists(), 40)
        stuck_alert = open_alert(ward["infusion"])
        wait_for(lambda: len(hook.requests) >= 1, 30)  # its SMS is in flight …
        worker.kill()  # … when the worker dies
        stopped = time.monotonic()
        stuck = stuck_alert.steps.order_by("sequence").first()
        assert EscalationStep.objects.get(pk=stuck.pk).status == StepStatus.SENDING
        due_alert = open_alert(second_patient)  # its first page is due now: nobody sends it
        _obs, evaluation, _ = observation_record(  # a committed grade: queued, nobody processes it
            infusion=second_patient,
            kind=ObservationKind.VITALS,
            recorded_by=ward["nurse"],
            payload=FEVER,
            observed_at=timezone.now() - timedelta(minutes=1),
            client_uuid=uuid.uuid4(),
        )
        assert nurse_client.get(health).status_code == 200  # nothing is late yet

        def outage_seen():
            response = nurse_client.get(health)
            kinds = {item["what"] for item in response.json().get("late", [])}
            return response.status_code == 503 and kinds == {"overdue_steps", "stuck_steps", "waiting_grades"}

        wait_for(outage_seen, 90, interval=1.0)
        banner = nurse_client.get(reverse("alerts:status"), headers={"x-background-poll": "1"})
        seen_after = time.monotonic() - stopped
        assert BANNER_TEXT in banner.content.decode()
        assert seen_after + 30 <= 90 + 5, f"banner shown {seen_after:.0f} s after the stop (+ 30 s poll)"
        assert not Alert.objects.filter(evaluation=evaluation).exists()

        start_worker("w2", webhook_url=hook.url)  # the worker is back
        alarm = wait_for(lambda: OperationsAlarm.objects.filter(kind="alerting_outage").first(), 60)
        wait_for(lambda: nurse_client.get(health).status_code == 200, 30)
        assert BANNER_TEXT not in nurse_client.get(reverse("alerts:status")).content.decode()
        time.sleep(3)  # more ticks and auditor runs: nothing is sent twice, no second alarm
    outage_s = time.monotonic() - stopped
    print(f"banner after {seen_after:.1f} s; outage {outage_s:.0f} s; alarm: {alarm.message}")
    assert alarm.message.startswith("Alerting was delayed for 1 min ")
    assert OperationsAlarm.objects.filter(kind="alerting_outage").count() == 1
    assert Alert.objects.filter(infusion=second_patient, syndrome="crs").exists()  # the grade's alert opened
    for step in (stuck, due_alert.steps.order_by("sequence").first()):
        step.refresh_from_db()
        assert step.status == StepStatus.SENT
        for channel in ("inapp", "sms", "email"):
            assert Notification.objects.filter(step=step, channel=channel).count() == 1, (step.pk, channel)
    sent_sms = Notification.objects.filter(channel="sms", status="sent").count()
    assert len(hook.unique_keys) == sent_sms  # the gateway got each SMS once (one redelivery, same key)
