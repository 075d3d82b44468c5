"""Cohort analytics: permissions, incidence by product and indication, timing, ICAHT, acknowledgement."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboards.analytics import Summary, cohort_analytics
from monitoring.models import Indication
from tests import factories

from .helpers import alert, evaluation, obs

pytestmark = pytest.mark.django_db
URL = "/analytics/"


@pytest.fixture
def cohort_data(team, other_team, product, nurse, physician):
    tisa = factories.make_product("Tisagenlecleucel")
    now = timezone.now()
    # 1: axi-cel, CRS 1 on day 1 → 2 at 30 h → tocilizumab 2 h later → resolved day 4; ICANS 3.
    a = factories.make_infusion(factories.make_patient(team), product, hours_ago=24 * 20)
    evaluation(a, hours=10, crs=0, icans=0)
    evaluation(a, hours=24, crs=1, icans=0)
    evaluation(a, hours=30, crs=2, icans=0)
    obs(a, "medication", {"drug": "tocilizumab", "dose_mg": 496}, hours=32, user=physician)
    evaluation(a, hours=72, crs=1, icans=3, icaht_early=2)
    evaluation(a, hours=96, crs=0, icans=0, crs_max=2, icans_max=3, icaht_early=2)
    alert(
        a,
        grade=2,
        opened_at=a.infused_at + timedelta(hours=30),
        acknowledged_at=a.infused_at + timedelta(hours=30, minutes=12),
        acknowledged_by=physician,
    )
    # 2: tisa-cel, lupus: CRS 1 only.
    b = factories.make_infusion(
        factories.make_patient(team, indication=Indication.SLE), tisa, hours_ago=24 * 10
    )
    evaluation(b, hours=48, crs=1, icans=0, icaht_early=0)
    evaluation(b, hours=72, crs=0, icans=0, crs_max=1)
    alert(b, grade=1, opened_at=now - timedelta(days=8))
    # 3: axi-cel, no CRS, not graded at all.
    factories.make_infusion(factories.make_patient(team), product, hours_ago=24 * 2)
    # 4: long ago (outside the default one-year range).
    old = factories.make_infusion(factories.make_patient(team), product, infused_at=now - timedelta(days=800))
    evaluation(old, hours=24, crs=4, icans=4)
    # 5: another team.
    f = factories.make_infusion(factories.make_patient(other_team), product, hours_ago=24 * 5)
    evaluation(f, hours=24, crs=3, icans=0)
    return {"a": a, "b": b, "tisa": tisa}


def test_nurse_may_not_see_analytics(client, nurse):
    client.force_login(nurse)
    assert client.get(URL).status_code == 403


def test_incidence_by_product_and_indication(coordinator, cohort_data):
    today = timezone.now().date()
    c = cohort_analytics(coordinator, start=today - timedelta(days=365), end=today)
    assert c.overall.n == 3 and c.overall.graded == 2
    by_product = {g.label: g for g in c.by_product}
    axi = by_product["Axicabtagene ciloleucel"]
    assert (axi.n, axi.graded, axi.crs_any, axi.icans_any, axi.icans_severe) == (2, 1, 1, 1, 1)
    assert axi.crs_distribution["2"] == 1 and axi.icans_distribution["3"] == 1
    by_cat = {g.label: g for g in c.by_category}
    assert by_cat["Autoimmune"].crs_distribution["1"] == 1
    assert by_cat["Oncology"].n == 2


def test_onset_duration_and_time_to_tocilizumab(coordinator, cohort_data):
    today = timezone.now().date()
    c = cohort_analytics(coordinator, start=today - timedelta(days=365), end=today)
    axi = next(g for g in c.by_product if g.label.startswith("Axi"))
    assert axi.crs_onset_day.median == pytest.approx(1.0)
    assert axi.crs_duration_days.median == pytest.approx(3.0)  # 24 h → 96 h
    assert axi.crs2_to_toci_h.median == pytest.approx(2.0)
    assert axi.icans_onset_day.median == pytest.approx(3.0)
    assert axi.icaht_distribution["2"] == 1


def test_time_to_acknowledge(coordinator, cohort_data):
    today = timezone.now().date()
    c = cohort_analytics(coordinator, start=today - timedelta(days=365), end=today)
    overall = c.ack[0]
    assert overall.label == "All alerts" and overall.n == 2 and overall.acknowledged == 1
    assert overall.unacknowledged_open == 1
    assert overall.minutes.median == pytest.approx(12.0)


def test_date_range_filter(client, coordinator, cohort_data):
    client.force_login(coordinator)
    start = (timezone.now() - timedelta(days=900)).date().isoformat()
    end = (timezone.now() - timedelta(days=700)).date().isoformat()
    html = client.get(URL, {"start": start, "end": end}).content.decode()
    assert "1 infusion " in html
    c = cohort_analytics(coordinator, start=date.fromisoformat(start), end=date.fromisoformat(end))
    assert c.overall.crs_distribution["4"] == 1


def test_small_numbers_caution_and_page(client, coordinator, cohort_data):
    client.force_login(coordinator)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="small-n-caution"' in html and "fewer than 10" in html
    assert "chart-crs-product" in html and "plotly/plotly.min.js" in html
    assert "Axicabtagene ciloleucel" in html and "Autoimmune" in html


def test_no_caution_with_ten_or_more(coordinator, team, product):
    for _ in range(10):
        evaluation(factories.make_infusion(factories.make_patient(team), product, hours_ago=48), hours=1)
    today = timezone.now().date()
    c = cohort_analytics(coordinator, start=today - timedelta(days=30), end=today)
    assert not c.small and c.overall.n == 10


def test_bad_dates_fall_back(client, coordinator):
    client.force_login(coordinator)
    assert client.get(URL, {"start": "yesterday", "end": "2020-13-40"}).status_code == 200
    html = client.get(URL, {"start": "2025-05-01", "end": "2025-01-01"}).content.decode()
    assert "start date is after the end date" in html


def test_summary_quartiles():
    s = Summary.of([1, 2, 3, 4, 5])
    assert (s.n, s.median, s.q1, s.q3) == (5, 3, 2, 4)
    assert Summary.of([]).text("h") == "no data"


def test_analytics_url_name():
    assert reverse("dashboards:analytics") == URL
