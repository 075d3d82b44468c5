"""The alert tells the whole story (issue 13 item 4): grade, why, suggestions with doses, withheld
suggestions with their reasons, what changed since the last page, who was paged when, who acknowledged
— every time in the care team's zone, every code and person in words."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from alerts import services
from alerts.models import Alert

from .conftest import make_evaluation

pytestmark = pytest.mark.django_db


@pytest.fixture
def story_alert(ward, team, physician):
    team.time_zone = "Europe/Berlin"
    team.save()
    ev = make_evaluation(ward, crs=2)
    ev.withheld = [
        {
            "code": "dexamethasone",
            "text": "Dexamethasone 10 mg IV",
            "dose_text": "10 mg IV every 6 h",
            "withheld": True,
            "withheld_reason": "tocilizumab at t=+30.0 h is the first step for grade 2",
        }
    ]
    ev.save()
    services.alert_process_evaluation(evaluation_id=ev.pk)
    alert = Alert.objects.get(infusion=ward, syndrome="crs")
    services.alert_acknowledge(alert=alert, user=physician, note="seen")
    services.alert_add_note(alert=alert, user=physician, text="Tocilizumab ordered")
    return alert


def _page(client, user, alert) -> str:
    client.force_login(user)
    html = client.get(reverse("alerts:detail_full", args=[alert.patient_id, alert.pk])).content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_alert_detail_tells_the_whole_story(client, story_alert, physician):
    text = _page(client, physician, story_alert)
    assert "CRS grade 2" in text
    assert "Temperature 39.1 °C" in text  # why
    assert "Tocilizumab 8 mg/kg IV — 496 mg IV over 1 h" in text  # suggestion with its dose
    assert "Dexamethasone 10 mg IV — 10 mg IV every 6 h" in text  # withheld, with its dose
    assert "withheld because tocilizumab at day " in text and "t=+" not in text  # and its reason
    assert f"Acknowledged by {physician}" in text and "after it opened" in text
    assert re.search(
        rf"{re.escape(str(physician))} by (in-app inbox|e-mail|SMS|pager) at \d+ \w+ \d\d:\d\d CE[S]?T", text
    )
    assert "What changed since the last page" in text and "Tocilizumab ordered" in text
    assert "user " + str(physician.pk) not in text


def test_every_time_on_the_alert_carries_the_team_zone(client, story_alert, physician):
    text = _page(client, physician, story_alert)
    times = re.findall(r"\b\d\d:\d\d(?::\d\d)?\b(?! ?(?:CET|CEST))", text)
    assert times == [], times
    assert re.search(r"\d\d:\d\d CET", text)
    assert "0:00:00" not in text


def test_the_page_text_says_when_in_the_team_zone(story_alert):
    messages = [n.message for n in story_alert.notifications.all()]
    assert messages
    assert all(re.search(r"opened \d\d:\d\d CES?T\)", m) for m in messages), messages
    assert not any("_" in m.split("http")[0] for m in messages)
