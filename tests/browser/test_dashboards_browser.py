"""Coordinator: log in with TOTP, filter the census, open a timeline whose Plotly charts render under
the strict CSP; analytics renders; axe finds no serious/critical violation; targets ≥ 44 px."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from monitoring.models import Indication
from tests import factories
from tests.dashboards.helpers import alert, evaluation, obs

from .helpers import csp_errors, login, serious_axe_violations, small_targets, totp_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ward(team, product, nurse, physician):
    tisa = factories.make_product("Tisagenlecleucel")
    a = factories.make_infusion(factories.make_patient(team, family_name="Alder"), product, hours_ago=40)
    for h, temp in ((2, 37.1), (8, 38.4), (14, 39.2), (20, 38.9), (26, 37.8)):
        v = obs(
            a,
            "vitals",
            {"temp_c": temp, "hr": 90 + h, "sbp": 118 - h, "dbp": 70, "spo2": 96, "o2_device": "room_air"},
            hours=h,
            user=nurse,
        )
        evaluation(a, hours=h, crs=1 if temp >= 38 else 0, icans=0, trigger=v)
    obs(a, "medication", {"drug": "tocilizumab", "dose_mg": 496}, hours=15, user=physician)
    obs(
        a,
        "lab",
        {"crp_mg_L": 88, "ferritin_ng_mL": 1500, "anc_per_uL": 350, "platelets_10e9_L": 60, "hgb_g_dL": 9.1},
        hours=12,
        user=nurse,
    )
    alert(a, grade=1, opened_at=a.infused_at + timedelta(hours=8, minutes=1))
    b = factories.make_infusion(
        factories.make_patient(team, family_name="Birch", indication=Indication.SLE), tisa, hours_ago=24 * 6
    )
    evaluation(b, hours=30, crs=0, icans=0)
    return {"a": a, "b": b}


def test_coordinator_filters_census_and_opens_timeline(page, coordinator, ward):
    login(page, coordinator, totp_device(coordinator), next_path="/census/")
    page.goto("/census/")
    table = page.locator("#census-table")
    assert table.locator("tbody tr").count() == 2
    assert "CRS grade 0" in table.inner_text() or "CRS grade 1" in table.inner_text()

    page.select_option("#f-category", "autoimmune")  # census.js submits on change
    page.wait_for_url(re.compile(r"category=autoimmune"))
    assert page.locator("#census-table tbody tr").count() == 1
    assert "Birch" in page.locator("#census-table").inner_text()

    page.select_option("#f-category", "")
    page.wait_for_url(re.compile(r"category=&|category=$"))
    page.locator("#census-table a.patient-link", has_text="Alder").click()
    page.wait_for_url(re.compile(r"/patients/\d+/timeline/"))
    page.wait_for_selector("html[data-charts-ready='1']")
    assert (
        page.locator(
            "#chart-temperature .js-plotly-plot .main-svg, #chart-temperature.js-plotly-plot .main-svg"
        ).count()
        >= 1
    )
    rendered = page.locator(".chart.js-plotly-plot").count()
    assert rendered == page.locator(".chart").count() and rendered >= 8
    # Log scale toggle on the inflammation panel.
    toggle = page.locator("[data-log-toggle='chart-inflammation']")
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "true"
    assert page.evaluate("document.getElementById('chart-inflammation').layout.yaxis.type") == "log"
    assert csp_errors(page) == []
    assert serious_axe_violations(page) == []
    _screenshot(page, "timeline")


def _screenshot(page, name: str) -> None:
    """With DASH_SCREENSHOTS=<dir>, keep full-page screenshots for a human look."""
    folder = os.environ.get("DASH_SCREENSHOTS")
    if folder:
        page.screenshot(path=f"{folder}/{name}-{page.viewport_name}.png", full_page=True)


def test_census_is_accessible_and_touch_friendly(page, coordinator, ward):
    login(page, coordinator, totp_device(coordinator), next_path="/census/")
    page.goto("/census/")
    _screenshot(page, "census")
    assert serious_axe_violations(page) == []
    assert (
        small_targets(
            page,
            "#census-filters select, #census-filters input, #census-filters button, "
            "#census-filters a, #census-table a",
        )
        == []
    )
    assert csp_errors(page) == []


def test_census_refreshes_in_background(page, coordinator, ward, settings, nurse):
    settings.CENSUS_POLL_SECONDS = 2
    login(page, coordinator, totp_device(coordinator), next_path="/census/")
    page.goto("/census/")
    assert page.locator("#census-table tbody tr").count() == 2
    factories.make_infusion(
        factories.make_patient(ward["a"].care_team, family_name="Newcomer"), ward["a"].product
    )
    with page.expect_request(lambda r: "partial=rows" in r.url, timeout=15_000) as info:
        pass
    request = info.value
    assert request.headers.get("x-background-poll") == "1"
    assert request.headers.get("hx-request") == "true"
    expect(page.locator("#census-table tbody tr")).to_have_count(3)
    assert "Newcomer" in page.locator("#census-table").inner_text()


def test_analytics_renders_with_small_n_caution(page, coordinator, ward):
    login(page, coordinator, totp_device(coordinator), next_path="/analytics/")
    page.goto("/analytics/")
    assert page.locator("#small-n-caution").is_visible()
    page.wait_for_selector("html[data-charts-ready='1']")
    assert page.locator("#chart-crs-product .main-svg").count() >= 1
    _screenshot(page, "analytics")
    assert csp_errors(page) == []
    assert serious_axe_violations(page) == []
