"""The navigation bar and the census's remembered view in the browser (issue 13 items 5 and 7).

At 1024×768 the coordinator's and the admin's bar is one row: the pages of every shift in it, the
others under "More", which opens and closes by touch and by keyboard, and no destination is lost.
The census keeps the order and filters the coordinator chose through a refresh and through the
navigation's "Census" link, and its CSV export holds exactly the rows on screen."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from tests import factories
from tests.dashboards.helpers import alert, evaluation

from .conftest import _open_page
from .helpers import csp_errors, login, serious_axe_violations, small_targets, totp_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IN_THE_BAR = ["My patients", "Alerts inbox", "Census", "Follow-up"]
COORDINATOR_MORE = [
    "Handover",
    "On call",
    "Escalation policies",
    "Patients and infusions",
    "Analytics",
    "Registry reports",
    "Operations alarms",
    "API docs",
]
ADMIN_MORE = [*COORDINATOR_MORE[:-1], "Team accounts", "Audit trail", "API docs", "Admin"]


@pytest.fixture
def landscape(chromium, live_server, settings):
    settings.TWO_FACTOR_REQUIRED = True
    context, page = _open_page(chromium, live_server, "landscape-1024x768", (1024, 768))
    yield page
    context.close()


def _box(page, selector):
    box = page.locator(selector).first.bounding_box()
    assert box, selector
    return box


def _visible_links(page, selector) -> list[str]:
    return [link.inner_text().strip() for link in page.locator(selector).all() if link.is_visible()]


def _current(page) -> list[str]:
    return [(a.text_content() or "").strip() for a in page.locator('.site-nav a[aria-current="page"]').all()]


@pytest.mark.parametrize(("who", "more"), [("coordinator", COORDINATOR_MORE), ("site_admin", ADMIN_MORE)])
def test_the_bar_is_one_row_at_1024_and_more_holds_every_other_page(request, landscape, who, more):
    page = landscape
    user = request.getfixturevalue(who)
    user.display_name = "Dr. Maria Schulz-Lindqvist (demo)"  # a real name is longer than a test's
    user.save(update_fields=["display_name"])
    login(page, user, totp_device(user), next_path="/census/")
    page.goto("/census/")
    header, bar = _box(page, "header.site-header"), _box(page, ".site-nav > ul")
    brand, person = _box(page, ".brand"), _box(page, ".who")
    assert bar["height"] <= 56, bar  # one row of 44 px targets
    assert header["height"] <= 72, header  # brand, bar and who on that one row
    for part in (brand, person):
        assert abs((part["y"] + part["height"] / 2) - (bar["y"] + bar["height"] / 2)) < 12, (part, bar)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    assert _visible_links(page, ".site-nav > ul > li > a") == IN_THE_BAR
    # Who is signed in stays on the row (cut with an ellipsis if it must be) and is whole in its title.
    assert page.locator(".user-name").get_attribute("title") == user.display_name
    assert page.locator(".logout-form button").bounding_box()["height"] <= 56  # "Log out" on one line
    assert _current(page) == ["Census"]  # where she is, marked in the bar
    assert not page.locator(".nav-more-menu").evaluate("m => m.classList.contains('nav-more-current')")

    summary = page.locator(".nav-more-menu > summary")
    summary.click()  # a tap opens "More"
    assert _visible_links(page, ".nav-more-list a") == more
    assert small_targets(page, ".site-nav a, .nav-more-menu > summary") == []
    assert serious_axe_violations(page) == []
    page.mouse.click(20, 740)  # a tap elsewhere on the page closes it
    assert _visible_links(page, ".nav-more-list a") == []

    summary.focus()  # by keyboard: Enter opens, Tab walks the pages, Escape closes back on "More"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == more[0]
    page.keyboard.press("Escape")
    assert _visible_links(page, ".nav-more-list a") == []
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"

    summary.click()
    page.locator(".nav-more-list a", has_text=more[1]).click()
    page.wait_for_load_state("domcontentloaded")
    assert page.locator("h1").first.inner_text().strip() == "Who is on call now"
    assert _current(page) == [more[1]]  # On call, under the shut "More", which is marked instead
    assert page.locator(".nav-more-menu").evaluate("m => m.classList.contains('nav-more-current')")
    assert csp_errors(page) == []


@pytest.fixture
def census_ward(team, product):
    """Zeller (CRS grade 3), Mills (grade 0, an open alert), Aaron (grade 0)."""
    aaron = factories.make_infusion(factories.make_patient(team, family_name="Aaron"), product, hours_ago=20)
    mills = factories.make_infusion(factories.make_patient(team, family_name="Mills"), product, hours_ago=20)
    zeller = factories.make_infusion(
        factories.make_patient(team, family_name="Zeller"), product, hours_ago=20
    )
    evaluation(aaron, hours=19, crs=0, icans=0)
    evaluation(mills, hours=19, crs=0, icans=0)
    evaluation(zeller, hours=19, crs=3, icans=0)
    alert(mills, syndrome="overdue_check", grade=None)


def _shown(page) -> list[str]:
    return [n.split(",")[0] for n in page.locator("#census-table .patient-link").all_inner_texts()]


def test_census_keeps_its_order_and_filters_through_a_refresh_and_the_navigation(
    landscape, coordinator, census_ward
):
    page = landscape
    login(page, coordinator, totp_device(coordinator), next_path="/census/")
    page.goto("/census/")
    assert _shown(page) == ["Zeller", "Mills", "Aaron"]  # risk first
    page.select_option("#f-sort", "name")  # census.js applies it at once
    page.wait_for_url(re.compile(r"sort=name"))
    page.select_option("#f-grade", "none")
    page.wait_for_url(re.compile(r"grade=none"))
    assert _shown(page) == ["Aaron", "Mills"]

    page.reload()
    assert _shown(page) == ["Aaron", "Mills"] and page.locator("#f-sort").input_value() == "name"

    page.locator(".site-nav a", has_text="My patients").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.locator("h1").first.inner_text().strip() == "My patients"
    page.locator(".site-nav a", has_text="Census").click()  # the bar's link carries no query
    page.wait_for_url(re.compile(r"/census/\?.*grade=none"))
    assert page.locator("#f-sort").input_value() == "name"
    assert page.locator("#f-grade").input_value() == "none"
    assert _shown(page) == ["Aaron", "Mills"]

    with page.expect_download() as download:
        page.locator("#census-export").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert [r["patient"].split(",")[0] for r in rows] == _shown(page)

    page.locator("#census-filters a", has_text="Clear").click()
    page.wait_for_load_state("domcontentloaded")
    assert _shown(page) == ["Zeller", "Mills", "Aaron"]
    page.locator(".site-nav a", has_text="Census").click()
    page.wait_for_load_state("domcontentloaded")
    assert _shown(page) == ["Zeller", "Mills", "Aaron"]  # cleared stays cleared
