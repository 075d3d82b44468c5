"""Census: scoping, grades as text + colour, filters, sort, htmx refresh, CSV export, query count."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from dashboards.census import CensusFilters, census_rows
from monitoring.models import Indication, InfusionStatus
from tests import factories

from .helpers import alert, evaluation, obs

pytestmark = pytest.mark.django_db

URL = "/census/"


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def ward(team, other_team, product, nurse):
    """Three active infusions in the team (one autoimmune), one closed, one in another team."""
    axi = product
    tisa = factories.make_product("Tisagenlecleucel")
    a = factories.make_infusion(factories.make_patient(team, family_name="Alder"), axi, hours_ago=30)
    b = factories.make_infusion(
        factories.make_patient(team, family_name="Birch", indication=Indication.SLE), tisa, hours_ago=24 * 9
    )
    c = factories.make_infusion(factories.make_patient(team, family_name="Cedar"), tisa, hours_ago=24 * 3)
    closed = factories.make_infusion(
        factories.make_patient(team, family_name="Closed"), axi, hours_ago=24 * 40
    )
    closed.status = InfusionStatus.CLOSED
    closed.closed_at = timezone.now()
    closed.save()
    foreign = factories.make_infusion(factories.make_patient(other_team, family_name="Foreign"), axi)
    v = obs(a, "vitals", {"temp_c": 39.1, "hr": 120}, hours=29, user=nurse)
    evaluation(a, hours=29, crs=3, icans=1, crs_max=3, trigger=v)
    evaluation(b, hours=24 * 8, crs=0, icans=None, crs_max=2, icans_max=2)
    evaluation(foreign, hours=1, crs=4, icans=4)
    return {"a": a, "b": b, "c": c, "closed": closed, "foreign": foreign, "axi": axi, "tisa": tisa}


def names(rows):
    return [r.patient_name.split(",")[0] for r in rows]


def test_census_shows_only_active_infusions_of_my_teams(coordinator, ward):
    rows = census_rows(coordinator, CensusFilters(sort="name"))
    assert names(rows) == ["Alder", "Birch", "Cedar"]


def test_grade_is_text_and_colour(client, coordinator, ward):
    html = login(client, coordinator).get(URL).content.decode()
    assert 'class="grade grade-badge grade-3">CRS grade 3<' in html
    assert 'class="grade grade-badge grade-1">ICANS grade 1<' in html
    # Birch: ICANS not assessable is said in words, never shown as grade 0; its CRS maximum is kept.
    assert 'class="grade grade-badge grade-na">ICANS not assessable<' in html
    assert "max 2" in html
    # Cedar: never graded.
    assert "CRS not graded yet" in html
    assert "Foreign" not in html and "Closed" not in html


def test_day_post_infusion_and_last_vitals_age(coordinator, ward):
    rows = {r.patient_name.split(",")[0]: r for r in census_rows(coordinator)}
    assert rows["Alder"].day in (1, 2)
    assert rows["Birch"].day in (9, 10)
    assert rows["Alder"].last_vitals_at is not None and not rows["Alder"].vitals_stale
    assert rows["Alder"].vitals_age_text.startswith("1 h") or rows["Alder"].vitals_age_text.endswith("min")
    assert rows["Cedar"].last_vitals_at is None and rows["Cedar"].vitals_stale
    assert rows["Cedar"].vitals_age_text == "no vitals yet"


def test_entered_in_error_vitals_do_not_count_as_last_vitals(coordinator, nurse, ward):
    from .helpers import void

    c = ward["c"]
    bad = obs(c, "vitals", {"temp_c": 37.0}, hours=71, user=nurse)
    void(bad, user=nurse)
    row = next(r for r in census_rows(coordinator) if r.infusion_id == c.pk)
    assert row.last_vitals_at is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"grade": "3"}, ["Alder"]),
        ({"grade": "1"}, ["Alder"]),
        ({"grade": "icans1"}, ["Alder"]),
        ({"grade": "none"}, ["Birch", "Cedar"]),
        ({"category": "autoimmune"}, ["Birch"]),
        ({"category": "oncology"}, ["Alder", "Cedar"]),
        ({"day_min": "3", "day_max": "20"}, ["Birch", "Cedar"]),
        ({"day_max": "2"}, ["Alder"]),
    ],
)
def test_filters(coordinator, ward, query, expected):
    rows = census_rows(coordinator, CensusFilters.from_query({**query, "sort": "name"}))
    assert names(rows) == expected


def test_filter_by_team_and_product(coordinator, ward, other_team):
    assert names(census_rows(coordinator, CensusFilters(product=ward["tisa"].pk, sort="name"))) == [
        "Birch",
        "Cedar",
    ]
    # A team the user is not in shows nothing (scoping is not bypassed by the filter).
    assert census_rows(coordinator, CensusFilters(team=other_team.pk)) == []


def test_bad_filter_values_are_ignored(coordinator, ward):
    f = CensusFilters.from_query({"grade": "9", "day_min": "abc", "sort": "drop table", "team": "-1"})
    assert f == CensusFilters()


def test_sort_by_crs_and_by_day(coordinator, ward):
    assert names(census_rows(coordinator, CensusFilters(sort="crs")))[0] == "Alder"
    assert names(census_rows(coordinator, CensusFilters(sort="day"))) == ["Alder", "Cedar", "Birch"]
    assert names(census_rows(coordinator, CensusFilters(sort="-day"))) == ["Birch", "Cedar", "Alder"]


def test_open_alerts_with_age_and_acknowledgement(client, coordinator, physician, ward):
    now = timezone.now()
    alert(ward["a"], grade=3, opened_at=now - timedelta(minutes=42))
    alert(
        ward["b"],
        syndrome="icans",
        grade=2,
        opened_at=now - timedelta(hours=3),
        acknowledged_at=now - timedelta(hours=2),
        acknowledged_by=physician,
    )
    alert(ward["c"], grade=1, opened_at=now - timedelta(hours=5), status="resolved")
    html = login(client, coordinator).get(URL + "?sort=alerts").content.decode()
    assert "CRS grade 3 — NOT acknowledged, open 42 min" in html
    assert "ICANS grade 2 — acknowledged, open 3 h" in html
    rows = census_rows(coordinator, CensusFilters(sort="alerts"))
    assert names(rows)[:2] == ["Birch", "Alder"]  # oldest open alert first
    assert next(r for r in rows if r.infusion_id == ward["c"].pk).alerts == []  # resolved is not open


def test_overdue_checks_come_from_the_schedule(coordinator, ward):
    # Cedar was infused 3 days ago and has no vitals, neuro check or labs: all three are overdue.
    row = next(r for r in census_rows(coordinator) if r.infusion_id == ward["c"].pk)
    overdue = {c.check_type for c in row.overdue}
    assert overdue == {"vitals", "neuro", "labs"}


def test_htmx_refresh_returns_rows_only_and_polls_in_background(client, coordinator, ward):
    client = login(client, coordinator)
    page = client.get(URL).content.decode()
    assert 'hx-headers=\'{"X-Background-Poll": "1"}\'' in page
    assert 'hx-trigger="every 30s"' in page
    assert 'hx-include="#census-filters"' in page
    partial = client.get(
        URL, {"partial": "rows", "grade": "3"}, HTTP_HX_REQUEST="true", HTTP_X_BACKGROUND_POLL="1"
    )
    body = partial.content.decode()
    assert partial.status_code == 200
    assert "<html" not in body and "census-table" in body
    assert "Alder" in body and "Birch" not in body


def test_no_inline_scripts_or_event_handlers(client, coordinator, ward):
    import re

    html = login(client, coordinator).get(URL).content.decode()
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+=", html)
    assert "hx-on" not in html


def test_everyone_in_the_team_may_view_and_anonymous_is_sent_to_login(client, nurse, ward):
    assert login(client, nurse).get(URL).status_code == 200
    client.logout()
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_csv_export_for_coordinators(client, coordinator, ward):
    response = login(client, coordinator).get(reverse("dashboards:census_export"), {"sort": "name"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["patient"].split(",")[0] for r in rows] == ["Alder", "Birch", "Cedar"]
    assert rows[0]["crs_current"] == "3" and rows[0]["crs_max"] == "3"
    assert rows[1]["icans_current"] == "" and rows[1]["category"] == "autoimmune"


def test_csv_export_is_written_to_the_access_log_once_per_exported_patient(
    client, coordinator, team, other_team, product
):
    from accounts.models import Membership
    from audit.models import AccessLog

    Membership.objects.create(user=coordinator, team=other_team, role=Role.NURSE)  # no export right there
    mine = [factories.make_patient(team, family_name=n) for n in ("Mine", "Also")]
    for patient in mine:
        factories.make_infusion(patient, product)
    factories.make_infusion(factories.make_patient(other_team, family_name="NurseOnly"), product)
    response = login(client, coordinator).get(reverse("dashboards:census_export"))
    assert response.status_code == 200
    logged = AccessLog.objects.filter(view_name="dashboards:census_export")
    assert sorted(logged.values_list("patient_id", flat=True)) == sorted(p.pk for p in mine)
    assert set(logged.values_list("username", flat=True)) == {coordinator.username}


def test_csv_export_is_forbidden_without_the_capability(client, nurse, physician, ward):
    assert login(client, nurse).get(reverse("dashboards:census_export")).status_code == 403
    assert login(client, physician).get(reverse("dashboards:census_export")).status_code == 403
    html = client.get(URL).content.decode()
    assert "Export CSV" not in html


def test_csv_neutralises_spreadsheet_formulas(client, coordinator, team, product):
    factories.make_infusion(factories.make_patient(team, family_name='=HYPERLINK("x")'), product)
    body = login(client, coordinator).get(reverse("dashboards:census_export")).content.decode()
    assert "'=HYPERLINK" in body


def test_csv_export_excludes_teams_without_export_right(client, team, other_team, product):
    user = factories.make_user(Role.COORDINATOR, team)
    from accounts.models import Membership

    Membership.objects.create(user=user, team=other_team, role=Role.NURSE)
    factories.make_infusion(factories.make_patient(team, family_name="Mine"), product)
    factories.make_infusion(factories.make_patient(other_team, family_name="NurseOnly"), product)
    body = login(client, user).get(reverse("dashboards:census_export")).content.decode()
    assert "Mine" in body and "NurseOnly" not in body


def _populate(team, product, nurse, n):
    for i in range(n):
        inf = factories.make_infusion(factories.make_patient(team), product, hours_ago=24 * (i % 14) + 5)
        v = obs(inf, "vitals", {"temp_c": 38.5, "hr": 110}, hours=2, user=nurse)
        obs(inf, "lab", {"anc_per_uL": 400}, hours=3, user=nurse)
        evaluation(inf, hours=2, crs=i % 4, icans=i % 3, trigger=v, icaht_early=i % 3)
        alert(inf, grade=2)


def test_census_query_count_does_not_grow_with_patients(
    client, coordinator, team, product, nurse, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(client, coordinator)
    _populate(team, product, nurse, 5)
    with CaptureQueriesContext(connection) as five:
        assert client.get(URL).status_code == 200
    _populate(team, product, nurse, 45)
    with django_assert_max_num_queries(len(five.captured_queries)):
        response = client.get(URL)
    assert response.content.decode().count('data-infusion="') == 50


def test_census_escapes_patient_data(client, coordinator, team, product):
    factories.make_infusion(
        factories.make_patient(team, family_name="<script>x()</script>", given_name='"><b>'), product
    )
    html = login(client, coordinator).get(URL).content.decode()
    assert "<script>x()" not in html and "&lt;script&gt;x()&lt;/script&gt;" in html
    assert '"><b>' not in html
