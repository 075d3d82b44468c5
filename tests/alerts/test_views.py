"""Inbox, detail, on-call and operations screens: scoping, capabilities, htmx polling, CSP rules."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from alerts import services
from alerts.models import Alert, AlertStatus
from tests import factories

from .conftest import make_evaluation

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(username=user.username, password=factories.PASSWORD)
    return client


@pytest.fixture
def alert(ward):
    services.alert_process_evaluation(evaluation_id=make_evaluation(ward, crs=3).pk)
    return Alert.objects.get()


def test_inbox_shows_grade_text_urgency_drivers_and_dose(client, alert, physician):
    html = login(client, physician).get(reverse("alerts:inbox")).content.decode()
    assert "CRS grade 3" in html and "Emergent" in html
    assert "Temperature 39.1 °C" in html and "496 mg IV over 1 h" in html
    assert "ICU transfer" in html
    assert 'hx-headers=\'{"X-Background-Poll": "1"}\'' in html and 'hx-trigger="every 10s"' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # no inline script
    assert not re.search(r"\son[a-z]+=", html)


def test_inbox_poll_returns_new_alerts(client, ward, physician):
    login(client, physician)
    url = reverse("alerts:inbox_items")
    assert "CRS grade 2" not in client.get(url, headers={"X-Background-Poll": "1"}).content.decode()
    services.alert_process_evaluation(evaluation_id=make_evaluation(ward, crs=2).pk)
    assert "CRS grade 2" in client.get(url, headers={"X-Background-Poll": "1"}).content.decode()


def test_other_team_cannot_see_the_alert(client, alert, other_team):
    stranger = factories.make_user("physician", other_team, username="stranger")
    login(client, stranger)
    assert client.get(reverse("alerts:detail", args=[alert.pk])).status_code == 404
    assert client.get(reverse("alerts:detail_full", args=[alert.patient_id, alert.pk])).status_code == 404
    assert client.post(reverse("alerts:acknowledge", args=[alert.pk])).status_code == 404
    assert "CRS grade" not in client.get(reverse("alerts:inbox")).content.decode()


def test_short_link_redirects_to_patient_scoped_detail_with_timeline(client, alert, physician):
    login(client, physician)
    response = client.get(reverse("alerts:detail", args=[alert.pk]))
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    for text in ("Timeline", "Opened", "Notified", "Escalation steps", "frozen when the alert opened"):
        assert text in html


def test_physician_acknowledges_and_resolves_from_the_screens(client, alert, physician):
    login(client, physician)
    client.post(reverse("alerts:acknowledge", args=[alert.pk]), {"next": "inbox"})
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED and alert.acknowledged_by == physician
    client.post(reverse("alerts:note", args=[alert.pk]), {"text": "Tocilizumab given"})
    client.post(reverse("alerts:resolve", args=[alert.pk]), {"note": "Afebrile"})
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_nurse_sees_but_cannot_acknowledge(client, alert, nurse):
    login(client, nurse)
    html = client.get(reverse("alerts:inbox")).content.decode()
    assert "CRS grade 3" in html and ">Acknowledge<" not in html
    assert client.post(reverse("alerts:acknowledge", args=[alert.pk])).status_code == 403


def test_oncall_page_and_management(client, ward, physician, coordinator, nurse):
    login(client, nurse)
    html = client.get(reverse("alerts:oncall")).content.decode()
    assert "Who is on call now" in html and str(physician) in html and "Add override" not in html
    client.logout()
    login(client, coordinator)
    html = client.get(reverse("alerts:oncall")).content.decode()
    assert "Add override" in html and "Swap" in html


def test_operations_page_is_for_coordinators(client, ward, coordinator, nurse):
    login(client, nurse)
    assert client.get(reverse("alerts:operations")).status_code == 403
    client.logout()
    login(client, coordinator)
    services.run_auditor()
    response = client.get(reverse("alerts:operations"))
    assert response.status_code == 200 and "Escalation auditor: OK" in response.content.decode()


def test_selector_scopes_alerts(alert, physician, other_team):
    from alerts.selectors import alerts_visible_to

    stranger = factories.make_user("physician", other_team, username="stranger2")
    assert list(alerts_visible_to(physician)) == [alert]
    assert list(alerts_visible_to(stranger)) == []


def test_coordinator_adds_override_and_swap_through_the_screen(
    client, ward, oncall, coordinator, backup_physician
):
    from datetime import timedelta

    from django.utils import timezone

    from alerts.models import OnCallOverride
    from alerts.oncall import oncall_user_id

    primary, _backup = oncall
    login(client, coordinator)
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=5)
    client.post(
        reverse("alerts:oncall_override", args=[primary.pk]),
        {
            "user": backup_physician.pk,
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "reason": "cover",
        },
    )
    assert OnCallOverride.objects.filter(schedule=primary, user=backup_physician).exists()
    assert oncall_user_id(primary) == backup_physician.pk
    index = primary.shift_index_at(timezone.now())
    client.post(
        reverse("alerts:oncall_swap", args=[primary.pk]), {"shift_a": index + 1, "shift_b": index + 2}
    )
    assert OnCallOverride.objects.filter(schedule=primary).count() == 3


def test_nurse_cannot_manage_schedules_or_clear_alarms(client, ward, oncall, nurse, physician):
    primary, _backup = oncall
    login(client, nurse)
    response = client.post(reverse("alerts:oncall_override", args=[primary.pk]), {"user": physician.pk})
    assert response.status_code == 403


def test_coordinator_clears_an_alarm(client, ward, coordinator):
    from alerts.models import OperationsAlarm

    alarm = services.raise_alarm(kind="oncall_gap", key="test:1", message="gap", team_id=ward.care_team_id)
    login(client, coordinator)
    client.post(reverse("alerts:clear_alarm", args=[alarm.pk]))
    assert OperationsAlarm.objects.get(pk=alarm.pk).cleared_at is not None


def test_the_acknowledgement_is_confirmed_once(client, alert, physician):
    login(client, physician)
    response = client.post(reverse("alerts:acknowledge", args=[alert.pk]), {"next": "inbox"}, follow=True)
    messages = re.findall(r'class="(?:message|al-msg) [^"]*"[^>]*>([^<]+)<', response.content.decode())
    assert len(messages) == 1, messages  # one confirmation, not one per message list on the page
