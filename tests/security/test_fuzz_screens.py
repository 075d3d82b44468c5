"""Fuzzing the HTML screens and the admin login, not only the API (tests/api/test_fuzz.py): hostile
query strings and form bodies, signed out and signed in, never give a 500; the API's pagination
refuses what it cannot use with a 400 naming the parameter."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from .conftest import verified_client

pytestmark = pytest.mark.django_db

NASTY = st.sampled_from(
    [
        "",
        "\x00",
        "-1",
        "0",
        "99999999999999999999",
        "9" * 400,
        "1e309",
        "NaN",
        "-inf",
        "2026-02-30",
        "2026-13-01T99:99",
        "<script>alert(1)</script>",
        '"><a href="javascript:alert(1)">x</a>',
        "'; DROP TABLE monitoring_observation; --",
        "../../etc/passwd",
        "https://evil.example/",
        "a" * 100_000,
        "%00%ff",
        "ß" * 300,
    ]
)
TEXT = st.one_of(NASTY, st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
#: The query parameters the screens read (and a few they do not).
PARAMS = ["partial", "infusion", "course", "start", "end", "page", "next", "limit", "offset", "q", "o", "p"]
QUERY = st.dictionaries(st.sampled_from(PARAMS), TEXT, max_size=4)
VITALS_FIELDS = ["temp_c", "hr", "sbp", "dbp", "rr", "spo2", "o2_device", "o2_flow_l_min", "fio2"]
FORM_FIELDS = [*VITALS_FIELDS, "vasopressors", "observed_at", "client_uuid", "notes", "reason", "drug"]
FUZZ = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def screens(patient) -> list[str]:
    pid = {"patient_id": patient.pk}
    return [
        reverse("monitoring:my_patients"),
        reverse("monitoring:patient_detail", kwargs=pid),
        reverse("monitoring:grade_panel", kwargs=pid),
        reverse("dashboards:census"),
        reverse("dashboards:timeline", kwargs=pid),
        reverse("dashboards:analytics"),
        reverse("alerts:inbox"),
        reverse("alerts:inbox_items"),
        reverse("alerts:oncall"),
        reverse("alerts:policies"),
        reverse("alerts:operations"),
        reverse("alerts:status"),
        reverse("followup:tasks"),
        reverse("followup:patient", kwargs=pid),
        reverse("followup:outcomes"),
        reverse("audit:access_log"),
        reverse("accounts:login"),
        reverse("admin:login"),
        reverse("admin:index"),
        "/admin/accounts/user/",
        "/admin/monitoring/patient/",
    ]


def assert_not_a_server_error(client: Client, method: str, url: str, data) -> None:
    response = getattr(client, method)(url, data)
    assert response.status_code < 500, f"{method.upper()} {url} {data!r:.200}: {response.status_code}"


def test_admin_login_signed_out_is_the_form_not_a_500():
    client = Client()
    page = client.get(reverse("admin:login"))
    assert page.status_code == 200 and b'name="username"' in page.content
    response = client.post(reverse("admin:login"), {"username": "nobody", "password": "wrong"})
    assert response.status_code == 200 and b"errornote" in response.content


@pytest.mark.parametrize("url_name", ["accounts:login", "admin:login"])
def test_a_100000_character_username_is_refused_by_the_form(url_name, nurse):
    response = Client().post(reverse(url_name), {"username": "a" * 100_000, "password": "x"})
    assert response.status_code == 200
    assert b"Username: at most 150 characters (this one has 100000)." in response.content
    assert "_auth_user_id" not in Client().session


@FUZZ
@given(query=QUERY)
@example(query={"page": "99999999999999999999", "infusion": "9" * 400, "start": "2026-02-30"})
def test_screens_take_any_query_string(query, nurse, coordinator, site_admin, patient, infusion):
    clients = [Client(), verified_client(nurse), verified_client(coordinator), verified_client(site_admin)]
    for url in screens(patient):
        for client in clients:
            assert_not_a_server_error(client, "get", url, query)


@FUZZ
@given(username=TEXT, password=TEXT, next_url=TEXT)
def test_sign_in_forms_take_any_input(username, password, next_url, nurse):
    for url in (reverse("accounts:login"), reverse("admin:login")):
        assert_not_a_server_error(
            Client(), "post", url, {"username": username, "password": password, "next": next_url}
        )


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(FORM_FIELDS), TEXT, max_size=6))
def test_tablet_and_alert_forms_take_any_input(fields, nurse, physician, coordinator, patient, infusion):
    nurse_client, physician_client = verified_client(nurse), verified_client(physician)
    for form_key in ("vitals", "neuro", "labs", "medication"):
        assert_not_a_server_error(
            nurse_client, "post", reverse("monitoring:record", args=[patient.pk, form_key]), fields
        )
    assert_not_a_server_error(physician_client, "post", reverse("alerts:note", args=[1]), fields)
    assert_not_a_server_error(
        verified_client(coordinator),
        "post",
        reverse("alerts:oncall_override", args=[1]),
        {"user": fields.get("hr", ""), "starts_at": fields.get("observed_at", ""), "ends_at": "x"},
    )


@FUZZ
@given(limit=TEXT, offset=TEXT)
@example(limit="99999999999999999999", offset="0")
@example(limit="10", offset="99999999999999999999")
def test_api_pagination_is_200_or_a_400_naming_the_parameter(limit, offset, nurse, patient):
    response = verified_client(nurse).get(reverse("api-patient-list"), {"limit": limit, "offset": offset})
    if response.status_code == 200:
        assert len(response.json()["results"]) <= 500
    else:
        assert response.status_code == 400, response.status_code
        body = response.json()
        name = next(iter(body))
        assert name in ("limit", "offset")
        assert body[name][0].startswith(f"{name} must be a whole number from ")


def test_api_page_size_is_at_most_500(nurse, patient):
    client = verified_client(nurse)
    assert client.get(reverse("api-patient-list"), {"limit": 500}).status_code == 200
    response = client.get(reverse("api-patient-list"), {"limit": 501})
    assert response.json() == {"limit": ["limit must be a whole number from 1 to 500, not '501'."]}


@FUZZ
@given(
    header=st.one_of(NASTY, st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80))
)
@example(header="Bearer ctk_" + "A" * 100_000)
@example(header="Token 0123456789abcdef0123456789abcdef01234567")
@example(header="Bearer a b")
def test_any_authorization_header_is_401_or_anonymous_never_a_500(header, nurse, patient):
    response = Client().get(reverse("api-patient-list"), headers={"authorization": header, "accept": "*/*"})
    assert response.status_code in (401, 403), response.status_code
