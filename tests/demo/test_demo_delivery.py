"""The demo ward as README command 1 runs it: its alerts reach the demo users through channels that
deliver on this machine (no false "delivery failed" alarm), its links use the server's address and
its two-factor hint works as printed."""

from __future__ import annotations

import io
import json
import re
import shlex
import subprocess
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from alerts import channels
from alerts.models import AlarmKind, Alert, Notification, NotificationStatus, OperationsAlarm
from alerts.services import dispatch_due_steps
from monitoring import handoff
from monitoring.models import GradeEvaluation, Infusion


@pytest.fixture
def no_broker(monkeypatch):
    monkeypatch.setattr("monitoring.services._enqueue_alert_processing", lambda evaluation_id: None)


def test_demo_ward_pages_without_delivery_alarms(
    db, settings, tmp_path, no_broker, django_capture_on_commit_callbacks
):
    settings.ALERT_GATEWAY = "outbox"
    settings.ALERT_OUTBOX_DIR = tmp_path
    call_command("seed_demo", "--quiet", stdout=io.StringIO())
    # The worker's part: each course's current grade reaches alerting (as the demo's worker does).
    for infusion in Infusion.objects.all():
        latest = GradeEvaluation.objects.filter(infusion=infusion).order_by("-evaluated_at", "-id").first()
        if latest is not None:
            with django_capture_on_commit_callbacks(execute=True):
                handoff.alerting().process_evaluation(latest.pk)
    assert Alert.objects.exists()
    # Nobody acknowledges: the chain runs on for two hours (backup by SMS and pager, reminders, leads).
    now = timezone.now()
    for minutes in (0, 6, 12, 25, 45, 70, 120):
        with django_capture_on_commit_callbacks(execute=True):
            dispatch_due_steps(now=now + timedelta(minutes=minutes))

    failed = list(
        Notification.objects.filter(status=NotificationStatus.FAILED).values_list("error", flat=True)
    )
    assert failed == []
    assert not OperationsAlarm.objects.filter(kind=AlarmKind.DELIVERY_FAILED).exists()
    sms = [json.loads(line) for line in (tmp_path / "sms.jsonl").read_text().splitlines()]
    assert sms and all(message["to"].startswith("+49") for message in sms)
    assert (tmp_path / "pager.jsonl").exists()


def test_without_a_gateway_sms_still_fails_loudly(settings):
    """The outbox is the demo's choice; a production site without a gateway must see the failure."""
    settings.ALERT_GATEWAY = "webhook"
    settings.ALERT_WEBHOOK_URL = ""
    out = channels.Outgoing(
        channel="sms",
        idempotency_key="k",
        recipient_id=1,
        address="+491",
        subject="s",
        text="t",
        link="l",
        urgency="urgent",
    )
    with pytest.raises(channels.DeliveryError, match="not configured"):
        channels.deliver(out)


def test_printed_links_and_totp_hint_work_as_printed(db, settings, no_broker):
    settings.SITE_URL = "http://127.0.0.1:8765"
    out = io.StringIO()
    call_command("seed_demo", "--quiet", stdout=out)
    text = out.getvalue()
    assert "http://127.0.0.1:8765/accounts/login/" in text
    assert "localhost:8000" not in text
    assert "http://127.0.0.1:8765/accounts/team/" in text and "http://127.0.0.1:8765/courses/" in text
    hint = re.search(r"\(code: (.+) demo_totp demo_physician\)", text)
    assert hint, text
    command = shlex.split(hint.group(1))
    # From another directory, without the venv on PATH: the printed interpreter and manage.py run.
    done = subprocess.run(
        [*command, "help", "demo_totp"],
        cwd="/tmp",
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "two-factor code" in done.stdout
