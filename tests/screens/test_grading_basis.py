"""Every grade names the rule set and the site policy in force (README; issue 13 items 3 and 4): the
evaluation stores which site decision policy graded it, the patient page, the alert and the API say
so, and a grade stored before the policy was recorded says "not recorded" instead of guessing."""

from __future__ import annotations

import html as html_text
import re
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from alerts.models import Alert
from alerts.services import alert_process_evaluation
from carttrack import wording
from monitoring.models import DecisionPolicy, GradeEvaluation
from monitoring.services import observation_record
from tests.dashboards.helpers import evaluation

pytestmark = pytest.mark.django_db

FEVER = {"temp_c": 39.1, "hr": 118, "sbp": 84, "dbp": 50, "spo2": 95, "fluid_bolus_for_hypotension": True}
RULE_SET = "rule set ASTCT 2019 consensus, CAR-T Track rules v2"


@pytest.fixture
def berlin(team, infusion):
    team.time_zone = "Europe/Berlin"
    team.save()
    return infusion


def _grade(infusion, nurse, minutes_ago=5) -> GradeEvaluation:
    _obs, graded, _ = observation_record(
        infusion=infusion,
        kind="vitals",
        payload=FEVER,
        observed_at=timezone.now() - timedelta(minutes=minutes_ago),
        recorded_by=nurse,
        client_uuid=uuid.uuid4(),
        source="tablet",
    )
    return graded


def _patient_page(client, infusion) -> str:
    html = client.get(reverse("monitoring:patient_detail", args=[infusion.patient_id])).content.decode()
    found = re.search(r'<span class="grading-basis">(.*?)</span></p>', html, re.S)
    assert found, "the grade panel names no rule set"
    return html_text.unescape(re.sub(r"<[^>]+>", "", found.group(1)))


def test_a_grade_names_the_site_policy_that_was_in_force(client, nurse, admin_user, berlin):
    first = DecisionPolicy.objects.create(overrides={}, note="Ward defaults", created_by=admin_user)
    graded = _grade(berlin, nurse, minutes_ago=10)
    assert graded.decision_policy == first and graded.policy_recorded
    since = first.created_at.astimezone(ZoneInfo("Europe/Berlin"))
    client.force_login(nurse)
    basis = _patient_page(client, berlin)
    assert basis.startswith(RULE_SET), basis
    assert f"site policy #{first.pk} “Ward defaults”, in force from {since.day} {since:%b %Y %H:%M}" in basis
    assert basis.endswith(("CET", "CEST")), basis  # the policy's date in the ward's zone, with it

    second = DecisionPolicy.objects.create(
        overrides={"tocilizumab_max_doses_course": 3}, note="Cap at 3 doses"
    )
    regraded = _grade(berlin, nurse, minutes_ago=1)
    assert regraded.decision_policy == second
    assert f"site policy #{second.pk} “Cap at 3 doses”" in _patient_page(client, berlin)
    graded.refresh_from_db()
    assert graded.decision_policy == first  # an earlier grade keeps the policy it was made under


def test_without_a_site_policy_the_grade_says_the_rule_sets_own_settings(client, nurse, berlin):
    graded = _grade(berlin, nurse)
    assert graded.policy_recorded and graded.decision_policy is None
    client.force_login(nurse)
    assert _patient_page(client, berlin) == f"{RULE_SET}, {wording.NO_SITE_POLICY}"


def test_a_grade_stored_before_policies_were_recorded_says_not_recorded(client, nurse, berlin, admin_user):
    DecisionPolicy.objects.create(overrides={}, note="In force now", created_by=admin_user)
    old = evaluation(berlin, hours=1, crs=1, icans=0)  # as a row from before the migration
    assert old.policy_recorded is False
    GradeEvaluation.objects.filter(pk=old.pk).update(rule_set="astct-2019/carttrack-2")
    client.force_login(nurse)
    basis = _patient_page(client, berlin)
    assert basis == f"{RULE_SET}, {wording.POLICY_NOT_RECORDED}"
    assert "In force now" not in basis  # never guessed from the dates


def test_the_alert_names_the_rule_set_and_site_policy_of_its_grade(
    client, nurse, physician, admin_user, berlin, settings
):
    settings.TWO_FACTOR_REQUIRED = False
    policy = DecisionPolicy.objects.create(overrides={}, note="Ward defaults", created_by=admin_user)
    alert_process_evaluation(evaluation_id=_grade(berlin, nurse).pk)
    alert = Alert.objects.get(infusion=berlin, syndrome="crs")
    client.force_login(physician)
    html = client.get(f"/alerts/patients/{alert.patient_id}/alerts/{alert.pk}/").content.decode()
    found = re.search(r'<dd class="grading-basis">(.*?)</dd>', html, re.S)
    assert found, "the alert names no rule set"
    text = html_text.unescape(re.sub(r"<[^>]+>", "", found.group(1)))
    assert text.startswith(f"{RULE_SET}, site policy #{policy.pk} “Ward defaults”, in force from"), text


def test_the_api_says_which_policy_graded(nurse, admin_user, berlin):
    policy = DecisionPolicy.objects.create(overrides={}, note="Ward defaults", created_by=admin_user)
    graded = _grade(berlin, nurse)
    api = APIClient()
    api.force_authenticate(nurse)
    body = api.get(reverse("api-infusion-latest-grade", args=[berlin.pk])).json()
    assert body["id"] == graded.pk
    assert body["decision_policy"] == policy.pk and body["policy_recorded"] is True
