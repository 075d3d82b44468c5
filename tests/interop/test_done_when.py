"""Issue 15 "Done when": an interface-engine bundle of a febrile, hypotensive patient on
norepinephrine grades CRS 3 and pages the on-call physician exactly as the same values entered by a
nurse do (the alert task's body runs at each commit, as in tests/alerts)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert, Notification
from monitoring.models import GradeEvaluation, Observation
from tests import factories
from tests.api.conftest import client_for

from .conftest import load, post_bundle

pytestmark = pytest.mark.django_db


def what_was_paged(infusion) -> tuple:
    alert = Alert.objects.get(infusion=infusion)
    notified = sorted(Notification.objects.filter(alert=alert).values_list("recipient__username", "channel"))
    return alert.syndrome, alert.grade, alert.urgency, alert.status, notified


def test_febrile_hypotensive_on_norepinephrine_is_crs_3_and_pages_like_a_nurse(
    ward, gateway, nurse, product, team, alert_task_inline, django_capture_on_commit_callbacks
):
    now = timezone.now()
    response = post_bundle(
        gateway,
        load("febrile_hypotensive_norepinephrine", mrn=ward.patient.mrn, now=now),
        capture=django_capture_on_commit_callbacks,
    )
    assert response.status_code == 200, response.content
    assert [e["response"]["status"] for e in response.json()["entry"]] == ["201 Created"] * 6
    latest = GradeEvaluation.objects.filter(infusion=ward).latest()
    assert latest.crs_grade == 3
    imported = what_was_paged(ward)
    assert "physician" in {username for username, _channel in imported[4]}  # the on-call primary

    # The same values by a nurse on the tablet's API, for a second patient of the ward.
    twin = factories.make_infusion(factories.make_patient(team), product)
    api = client_for(nurse)
    for minutes, kind, payload in (
        (10, "vitals", {"temp_f": 102.4}),
        (10, "vitals", {"hr": 124}),
        (10, "vitals", {"sbp": 82, "dbp": 48}),
        (10, "vitals", {"spo2": 95}),
        (10, "vitals", {"o2_device": "room_air"}),
        (5, "vitals", {"vasopressors": ["norepinephrine"]}),
    ):
        with django_capture_on_commit_callbacks(execute=True):
            answer = api.post(
                "/api/observations/",
                {
                    "client_uuid": str(uuid.uuid4()),
                    "infusion": twin.pk,
                    "kind": kind,
                    "observed_at": (now - timedelta(minutes=minutes)).isoformat(),
                    "payload": payload,
                },
                format="json",
            )
        assert answer.status_code == 201, answer.content
    assert GradeEvaluation.objects.filter(infusion=twin).latest().crs_grade == 3
    assert what_was_paged(twin) == imported
    assert [o.payload for o in Observation.objects.filter(infusion=ward).order_by("id")] == [
        o.payload for o in Observation.objects.filter(infusion=twin).order_by("id")
    ]
