"""Issue 15 "Done when" with real worker processes: an interface engine's transaction Bundle of a
febrile, hypotensive patient on norepinephrine, posted to ``/fhir/`` with an integration token,
commits, reaches the Celery worker through Redis and pages the on-call physician's phone (the SMS
gateway's webhook) with CRS grade 3, exactly as the same values entered by a nurse do."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tokens import issue_api_token
from alerts.models import Alert, Notification
from monitoring import services
from monitoring.models import GradeEvaluation
from tests import factories
from tests.interop.conftest import load

from .conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(150)]

#: The nurse's entries of the same values, as the tablet saves them (minutes ago, payload).
NURSE_ENTRIES = (
    (10, {"temp_f": 102.4}),
    (10, {"hr": 124}),
    (10, {"sbp": 82, "dbp": 48}),
    (10, {"spo2": 95}),
    (10, {"o2_device": "room_air"}),
    (5, {"vasopressors": ["norepinephrine"]}),
)


def _settled(count, seconds: float = 3.0):
    """A predicate that holds once ``count()`` has stayed the same for ``seconds``."""
    seen = {"value": None, "since": 0.0}

    def check() -> bool:
        value, now = count(), time.monotonic()
        if value != seen["value"]:
            seen.update(value=value, since=now)
        return now - seen["since"] >= seconds

    return check


def _paged(infusion, hook, primary) -> tuple:
    """Wait until the worker has graded the course 3 and the on-call primary's phone got the page."""
    alert = wait_for(
        lambda: Alert.objects.filter(infusion=infusion, syndrome="crs", grade=3).first(), timeout=60
    )

    def pages_to_primary() -> list[dict]:
        keys = set(Notification.objects.filter(alert=alert).values_list("idempotency_key", flat=True))
        return [
            r["body"]
            for r in hook.requests
            if r["body"]["to"] == primary.phone and r["body"]["idempotency_key"] in keys
        ]

    wait_for(pages_to_primary, timeout=30)
    # The worker has taken every evaluation of the course (the last one is the alert's), and the
    # pages due now have gone out: nothing changes for a few seconds.
    latest = GradeEvaluation.objects.filter(infusion=infusion).latest()
    wait_for(lambda: Alert.objects.get(pk=alert.pk).evaluation_id == latest.pk, timeout=30)
    wait_for(_settled(lambda: Notification.objects.filter(alert=alert, status="sent").count()), timeout=30)
    phone_pages = pages_to_primary()
    alert.refresh_from_db()
    notified = sorted(
        set(Notification.objects.filter(alert=alert).values_list("recipient__username", "channel"))
    )
    return (
        (alert.syndrome, alert.grade, alert.urgency, alert.status),
        notified,
        sorted({(p["channel"], p["urgency"]) for p in phone_pages}),
    )


def test_a_fhir_bundle_pages_the_on_call_physician_through_the_worker_as_a_nurse_entry_does(
    start_worker, ward, receivers
):
    hook, _smtp = receivers
    start_worker("w1")
    team, primary = ward["team"], ward["primary"]
    account = factories.make_user(Role.NURSE, team, username="int_gateway")
    _token, key = issue_api_token(name="Ward monitor gateway", user=account, team=team, scopes=["fhir:write"])
    gateway = APIClient()
    gateway.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    now = timezone.now()

    response = gateway.post(
        "/fhir/",
        json.dumps(load("febrile_hypotensive_norepinephrine", mrn=ward["infusion"].patient.mrn, now=now)),
        content_type="application/fhir+json",
    )
    assert response.status_code == 200, response.content
    assert GradeEvaluation.objects.filter(infusion=ward["infusion"]).latest().crs_grade == 3
    imported = _paged(ward["infusion"], hook, primary)
    assert imported[0][:3] == ("crs", 3, "emergent")
    assert ("int_primary", "sms") in imported[1]

    twin = factories.make_infusion(factories.make_patient(team), ward["infusion"].product, hours_ago=30)
    for minutes, payload in NURSE_ENTRIES:
        services.observation_record(
            infusion=twin,
            kind="vitals",
            payload=payload,
            observed_at=now - timedelta(minutes=minutes),
            recorded_by=ward["nurse"],
            client_uuid=uuid.uuid4(),
        )
    assert _paged(twin, hook, primary) == imported
