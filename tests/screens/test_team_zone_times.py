"""Times in the care team's zone with the zone (issue 13 item 3): the census and the inbox say when
they were last updated in the team's zone, and the patient page names its rule set instead of its id."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

import carttrack
from monitoring.models import GradeEvaluation
from tests import factories
from tests.dashboards.helpers import alert, evaluation

pytestmark = pytest.mark.django_db

UPDATED = re.compile(r"updated (\d\d):(\d\d):\d\d (\w+)")


@pytest.fixture
def berlin(team, product):
    team.time_zone = "Europe/Berlin"
    team.save()
    patient = factories.make_patient(team, family_name="Zeller")
    infusion = factories.make_infusion(patient, product, hours_ago=20)
    GradeEvaluation.objects.filter(pk=evaluation(infusion, hours=19, crs=2, icans=0).pk).update(
        rule_set=carttrack.RULE_SET
    )
    alert(infusion, syndrome="crs", grade=2)
    return infusion


def _stamp(html: str) -> tuple[str, str]:
    found = UPDATED.search(html)
    assert found, "no updated stamp"
    return f"{found.group(1)}:{found.group(2)}", found.group(3)


@pytest.mark.parametrize(
    ("who", "url_name"),
    [
        ("coordinator", "dashboards:census"),
        ("physician", "alerts:inbox"),
        ("physician", "alerts:inbox_items"),
    ],
)
def test_updated_stamps_are_in_the_care_teams_zone(client, request, berlin, who, url_name, settings):
    settings.TWO_FACTOR_REQUIRED = False
    client.force_login(request.getfixturevalue(who))
    before = datetime.now(UTC).astimezone(ZoneInfo("Europe/Berlin"))
    html = client.get(reverse(url_name)).content.decode()
    after = datetime.now(UTC).astimezone(ZoneInfo("Europe/Berlin"))
    hhmm, zone = _stamp(html)
    assert zone == before.strftime("%Z")  # "CET" or "CEST", never "UTC"
    assert hhmm in {before.strftime("%H:%M"), after.strftime("%H:%M")}


def test_patient_page_names_the_rule_set_and_keeps_the_id_for_the_auditor(client, nurse, berlin):
    client.force_login(nurse)
    html = client.get(reverse("monitoring:patient_detail", args=[berlin.patient_id])).content.decode()
    assert "ASTCT 2019 consensus, CAR-T Track rules v2" in html
    visible = re.sub(r'title="[^"]*"', "", html)
    assert carttrack.RULE_SET not in visible  # the id only in the title attribute
