"""Coordinator: the registry screen lists the due reports, a report links each value to the
observation behind it, and marking it done shows on the screen; axe finds no serious violation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from monitoring import services
from tests import factories

from .helpers import csp_errors, login, serious_axe_violations, totp_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _patient_navigation(page):
    """The first page of a live server can take longer than 15 s on a loaded CI machine."""
    page.set_default_navigation_timeout(45_000)


@pytest.fixture
def finished_day_100(team, product, nurse):
    patient = factories.make_patient(team, family_name="Rowan")
    infusion = factories.make_infusion(patient, product, hours_ago=120 * 24)
    for day, payload in (
        (2.0, {"temp_c": 38.7, "hr": 110}),
        (3.0, {"sbp": 86, "dbp": 52}),
        (6.0, {"temp_c": 36.8}),
    ):
        services.observation_record(
            infusion=infusion,
            kind="vitals",
            payload=payload,
            observed_at=infusion.infused_at + timedelta(days=day),
            recorded_by=nurse,
        )
    return infusion


def test_coordinator_checks_and_marks_a_registry_report(page, coordinator, finished_day_100):
    login(page, coordinator, totp_device(coordinator), next_path="/registry/")
    page.goto("/registry/")
    table = page.locator("table.registry-table")
    expect(table.locator("tbody tr")).to_have_count(2)  # day 100 of CIBMTR and of EBMT
    assert "Rowan" in table.inner_text() and "UTC" in table.inner_text()
    assert serious_axe_violations(page) == []

    table.locator("tbody tr", has_text="EBMT").get_by_role("link", name="Open report").click()
    page.wait_for_url("**/registry/infusions/**")
    report = page.locator("table.registry-report")
    expect(report.locator("tr", has_text="CRS maximum grade (ASTCT 2019)")).to_contain_text("2")
    report.locator("tr", has_text="CRS date of onset").get_by_role("link").first.click()
    # the evidence in words ("T 38.7 °C"), never the payload's keys ("temp_c 38.7")
    expect(page.locator(".evidence li:target")).to_contain_text("T 38.7 °C · HR 110/min")
    assert "late neurological events" in page.locator(".not-included").inner_text()
    assert serious_axe_violations(page) == []

    page.goto("/registry/")
    row = page.locator("table.registry-table tbody tr", has_text="EBMT")
    row.get_by_label("New state").select_option("done")
    row.get_by_role("button", name="Save").click()
    expect(page.locator("table.registry-table tbody tr", has_text="EBMT")).to_contain_text("Done (submitted)")
    assert csp_errors(page) == []
