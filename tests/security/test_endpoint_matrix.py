"""Every URL × every role: the status a user of that role gets, and another team's record is 404.

The table is checked against the URL resolver: a URL added without a row here fails
``test_every_url_is_in_the_table``.  Expectations come from docs/security.md:

* ``OK``: the role may use it — any answer except 401/403/404/405/5xx (a POST with an empty body
  may be a 400/409/422 validation answer, that is still "allowed").
* ``DENY``: 403 (the role lacks the capability in that team).
* anonymous: pages redirect to sign-in, the API answers 401; health checks are public.
* For every URL naming another team's patient, alert, observation, infusion, schedule or task:
  404 for every role (its existence is not revealed).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.tokens import issue_api_token
from alerts.models import AlarmKind, Alert, CheckTask, OnCallSchedule, OperationsAlarm
from alerts.services import alert_process_evaluation
from followup.models import Finding, FollowupEvaluation, PlannedCourse
from tests import factories

from .conftest import verified_client
from .helpers import record_vitals

OK, DENY = "ok", 403
ROLES = ("nurse", "physician", "coordinator", "admin")
ALL = dict.fromkeys(ROLES, OK)
PUBLIC = "public"
# Public pages: 200, a redirect, the locked-out page (429) or a failing health check (503).
PUBLIC_STATUSES = {200, 302, 429, 503}
# What an anonymous visitor gets where it is not "sign in first".
# The schema and the FHIR CapabilityStatement hold no patient data; the banner poll of a signed-out
# page swaps nothing (204).
ANONYMOUS = {"api-schema": 200, "api-docs": "sign-in", "alerts:status": 204, "api-fhir-metadata": 200}
MISSING_ID = 987654321


def only(*roles: str) -> dict[str, str | int]:
    return {r: (OK if r in roles else DENY) for r in ROLES}


CLINICAL = only("nurse", "physician")
PHYSICIAN = only("physician")
MANAGE = only("coordinator", "admin")

# (url name, method) -> expected per role.  Kwargs are filled from the ``world`` fixture.
TABLE: dict[tuple[str, str], dict | str] = {
    ("health", "GET"): PUBLIC,
    ("health-escalations", "GET"): PUBLIC,
    ("accounts:login", "GET"): PUBLIC,
    ("accounts:locked_out", "GET"): PUBLIC,
    # Tablet
    ("monitoring:my_patients", "GET"): ALL,
    ("monitoring:patient_detail", "GET"): ALL,
    ("monitoring:grade_panel", "GET"): ALL,
    ("monitoring:record", "POST"): CLINICAL,
    ("monitoring:amend", "GET"): CLINICAL,
    ("monitoring:amend", "POST"): CLINICAL,
    ("monitoring:entered_in_error", "POST"): CLINICAL,
    ("monitoring:record_missed_check", "POST"): CLINICAL,
    ("monitoring:attribute", "GET"): PHYSICIAN,
    ("monitoring:attribute", "POST"): PHYSICIAN,
    # Courses (coordinators, admins)
    ("monitoring:courses", "GET"): MANAGE,
    ("monitoring:patient_register", "GET"): MANAGE,
    ("monitoring:patient_register", "POST"): MANAGE,
    ("monitoring:infusion_start", "GET"): MANAGE,
    ("monitoring:infusion_start", "POST"): MANAGE,
    ("monitoring:infusion_close", "GET"): MANAGE,
    ("monitoring:infusion_close", "POST"): MANAGE,
    # Dashboards
    ("dashboards:census", "GET"): ALL,
    ("dashboards:census_export", "GET"): MANAGE,
    ("dashboards:timeline", "GET"): ALL,
    ("dashboards:analytics", "GET"): only("physician", "coordinator", "admin"),
    ("dashboards:handover", "GET"): ALL,
    ("dashboards:handover_team", "GET"): ALL,
    # Alerts
    ("alerts:inbox", "GET"): ALL,
    ("alerts:inbox_items", "GET"): ALL,
    ("alerts:detail", "GET"): ALL,
    ("alerts:detail_full", "GET"): ALL,
    ("alerts:acknowledge", "POST"): PHYSICIAN,
    ("alerts:note", "POST"): PHYSICIAN,  # notes record what the acknowledging physician did
    ("alerts:resolve", "POST"): PHYSICIAN,
    ("alerts:record_missed", "POST"): CLINICAL,
    ("alerts:oncall", "GET"): ALL,
    ("alerts:oncall_override", "POST"): MANAGE,
    ("alerts:oncall_swap", "POST"): MANAGE,
    ("alerts:operations", "GET"): MANAGE,
    ("alerts:status", "GET"): ALL,  # the "alerting is delayed" banner (empty for an admin)
    ("alerts:policies", "GET"): ALL,
    ("alerts:policy_edit", "GET"): MANAGE,
    ("alerts:policy_edit", "POST"): MANAGE,
    # Operations alarms are looked up among the teams the user manages: others get 404, not 403.
    ("alerts:clear_alarm", "POST"): {**MANAGE, "nurse": 404, "physician": 404},
    # Follow-up
    ("followup:patient", "GET"): ALL,
    ("followup:visit", "GET"): CLINICAL,
    ("followup:visit", "POST"): CLINICAL,
    ("followup:planned_course", "GET"): ALL,
    ("followup:planned_course", "POST"): MANAGE,
    ("followup:course_start", "GET"): MANAGE,
    # Only a physician marks LICATS (tests/followup/test_licats.py); the world's observation is vitals,
    # not a SLEDAI-2K visit, so the physician who may mark one gets 404 here.
    ("followup:licats", "GET"): {**PHYSICIAN, "physician": 404},
    ("followup:licats", "POST"): {**PHYSICIAN, "physician": 404},
    ("followup:course_start", "POST"): MANAGE,
    ("followup:home", "GET"): ALL,  # a redirect to the follow-up list
    ("followup:tasks", "GET"): ALL,
    ("followup:task_done", "POST"): only("physician", "coordinator", "admin"),
    ("followup:outcomes", "GET"): only("physician", "coordinator", "admin"),
    # Audit
    ("audit:access_log", "GET"): only("admin"),
    ("audit:patient", "GET"): only("admin"),
    ("audit:observation", "GET"): only("admin"),
    # Sign-in steps (a signed-in user who needs no code is sent on)
    ("accounts:two_factor", "GET"): ALL,
    ("accounts:logout", "POST"): ALL,
    # Team accounts (admins, their own teams)
    ("accounts:team_accounts", "GET"): only("admin"),
    ("accounts:account_unlock", "POST"): only("admin"),
    ("accounts:two_factor_reset", "POST"): only("admin"),
    ("accounts:token_issue", "POST"): only("admin"),
    ("accounts:token_revoke", "POST"): only("admin"),
    # API
    ("api-schema", "GET"): ALL,
    ("api-docs", "GET"): ALL,
    ("api-patient-list", "GET"): ALL,
    ("api-patient-list", "POST"): MANAGE,
    ("api-patient-detail", "GET"): ALL,
    ("api-patient-detail", "PATCH"): MANAGE,
    ("api-infusion-list", "GET"): ALL,
    ("api-infusion-list", "POST"): MANAGE,
    ("api-infusion-detail", "GET"): ALL,
    ("api-infusion-close", "POST"): MANAGE,
    ("api-infusion-grades", "GET"): ALL,
    ("api-infusion-latest-grade", "GET"): ALL,
    ("api-observation-list", "GET"): ALL,
    ("api-observation-list", "POST"): CLINICAL,
    ("api-observation-detail", "GET"): ALL,
    ("api-observation-amend", "POST"): CLINICAL,
    ("api-observation-entered-in-error", "POST"): CLINICAL,
    ("api-grade-list", "GET"): ALL,
    ("api-grade-detail", "GET"): ALL,
    ("api-alert-list", "GET"): ALL,
    ("api-alert-detail", "GET"): ALL,
    ("api-alert-acknowledge", "POST"): PHYSICIAN,
    ("api-alert-resolve", "POST"): PHYSICIAN,
    ("api-alert-note", "POST"): PHYSICIAN,
    ("api-followup-result-list", "GET"): ALL,
    ("api-followup-result-detail", "GET"): ALL,
    # FHIR interface (docs/interop.md): import needs fhir:write (observation.record)
    ("api-fhir-import", "POST"): CLINICAL,
    ("api-fhir-metadata", "GET"): ALL,  # public: the CapabilityStatement holds no patient data
    ("api-fhir-everything", "GET"): ALL,  # fhir:read (patient.view), access-logged
    ("api-fhir-export", "GET"): MANAGE,  # the whole cohort: export.csv for people
    # Registry reports (coordinator screen, export.csv)
    ("interop:registry", "GET"): MANAGE,
    ("interop:registry_report", "GET"): MANAGE,
    ("interop:registry_mark", "POST"): MANAGE,
    ("interop:registry_csv", "GET"): MANAGE,
}

# URL kwarg -> which object of the world it names (team-bound, so the other team's is a 404).
KWARG_OBJECT = {
    "patient_id": "patient",
    "observation_id": "observation",
    "alert_id": "alert",
    "task_id": "task",
    "schedule_id": "schedule",
    "alarm_id": "alarm",
    "team_id": "team",
    "infusion_id": "infusion",
    "finding_id": "finding",
    "user_id": "member",
    "token_id": "token",
    "form_key": None,
    "registry_name": None,
    "check_type": None,
    "pk": None,
}
# For the API's ``pk``: which object the route names.
API_PK_OBJECT = {
    "patient": "patient",
    "infusion": "infusion",
    "observation": "observation",
    "grade": "evaluation",
    "alert": "alert",
    "followup": "followup_evaluation",
}


def walk(resolver: URLResolver, namespace: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            if entry.namespace == "admin":
                continue  # the Django admin: tests/security/test_admin.py
            found += walk(entry, ns)
        elif entry.name:
            found.append((f"{namespace}{entry.name}", entry))
    return found


def url_names() -> set[str]:
    return {name for name, _ in walk(get_resolver())}


def patterns() -> dict[str, URLPattern]:
    """Name -> its first pattern (the API's ``.json`` format-suffix variants come second)."""
    found: dict[str, URLPattern] = {}
    for name, pattern in walk(get_resolver()):
        found.setdefault(name, pattern)
    return found


def test_every_url_is_in_the_table():
    covered = {name for name, _ in TABLE}
    missing = sorted(url_names() - covered)
    assert not missing, f"add these URLs to TABLE with the status each role should get: {missing}"
    stale = sorted(covered - url_names())
    assert not stale, f"these URLs no longer exist: {stale}"


@pytest.fixture
def world(team, other_team, product, nurse):
    """Records of our team and of another team, by the names URL kwargs refer to."""

    def build(care_team, recorder):
        patient = factories.make_patient(care_team)
        infusion = factories.make_infusion(patient, product)
        observation, evaluation = record_vitals(infusion, recorder, temp_c=39.4, hr=120)
        alert_process_evaluation(evaluation_id=evaluation.pk)
        alert = Alert.objects.filter(patient=patient).first()
        assert alert is not None, "a fever of 39.4 °C opens a CRS alert"
        task = CheckTask.objects.create(
            infusion=infusion,
            care_team=care_team,
            check_type="vitals",
            due_at=timezone.now() - timedelta(hours=1),
        )
        schedule, _ = OnCallSchedule.objects.get_or_create(
            team=care_team, defaults={"start_date": date.today()}
        )
        alarm = OperationsAlarm.objects.create(
            kind=AlarmKind.ONCALL_GAP, team=care_team, key=f"gap-{care_team.pk}", message="Nobody on call"
        )
        followup_evaluation = FollowupEvaluation.objects.create(
            infusion=infusion,
            rule_set="followup",
            visit_template_version="g1-2025.1",
            indication_group="oncology",
        )
        finding = Finding.objects.create(
            infusion=infusion,
            care_team=care_team,
            key="visit_overdue@1440:month_2",
            kind="visit_overdue",
            urgency="routine",
            recipient="coordinator",
            text="Month 2 visit overdue",
            t_hours=1440,
            task_status="open",
        )
        PlannedCourse.objects.create(patient=patient, care_team=care_team)  # a next course being planned
        token, _key = issue_api_token(name="gateway", user=recorder, team=care_team, scopes=["patients:read"])
        return {
            "team": care_team,
            "member": recorder,
            "token": token,
            "followup_evaluation": followup_evaluation,
            "finding": finding,
            "patient": patient,
            "infusion": infusion,
            "observation": observation,
            "evaluation": evaluation,
            "alert": alert,
            "task": task,
            "schedule": schedule,
            "alarm": alarm,
        }

    other_nurse = factories.make_user("nurse", other_team, username="othernurse")
    return {"own": build(team, nurse), "other": build(other_team, other_nurse)}


def url_for(name: str, objects: dict, *, missing: bool = False) -> tuple[str, bool]:
    """The URL with kwargs from ``objects`` (or ids that exist nowhere); and whether it names a
    team-bound record."""
    pattern = patterns()[name]
    kwargs, bound = {}, False
    for kwarg in pattern.pattern.regex.groupindex:
        if kwarg in ("form_key", "check_type"):
            kwargs[kwarg] = "vitals"
        elif kwarg == "registry_name":
            kwargs[kwarg] = "cibmtr"
        elif kwarg == "pk":
            resource = name.removeprefix("api-").split("-")[0]
            kwargs[kwarg] = MISSING_ID if missing else objects[API_PK_OBJECT[resource]].pk
            bound = True
        else:
            kwargs[kwarg] = MISSING_ID if missing else objects[KWARG_OBJECT[kwarg]].pk
            bound = True
    return reverse(name, kwargs=kwargs), bound


def request(client: Client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    if method == "PATCH":
        return client.patch(url, "{}", content_type="application/json")
    return client.post(url, {})


CASES = [(name, method, role) for (name, method), expected in TABLE.items() for role in ROLES]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method", "role"), CASES, ids=[f"{n}-{m}-{r}" for n, m, r in CASES])
def test_role_gets_the_documented_answer(name, method, role, world, request_fixture_users):
    expected = TABLE[(name, method)]
    url, _ = url_for(name, world["own"])
    response = request(verified_client(request_fixture_users[role]), method, url)
    if expected == PUBLIC:
        assert response.status_code in PUBLIC_STATUSES
        return
    want = expected[role]
    if want == OK:
        assert response.status_code not in (401, 403, 404, 405) and response.status_code < 500, (
            f"{role} {method} {url}: {response.status_code} {response.content[:300]!r}"
        )
    else:
        assert response.status_code == want, f"{role} {method} {url}: {response.status_code}"
    if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
        html = response.content.decode()
        assert "<script>" not in html and " onclick=" not in html.lower()  # CSP: nothing inline


BOUND = sorted(
    {
        (n, m)
        for (n, m) in TABLE
        if any(
            k in KWARG_OBJECT and k not in ("form_key", "check_type", "registry_name")
            for k in patterns()[n].pattern.regex.groupindex
        )
    }
)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method"), BOUND, ids=[f"{n}-{m}" for n, m in BOUND])
@pytest.mark.parametrize("role", ROLES)
def test_another_teams_record_is_404_for_every_role(name, method, role, world, request_fixture_users):
    """Another team's record answers exactly like a record that does not exist (404 for a role that
    may use the URL; a role that may not use it at all gets its 403 before any lookup), so
    status codes never reveal that a patient exists elsewhere."""
    url, bound = url_for(name, world["other"])
    if not bound:
        pytest.skip("names no record")
    client = verified_client(request_fixture_users[role])
    response = request(client, method, url)
    nowhere = request(client, method, url_for(name, world["other"], missing=True)[0])
    assert response.status_code == nowhere.status_code, f"{role} {method} {url}: {response.status_code}"
    if TABLE[(name, method)][role] == OK:
        assert response.status_code == 404, f"{role} {method} {url}: {response.status_code}"
    else:
        assert response.status_code in (403, 404)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method"), sorted(TABLE), ids=[f"{n}-{m}" for n, m in sorted(TABLE)])
def test_anonymous_is_sent_to_sign_in(name, method, world):
    url, _ = url_for(name, world["own"])
    response = request(Client(), method, url)
    if TABLE[(name, method)] == PUBLIC:
        assert response.status_code in PUBLIC_STATUSES
    elif isinstance(ANONYMOUS.get(name), int):
        assert response.status_code == ANONYMOUS[name]
    elif name.startswith("api-") and name not in ANONYMOUS:
        assert response.status_code == 401
    elif name == "accounts:logout":
        assert response.status_code == 302
    else:
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


@pytest.fixture
def request_fixture_users(nurse, physician, coordinator, site_admin):
    return {"nurse": nurse, "physician": physician, "coordinator": coordinator, "admin": site_admin}
