"""The alert on a phone (issue 13 items 4 and 7): one navigation bar, the page as wide as the screen,
Acknowledge on the first screen at 390×844; at every ward size the story is told with zoned times."""

from __future__ import annotations

import re

import pytest

from alerts.models import AlertStatus

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
    keep_screenshot(page, f"alert-{page.viewport_name}")
    page.locator("button.al-ack-button").click()
    page.wait_for_load_state("domcontentloaded")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED
    assert csp_errors(page) == []
