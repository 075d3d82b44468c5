"""The alert dispatcher (``manage.py alert_dispatcher``) with a real critical worker and no beat: steps are
sent within a second of their due time, woken by NOTIFY when a step is written or re-timed; the dispatcher
sends them itself, so a page does not wait for the critical queue (backed up by a burst of alert openings);
killed mid-send, the auditor re-sends the step once under the same idempotency key; a second dispatcher
waits on the lock and takes over when the first one dies."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import EscalationStep, Notification, StepStatus
from tests.alerts.receivers import WebhookReceiver

from .conftest import ROOT, SECRET, wait_for
from .test_escalation_worker import open_alert

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]


@pytest.fixture
def start_dispatcher(app_env, tmp_path):
    procs: list[tuple[subprocess.Popen, object]] = []

    def start(name: str, **extra_env) -> tuple[subprocess.Popen, object]:
        log_path = tmp_path / f"{name}.log"
        log = open(log_path, "ab")  # noqa: SIM115 - closed in teardown
        proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/python"), "manage.py", "alert_dispatcher"],
            cwd=ROOT,
            env=app_env | {"LOG_LEVEL": "INFO"} | {k: str(v) for k, v in extra_env.items()},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        procs.append((proc, log))
        return proc, log_path

    yield start
    for proc, log in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def lateness(step_id: int) -> float:
    step = EscalationStep.objects.get(pk=step_id)
    return (step.sent_at - step.due_at).total_seconds()


def retime(alert, seconds: list[float]) -> list[int]:
    """The controlled clock: the alert's page steps become due these many seconds from now."""
    steps = list(alert.steps.filter(status=StepStatus.PENDING).order_by("sequence"))
    now = timezone.now()
    for step, offset in zip(steps, seconds, strict=False):
        EscalationStep.objects.filter(pk=step.pk).update(due_at=now + timedelta(seconds=offset))
    return [s.pk for s in steps[: len(seconds)]]


def test_steps_are_sent_within_a_second_of_due_without_the_tick(
    start_worker, start_dispatcher, ward, receivers
):
    hook, _smtp = receivers
    start_worker("critical", beat=False, queues="critical")
    dispatcher, log = start_dispatcher("dispatcher")
    wait_for(lambda: "alert dispatcher running (LISTEN" in log.read_text(), 30)
    alert = open_alert(ward["infusion"], at=timezone.now() + timedelta(hours=1))  # nothing due yet
    step_ids = retime(alert, [2.0, 4.5, 7.0])  # re-timed rows: NOTIFY wakes the dispatcher
    for step_id in step_ids:
        wait_for(lambda s=step_id: EscalationStep.objects.get(pk=s).status == StepStatus.SENT, 30)
    late = [lateness(s) for s in step_ids]
    assert all(0 <= x < 1.0 for x in late), f"lateness {late}"
    assert {r["body"]["to"] for r in hook.requests} >= {"+4915100000001", "+4915100000002"}
    assert dispatcher.poll() is None


def test_the_dispatcher_sends_due_pages_itself_while_no_worker_takes_from_the_critical_queue(
    start_dispatcher, ward, receivers
):
    # No critical worker at all: what a page handed to the queue would meet when a burst of alert
    # openings fills it. The dispatcher's own threads send it anyway, on time.
    hook, _smtp = receivers
    dispatcher, log = start_dispatcher("dispatcher")
    wait_for(lambda: "alert dispatcher running (LISTEN" in log.read_text(), 30)
    alert = open_alert(ward["infusion"], at=timezone.now() + timedelta(hours=1))
    step_ids = retime(alert, [1.5, 3.0])
    for step_id in step_ids:
        wait_for(lambda s=step_id: EscalationStep.objects.get(pk=s).status == StepStatus.SENT, 30)
    late = [lateness(s) for s in step_ids]
    assert all(0 <= x < 1.0 for x in late), f"lateness {late}"
    assert [r["body"]["to"] for r in hook.requests] == ["+4915100000001", "+4915100000002"]
    assert len(hook.unique_keys) == 2
    assert dispatcher.poll() is None


def test_dispatcher_killed_mid_send_the_auditor_resends_the_page_once(
    start_worker, start_dispatcher, ward, transactional_db
):
    with WebhookReceiver(SECRET, delay_first=6.0) as slow_hook:
        dispatcher, log = start_dispatcher("dispatcher", ALERT_WEBHOOK_URL=slow_hook.url)
        wait_for(lambda: "alert dispatcher running (LISTEN" in log.read_text(), 30)
        alert = open_alert(ward["infusion"], at=timezone.now() + timedelta(hours=1))
        (step_id,) = retime(alert, [1.5])
        wait_for(lambda: len(slow_hook.requests) >= 1, 30)  # the dispatcher's SMS request is in flight
        os.killpg(dispatcher.pid, signal.SIGKILL)
        dispatcher.wait(timeout=10)
        assert EscalationStep.objects.get(pk=step_id).status == StepStatus.SENDING
        # The worker's auditor finds the step stuck (3 s here), resets it and sends it again.
        start_worker("w1", webhook_url=slow_hook.url)
        wait_for(lambda: EscalationStep.objects.get(pk=step_id).status == StepStatus.SENT, 40)
        time.sleep(2)
    sms = Notification.objects.filter(step_id=step_id, channel="sms")
    assert sms.count() == 1 and sms.get().status == "sent"
    assert len(slow_hook.unique_keys) == 1  # the redelivery carries the same idempotency key
    assert Notification.objects.filter(step_id=step_id, channel="inapp").count() == 1


def test_a_second_dispatcher_waits_on_the_lock_and_takes_over(start_worker, start_dispatcher, ward):
    start_worker("critical", beat=False, queues="critical")
    first, first_log = start_dispatcher("first")
    wait_for(lambda: "alert dispatcher running" in first_log.read_text(), 30)
    _second, second_log = start_dispatcher("second")
    wait_for(lambda: "another alert dispatcher holds the lock" in second_log.read_text(), 30)
    assert "alert dispatcher running" not in second_log.read_text()
    first.kill()  # the server releases the session lock with the dead connection
    wait_for(lambda: "alert dispatcher running" in second_log.read_text(), 30)
    alert = open_alert(ward["infusion"], at=timezone.now() + timedelta(hours=1))
    (step_id,) = retime(alert, [1.5])
    wait_for(lambda: EscalationStep.objects.get(pk=step_id).status == StepStatus.SENT, 30)
    assert lateness(step_id) < 1.0
