"""Shared by the ward-ready screen tests (issue 13): signing in where the page already is (as a nurse
does after "Sign in again"), an idle-timed-out session, and what is in the viewport."""

from __future__ import annotations

import os
import time

from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session

from accounts.middleware import LAST_ACTIVITY_KEY
from tests import factories


def sign_in_here(page, user) -> None:
    """Fill in the sign-in form on the page shown now (no TOTP: nurses)."""
    form = page.locator("form:has(input[name=password])")
    form.locator("input[name=username]").fill(user.username)
    form.locator("input[name=password]").fill(factories.PASSWORD)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")


def idle_out_every_session() -> None:
    """As if the 15-minute idle timeout had passed for every signed-in session."""
    for row in Session.objects.all():
        store = SessionStore(session_key=row.session_key)
        store[LAST_ACTIVITY_KEY] = time.time() - 3600
        store.save()


def in_viewport(page, selector: str) -> bool:
    """The whole element is on the screen (to within a pixel of sub-pixel rounding)."""
    return page.locator(selector).first.evaluate(
        """el => { const r = el.getBoundingClientRect();
                   return r.height > 0 && r.top >= -1 && r.bottom <= window.innerHeight + 1; }"""
    )


def keep_screenshot(page, name: str) -> None:
    """With CARTTRACK_SCREENSHOTS=<dir> (docs/screenshots for the ones in the docs), keep what the screen
    shows: ``CARTTRACK_SCREENSHOTS=docs/screenshots pytest tests/browser/test_ward_screens_browser.py
    tests/browser/test_alert_phone_browser.py``."""
    folder = os.environ.get("CARTTRACK_SCREENSHOTS")
    if folder:
        page.screenshot(path=f"{folder}/{name}.png", full_page=False)
