"""Coordinators edit their care team's escalation policy on a page (capability ``policy.manage``);
alerts already open keep the policy they opened with."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Role
from alerts import services
from alerts.models import Alert, Channel, EscalationPolicy, Target
from alerts.policy import PolicySnapshot
from tests import factories

from .conftest import make_evaluation

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(username=user.username, password=factories.PASSWORD)
    return client


def form_data(steps, **policy):
    data = {
        "name": "Night escalation",
        "repeat_count": "2",
        "reminder_minutes": "20",
        "final_wait_minutes": "3",
        "final_channels": ["inapp", "sms"],
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "8",
        **policy,
    }
    for i, step in enumerate(steps):
        for key, value in step.items():
            data[f"steps-{i}-{key}"] = value
    return data


def test_the_policies_page_shows_each_team_and_the_editor_only_to_coordinators(
    client, policy, coordinator, nurse
):
    url = reverse("alerts:policies")
    html = login(client, nurse).get(url).content.decode()
    assert "Ward" in html and "On-call (primary)" in html and "Everyone with a role: Physician" in html
    assert reverse("alerts:policy_edit", args=[policy.team_id]) not in html
    assert client.get(reverse("alerts:policy_edit", args=[policy.team_id])).status_code == 403
    client.logout()
    html = login(client, coordinator).get(url).content.decode()
    assert reverse("alerts:policy_edit", args=[policy.team_id]) in html


def test_a_coordinator_replaces_the_steps_and_new_alerts_use_them(
    client, ward, policy, coordinator, physician, attending
):
    services.alert_process_evaluation(evaluation_id=make_evaluation(ward, crs=2).pk)
    before = Alert.objects.get()
    url = reverse("alerts:policy_edit", args=[policy.team_id])
    page = login(client, coordinator).get(url).content.decode()
    assert 'value="Ward"' in page  # prefilled with the saved policy
    steps = [
        {"target": "user", "user": str(attending.pk), "channels": ["inapp", "pager"], "wait_minutes": "2"},
        {"target": "", "channels": [], "wait_minutes": ""},  # an empty row is ignored
        {"target": "role", "role": "coordinator", "channels": ["email"], "wait_minutes": "4"},
    ]
    response = client.post(url, form_data(steps))
    assert response.status_code == 302
    saved = PolicySnapshot.of(EscalationPolicy.objects.get(team=policy.team)).to_json()
    assert saved["name"] == "Night escalation" and saved["repeat_count"] == 2
    assert saved["final_channels"] == [Channel.INAPP, Channel.SMS]
    assert [
        (s["target"], s["user_id"], s["role"], s["channels"], s["wait_minutes"]) for s in saved["steps"]
    ] == [
        (Target.USER, attending.pk, "", ["inapp", "pager"], 2),
        (Target.ROLE, None, "coordinator", ["email"], 4),
    ]
    before.refresh_from_db()
    assert before.policy_snapshot["name"] == "Ward"  # an open alert keeps its policy
    assert EscalationPolicy.history.filter(team=policy.team).count() >= 2  # the change is in the history


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"target": "user", "channels": ["inapp"], "wait_minutes": "5"}, "Choose the person to notify"),
        ({"target": "role", "channels": ["inapp"], "wait_minutes": "5"}, "Choose the role to notify."),
        ({"target": "oncall_primary", "channels": [], "wait_minutes": "5"}, "Choose at least one channel."),
        (
            {"target": "oncall_primary", "channels": ["inapp"], "wait_minutes": "500"},
            "less than or equal to 120",
        ),
    ],
)
def test_bad_steps_are_refused_naming_the_problem_and_nothing_changes(
    client, policy, coordinator, step, message
):
    response = login(client, coordinator).post(
        reverse("alerts:policy_edit", args=[policy.team_id]), form_data([step])
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert EscalationPolicy.objects.get(pk=policy.pk).name == "Ward"


def test_a_policy_without_steps_or_with_an_outsider_is_refused(client, policy, coordinator, other_team):
    url = reverse("alerts:policy_edit", args=[policy.team_id])
    response = login(client, coordinator).post(url, form_data([]))
    assert response.status_code == 422 and "at least one step" in response.content.decode()
    outsider = factories.make_user(Role.PHYSICIAN, other_team, username="outsider")
    step = {"target": "user", "user": str(outsider.pk), "channels": ["inapp"], "wait_minutes": "5"}
    response = client.post(url, form_data([step]))
    assert response.status_code == 422  # not a member: not even offered as a choice
    assert EscalationPolicy.objects.get(pk=policy.pk).steps.count() == 3


def test_another_teams_policy_is_not_found(client, coordinator, other_team):
    response = login(client, coordinator).get(reverse("alerts:policy_edit", args=[other_team.pk]))
    assert response.status_code == 404
