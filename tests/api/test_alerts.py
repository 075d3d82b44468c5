"""Alerts over the API: my teams' alerts, acknowledge and resolve by physicians only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from alerts.models import Alert, AlertStatus
from alerts.services import alert_process_evaluation

from .conftest import vitals_body

ALERTS = reverse("api-alert-list")
OBSERVATIONS = reverse("api-observation-list")


def ack_url(pk):
    return reverse("api-alert-acknowledge", args=[pk])


def resolve_url(pk):
    return reverse("api-alert-resolve", args=[pk])


def raise_crs_alert(client, infusion) -> Alert:
    """Record CRS grade 3 vitals through the API and run the alert step the worker would run."""
    body = vitals_body(infusion, temp_c=39.1, hr=124, sbp=84, dbp=48, vasopressors=["norepinephrine"])
    recorded = client.post(OBSERVATIONS, body, format="json")
    assert recorded.status_code == 201, recorded.content
    alert_process_evaluation(evaluation_id=recorded.json()["grade"]["id"])
    return Alert.objects.get(infusion=infusion, syndrome="crs")


@pytest.mark.django_db
class TestAlerts:
    def test_list_and_retrieve_my_teams_alerts(self, api, other_api, infusion, other_infusion):
        mine = raise_crs_alert(api, infusion)
        theirs = raise_crs_alert(other_api, other_infusion)

        rows = api.get(ALERTS).json()["results"]
        assert [r["id"] for r in rows] == [mine.pk]
        row = rows[0]
        assert row["syndrome"] == "crs" and row["grade"] == 3 and row["status"] == "open"
        assert row["urgency"] == "emergent"
        assert row["title"] == "CRS grade 3"
        assert row["drivers"] and row["suggestions"]
        assert row["events"][0]["event"] == "opened"

        assert api.get(reverse("api-alert-detail", args=[mine.pk])).status_code == 200
        assert api.get(reverse("api-alert-detail", args=[theirs.pk])).status_code == 404
        assert api.get(ALERTS, {"active": "true", "syndrome": "crs"}).json()["count"] == 1
        assert api.get(ALERTS, {"status": "resolved"}).json()["count"] == 0
        assert api.get(ALERTS, {"status": "bogus"}).status_code == 400

    def test_physician_acknowledges_then_resolves(self, api, physician_api, physician, infusion):
        alert = raise_crs_alert(api, infusion)

        response = physician_api.post(ack_url(alert.pk), {"note": "Tocilizumab ordered"}, format="json")
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["status"] == "acknowledged"
        assert body["acknowledged_by"] == physician.pk and body["acknowledged_at"]
        assert {"acknowledged", "note"} <= {e["event"] for e in body["events"]}

        response = physician_api.post(
            resolve_url(alert.pk), {"note": "Afebrile, off pressors"}, format="json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "resolved"
        alert.refresh_from_db()
        assert alert.status == AlertStatus.RESOLVED and alert.resolved_by == physician

    def test_nurse_and_coordinator_cannot_acknowledge_403(self, api, coordinator_api, infusion):
        alert = raise_crs_alert(api, infusion)
        assert api.post(ack_url(alert.pk), {}, format="json").status_code == 403
        assert coordinator_api.post(ack_url(alert.pk), {}, format="json").status_code == 403
        assert api.post(resolve_url(alert.pk), {"note": "x"}, format="json").status_code == 403
        alert.refresh_from_db()
        assert alert.status == AlertStatus.OPEN

    def test_other_teams_physician_gets_404(self, api, infusion, other_team):
        from accounts.models import Role
        from tests import factories

        from .conftest import client_for

        alert = raise_crs_alert(api, infusion)
        outsider = client_for(factories.make_user(Role.PHYSICIAN, other_team, username="outsider"))
        assert outsider.post(ack_url(alert.pk), {}, format="json").status_code == 404
        assert outsider.post(resolve_url(alert.pk), {"note": "x"}, format="json").status_code == 404

    def test_resolve_needs_a_note(self, api, physician_api, infusion):
        alert = raise_crs_alert(api, infusion)
        response = physician_api.post(resolve_url(alert.pk), {"note": ""}, format="json")
        assert response.status_code == 400
        assert "note" in response.json()

    def test_acknowledging_a_resolved_alert_is_refused(self, api, physician_api, infusion):
        alert = raise_crs_alert(api, infusion)
        physician_api.post(resolve_url(alert.pk), {"note": "done"}, format="json")
        response = physician_api.post(ack_url(alert.pk), {}, format="json")
        assert response.status_code in (400, 409)
        assert "resolved" in str(response.json())

    def test_physician_adds_a_note_nurse_cannot(self, api, physician_api, infusion):
        alert = raise_crs_alert(api, infusion)
        url = reverse("api-alert-note", args=[alert.pk])
        assert api.post(url, {"text": "x"}, format="json").status_code == 403
        assert physician_api.post(url, {"text": ""}, format="json").status_code == 400
        response = physician_api.post(url, {"text": "Tocilizumab 496 mg given"}, format="json")
        assert response.status_code == 200, response.content
        assert any(e["event"] == "note" and "496" in e["text"] for e in response.json()["events"])
        alert.refresh_from_db()
        assert alert.last_action_at is not None
