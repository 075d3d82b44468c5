"""An alert follows its course with real worker processes (issue 11 item 4): the correction's
evaluation reaches the worker through Redis, which revises the alert before its next step is due; a
closed course pages nobody although the tick keeps running."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from alerts.models import Alert, EscalationStep, EventKind, Notification, StepStatus
from monitoring import services
from monitoring.models import ObservationKind
from tests import factories
from tests.monitoring.conftest import FEVER_CANNULA

from .conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(90)]


def _paged_primary(ward):
    obs, evaluation, _ = services.observation_record(
        infusion=ward["infusion"],
        kind=ObservationKind.VITALS,
        payload=FEVER_CANNULA,
        observed_at=timezone.now() - timedelta(minutes=1),
        recorded_by=ward["nurse"],
        client_uuid=uuid.uuid4(),
    )
    assert evaluation.crs_grade == 2
    alert = wait_for(lambda: Alert.objects.filter(infusion=ward["infusion"], syndrome="crs").first(), 30)
    wait_for(lambda: Alert.objects.get(pk=alert.pk).first_notified_at, 15)
    # The backup's step falls due in a few seconds (the rows are the timers).
    EscalationStep.objects.filter(alert=alert, status=StepStatus.PENDING).update(
        due_at=timezone.now() + timedelta(seconds=4)
    )
    return obs, alert


def _backup_paged(ward, alert) -> bool:
    return Notification.objects.filter(alert=alert, recipient=ward["backup"]).exists()


def test_entered_in_error_stops_the_next_page_and_tells_the_physician(start_worker, ward):
    start_worker("w1")
    obs, alert = _paged_primary(ward)
    services.observation_mark_entered_in_error(original=obs, reason="wrong patient", user=ward["primary"])
    revised = wait_for(lambda: alert.events.filter(kind=EventKind.REVISED).first(), 20)
    assert revised.text.startswith("Grade revised to 0 after a correction (was 2;")
    time.sleep(7)  # past the backup step's due time, with the tick running every second
    assert not _backup_paged(ward, alert)
    alert.refresh_from_db()
    assert alert.status == "open" and alert.escalation_stopped
    assert Notification.objects.filter(alert=alert, recipient=ward["primary"], urgency="routine").exists()


def test_closing_the_course_pages_nobody_after(start_worker, ward):
    start_worker("w1")
    _obs, alert = _paged_primary(ward)
    coordinator = factories.make_user(Role.COORDINATOR, ward["team"], username="int_coordinator")
    services.infusion_close(
        infusion=ward["infusion"], closed_at=timezone.now(), close_reason="transferred", user=coordinator
    )
    closing = wait_for(lambda: alert.events.filter(kind=EventKind.COURSE_CLOSED).first(), 10)
    assert "by " in closing.text and "Transferred to another centre" in closing.text
    time.sleep(7)
    assert not _backup_paged(ward, alert)
