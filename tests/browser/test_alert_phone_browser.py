"""The alert on a phone (issue 13 items 4 and 7): one navigation bar, the page as wide as the screen,
Acknowledge on the first screen at 390×844; at every ward size the story is told with zoned times."""

from __future__ import annotations

import re

import pytest

from alerts.models import AlertStatus

from .conftest import WARD_VIEWPORTS, _open_page
from .helpers import csp_errors, login, serious_axe_violations, small_targets, totp_device
from .test_flows_browser import _grade_2_alert
from .ward import in_viewport, keep_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_alert_detail_fits_the_screen_and_acknowledge_is_on_the_first_screen(
    ward_page, physician, nurse, infusion
):
    page = ward_page
    alert = _grade_2_alert(infusion, nurse)
    path = f"/alerts/patients/{alert.patient_id}/alerts/{alert.pk}/"
    login(page, physician, totp_device(physician), next_path=path)
    page.goto(path)
    width = page.viewport_size["width"]
    assert (
        page.evaluate("document.documentElement.scrollWidth") <= width
    )  # not zoomed out, no sideways scroll
    visible_navs = page.evaluate(
        "[...document.querySelectorAll('nav')].filter(n => n.getBoundingClientRect().height > 0).length"
    )
    if width < 600:
        assert visible_navs == 1
    assert in_viewport(page, "button.al-ack-button"), page.viewport_name
    text = page.locator("main").inner_text()
    assert "Why" in text and "Withheld suggestions" in text and "Who was paged" in text
    bare = re.findall(r"\b\d\d:\d\d(?::\d\d)?\b(?! ?[A-Z]{2,5}\b)", text)
    assert bare == [], bare
    assert small_targets(page, "main button, main a, main summary, .site-nav a") == []
    assert serious_axe_violations(page) == []
    if page.viewport_name.startswith("phone"):
        keep_screenshot(page, "alert-phone-390x844")  # README and docs/escalation.md show it
    page.locator("button.al-ack-button").click()
    page.wait_for_load_state("domcontentloaded")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED
    assert csp_errors(page) == []


@pytest.fixture
def phone(chromium, live_server, settings):
    settings.TWO_FACTOR_REQUIRED = True
    context, page = _open_page(chromium, live_server, "phone-390x844", WARD_VIEWPORTS["phone-390x844"])
    page.set_default_navigation_timeout(45_000)
    yield page
    context.close()


def _nav_links(page) -> list[str]:
    """Every page the bar offers, those under "More" included (their text, shown or not)."""
    return [t.strip() for t in page.locator(".site-nav a").all_text_contents()]


def test_phone_navigation_is_one_bar_that_reaches_policies_and_alarms(phone, coordinator, nurse, infusion):
    """At 390×844 the coordinator reaches Escalation policies and Operations alarms from the one
    navigation bar (it scrolls sideways inside itself; they are under its "More"), and the first alert
    is still near the top."""
    page = phone
    _grade_2_alert(infusion, nurse)
    login(page, coordinator, totp_device(coordinator), next_path="/alerts/")
    page.goto("/alerts/")
    nav = page.locator(".site-nav > ul").bounding_box()
    assert nav and nav["height"] <= 56, nav  # one row of 44 px targets, not a second bar
    card = page.locator(".al-card").first.bounding_box()
    assert card and card["y"] < 844 / 2, (nav, card)  # the first alert starts in the top half
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for name, heading in (
        ("Escalation policies", "Escalation policies"),
        ("Operations alarms", "Operations alarms"),
    ):
        page.locator(".nav-more-menu > summary").click()  # scrolled into view inside the bar, tapped
        link = page.locator(".site-nav a", has_text=name)
        assert link.bounding_box()["y"] + link.bounding_box()["height"] <= 844  # the menu is on screen
        link.click()
        page.wait_for_load_state("domcontentloaded")
        assert page.locator("h1").first.inner_text().strip() == heading
    assert small_targets(page, ".site-nav a, .nav-more-menu > summary") == []


def test_the_navigation_offers_no_page_the_person_may_not_open(phone, nurse, infusion):
    page = phone
    login(page, nurse, next_path="/")
    links = _nav_links(page)
    assert "Escalation policies" in links and "My patients" in links
    assert not {"Operations alarms", "Analytics", "Registry reports"} & set(links), links
