"""The shift handover of a care team: each patient's day, grades with their age, open alerts, due
and overdue checks, the last tocilizumab/steroid doses and the tocilizumab limits left; every time
in the team's zone; another team is 404; every listed record is in the access log."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AccessLog
from tests import factories
from tests.dashboards.helpers import alert, evaluation, obs

pytestmark = pytest.mark.django_db


def words(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.split(">", 1)[-1])).strip()


@pytest.fixture
def berlin_ward(nurse, physician, product):
    team = nurse.memberships.get().team
    team.time_zone = "Europe/Berlin"
    team.save()
    infusion = factories.make_infusion(
        factories.make_patient(team, family_name="Alder"), product, hours_ago=50
    )
    v = obs(
        infusion,
        "vitals",
        {"temp_c": 39.0, "hr": 118, "sbp": 100, "dbp": 60, "spo2": 95},
        hours=40,
        user=nurse,
    )
    evaluation(infusion, hours=46, crs=2, icans=0, trigger=v)
    obs(infusion, "medication", {"drug": "tocilizumab", "dose_mg": 640}, hours=41, user=physician)
    obs(infusion, "medication", {"drug": "tocilizumab", "dose_mg": 640}, hours=47, user=physician)
    obs(infusion, "medication", {"drug": "dexamethasone", "dose_mg": 10}, hours=47.5, user=physician)
    alert(infusion, grade=2, opened_at=timezone.now() - timedelta(hours=3))
    quiet = factories.make_infusion(factories.make_patient(team, family_name="Birke"), product, hours_ago=5)
    return team, infusion, quiet


def test_handover_shows_what_the_next_shift_needs(client, nurse, berlin_ward):
    team, infusion, _quiet = berlin_ward
    client.force_login(nurse)
    response = client.get(f"/handover/{team.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    text = words(html)
    sections = {
        words(part).split()[0]: words(part) for part in html.split('<section class="handover-patient"')[1:]
    }
    alder = sections["Alder,"]
    assert "Day 2 after infusion" in alder or "Day 3 after infusion" in alder
    assert "CRS grade 2" in alder and "CET, 4 h" in alder  # the grade and its age
    assert "Open alerts CRS grade 2, not acknowledged; raised" in alder
    assert "Last 640 mg" in alder and "2 of 4 doses this course; 2 in the last 24 h (max 3)" in alder
    assert "1 more dose possible in the next 24 h, 2 left this course" in alder
    assert "next not before" in alder  # 8-h interval after the dose 3 h ago
    assert "Last Dexamethasone 10 mg" in alder
    assert "Vitals: overdue by 8 h" in alder  # last vitals 10 h ago, due every 4 h (grace 2 h)
    birke = sections["Birke,"]
    assert "None given this course" in birke and "4 doses left" not in birke
    # Every clock time on the sheet says its zone (CET or CEST in Berlin).
    times = re.findall(r"\d{1,2} \w{3} \d{2}:\d{2}(?: (\w+))?", text)
    assert times and all(zone in ("CET", "CEST") for zone in times), times
    logged = set(AccessLog.objects.filter(username=nurse.username).values_list("patient_id", flat=True))
    assert infusion.patient_id in logged


def test_limit_reached_is_said_in_words(client, nurse, physician, berlin_ward):
    team, infusion, _quiet = berlin_ward
    obs(infusion, "medication", {"drug": "tocilizumab", "dose_mg": 640}, hours=49, user=physician)
    client.force_login(nurse)
    text = client.get(f"/handover/{team.pk}/").content.decode()
    assert "Limit reached: 3 tocilizumab doses in the last 24 h (max 3 per 24 h, A-13)" in text


def test_another_team_is_not_found_and_the_index_opens_the_own_team(client, nurse, other_team, team):
    client.force_login(nurse)
    assert client.get(f"/handover/{other_team.pk}/").status_code == 404
    response = client.get("/handover/")
    assert response.status_code == 302 and response["Location"] == f"/handover/{team.pk}/"
