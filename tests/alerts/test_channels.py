"""Channels: signed webhook for SMS/pager, email through the Django backend; no patient data."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail

from alerts import channels, services
from alerts.models import Alert, Channel, Notification, OperationsAlarm, StepStatus

from .conftest import make_evaluation
from .receivers import WebhookReceiver

pytestmark = pytest.mark.django_db
SECRET = "test-webhook-secret"


def test_signature_round_trip_and_tamper_detection():
    body = b'{"a":1}'
    sig = channels.sign(SECRET, "1700000000", body)
    assert sig.startswith("sha256=")
    import time

    ts = str(int(time.time()))
    assert channels.verify(SECRET, ts, body, channels.sign(SECRET, ts, body))
    assert not channels.verify(SECRET, ts, b'{"a":2}', channels.sign(SECRET, ts, body))
    assert not channels.verify("other", ts, body, channels.sign(SECRET, ts, body))
    assert not channels.verify(SECRET, "1700000000", body, sig)  # too old: replay refused


def test_sms_goes_through_signed_webhook_without_patient_data(ward, physician, policy, settings):
    physician.phone = "+4915112345678"
    physician.save()
    step = policy.steps.get(position=0)
    step.channels = [Channel.SMS, Channel.EMAIL]
    step.save()
    with WebhookReceiver(SECRET) as hook:
        settings.ALERT_WEBHOOK_URL = hook.url
        settings.ALERT_WEBHOOK_SECRET = SECRET
        services.alert_process_evaluation(evaluation_id=make_evaluation(ward, crs=3).pk)
    assert len(hook.requests) == 1
    request = hook.requests[0]
    assert request["ok"] and hook.bad_signatures == 0
    body = request["body"]
    assert body["to"] == "+4915112345678" and body["urgency"] == "emergent"
    assert "CRS grade 3" in body["message"] and "/alerts/" in body["link"]
    patient = ward.patient
    text = json.dumps(body) + mail.outbox[0].subject
    for secret in (patient.family_name, patient.given_name, patient.mrn, str(patient.date_of_birth)):
        assert secret not in text
    assert request["key"] == Notification.objects.get(channel=Channel.SMS).idempotency_key


def test_failed_delivery_is_retried_then_alarmed(ward, physician, policy, settings, coordinator):
    physician.phone = "+4915112345678"
    physician.save()
    step = policy.steps.get(position=0)
    step.channels = [Channel.SMS]
    step.save()
    with WebhookReceiver(SECRET, fail_first=1) as hook:
        settings.ALERT_WEBHOOK_URL = hook.url
        settings.ALERT_WEBHOOK_SECRET = SECRET
        services.alert_process_evaluation(evaluation_id=make_evaluation(ward, crs=2).pk)
        alert = Alert.objects.get()
        first = alert.steps.order_by("sequence").first()
        assert first.status == StepStatus.PENDING  # retry scheduled
        from datetime import timedelta

        import time_machine

        with time_machine.travel(first.due_at + timedelta(seconds=1), tick=False):
            services.dispatch_due_steps()
    first.refresh_from_db()
    assert first.status == StepStatus.SENT
    assert len(hook.requests) == 2 and len(hook.unique_keys) == 1
    assert Notification.objects.get(channel=Channel.SMS).status == "sent"


def test_missing_webhook_configuration_fails_loudly(ward, physician, policy, settings, coordinator):
    settings.ALERT_WEBHOOK_URL = ""
    physician.phone = "+4915112345678"
    physician.save()
    step = policy.steps.get(position=0)
    step.channels = [Channel.INAPP, Channel.SMS]
    step.save()
    services.alert_process_evaluation(evaluation_id=make_evaluation(ward, crs=2).pk)
    sms = Notification.objects.get(channel=Channel.SMS)
    assert sms.status == "failed" and "not configured" in sms.error
    assert Notification.objects.get(channel=Channel.INAPP, recipient=physician).status == "sent"
    alert = Alert.objects.get()
    assert alert.first_notified_at is not None
    first = alert.steps.order_by("sequence").first()
    assert first.status == StepStatus.PENDING  # the failed SMS is retried; the in-app one is not resent
    import time_machine
    from django.utils import timezone

    for minute in range(1, 6):
        with time_machine.travel(timezone.now() + timedelta(minutes=minute), tick=False):
            services.dispatch_due_steps(alert_ids=[alert.pk])
    first.refresh_from_db()
    assert first.status == StepStatus.SENT and first.attempts == 5
    assert Notification.objects.filter(channel=Channel.INAPP, recipient=physician, step=first).count() == 1
    assert Notification.objects.get(channel=Channel.SMS).attempts == 5
    alarm = OperationsAlarm.objects.get(kind="delivery_failed")
    assert alarm.key == f"delivery_failed:{ward.care_team_id}:sms"
