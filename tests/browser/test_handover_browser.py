"""The shift handover as a charge nurse opens and prints it: the content of each patient, every
time with its zone, no menus on paper, one patient never split across pages; axe passes."""

from __future__ import annotations

import re
import zoneinfo
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from tests.dashboards.helpers import alert, evaluation, obs

from .helpers import login, serious_axe_violations, small_targets

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _patient_navigation(page):
    """The first page of a live server can take longer than 15 s on a loaded CI machine."""
    page.set_default_navigation_timeout(45_000)


def test_charge_nurse_prints_the_handover(page, nurse, physician, team, product):
    team.time_zone = "Europe/Berlin"
    team.save()
    infusion = factories.make_infusion(
        factories.make_patient(team, family_name="Alder"), product, hours_ago=30
    )
    v = obs(
        infusion,
        "vitals",
        {"temp_c": 39.2, "hr": 120, "sbp": 100, "dbp": 60, "spo2": 95},
        hours=28,
        user=nurse,
    )
    evaluation(infusion, hours=28, crs=1, icans=0, trigger=v)
    obs(infusion, "medication", {"drug": "tocilizumab", "dose_mg": 600}, hours=28.5, user=physician)
    alert(infusion, grade=1, opened_at=timezone.now() - timedelta(hours=2))

    login(page, nurse)
    handover = page.get_by_role("link", name="Handover").first
    if not handover.is_visible():  # at 1024 px and wider the bar keeps it under "More"
        page.locator(".nav-more-menu > summary").click()
    handover.click()
    sheet = page.locator("main")
    expect(sheet).to_contain_text("Shift handover:")
    patient = page.locator(".handover-patient", has_text="Alder")
    # Days count by the ward's calendar: after ward midnight a course infused 30 h ago is on day 2.
    zone = zoneinfo.ZoneInfo(team.time_zone)
    day = (timezone.now().astimezone(zone).date() - infusion.infused_at.astimezone(zone).date()).days
    expect(patient).to_contain_text(f"Day {day} after infusion")
    expect(patient).to_contain_text("CRS grade 1")
    expect(patient).to_contain_text("not acknowledged")
    expect(patient).to_contain_text("1 of 4 doses this course")
    expect(patient).to_contain_text("2 more doses possible in the next 24 h, 3 left this course")
    text = sheet.inner_text()
    clock_times = re.findall(r"\b\d{2}:\d{2}\b(?! h)(\s+\w+)?", text)
    assert clock_times and all((z or "").strip() in ("CET", "CEST") for z in clock_times), clock_times
    assert not serious_axe_violations(page)
    assert not small_targets(page, "main a, main button")

    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".handover-tools")).to_be_hidden()
    assert page.locator(".handover-patient").first.evaluate("e => getComputedStyle(e).breakInside") == "avoid"
    assert page.pdf(format="A4")[:4] == b"%PDF"  # the print layout renders (Save as PDF works)
