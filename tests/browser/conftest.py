"""Playwright (Debian's Chromium, headless) against pytest-django's live server.

Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make to set up
data are synchronous and safe there, so Django's async-safety guard is relaxed for this package.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {"landscape-1024x768": (1024, 768), "portrait-820x1180": (820, 1180)}
WARD_VIEWPORTS = {**VIEWPORTS, "phone-390x844": (390, 844)}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium():
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} not installed (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI must run the browser tests, never skip them silently
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()
    playwright.stop()


def _open_page(chromium, live_server, viewport_name: str, size: tuple[int, int]):
    width, height = size
    context = chromium.new_context(
        viewport={"width": width, "height": height}, base_url=live_server.url, has_touch=True
    )
    page = context.new_page()
    # Waits end as soon as the page is there; a long ceiling only matters on a loaded machine (CI shares
    # its cores with the worker subprocesses of other tests), where 15 s gave false failures.
    page.set_default_timeout(15_000)
    page.set_default_navigation_timeout(45_000)
    page.console_errors = []
    page.on("console", lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: page.console_errors.append(f"pageerror: {exc}"))
    page.viewport_name = viewport_name
    return context, page


@pytest.fixture(params=list(VIEWPORTS))
def page(request, chromium, live_server, settings):
    """A fresh browser context per test and viewport; console CSP violations are collected."""
    settings.TWO_FACTOR_REQUIRED = True  # physicians and coordinators pass the TOTP step, as in production
    context, page = _open_page(chromium, live_server, request.param, VIEWPORTS[request.param])
    yield page
    context.close()


@pytest.fixture(params=list(WARD_VIEWPORTS))
def ward_page(request, chromium, live_server, settings):
    """As ``page``, at the three ward devices: tablet landscape and portrait, and the phone (issue 13)."""
    settings.TWO_FACTOR_REQUIRED = True
    context, page = _open_page(chromium, live_server, request.param, WARD_VIEWPORTS[request.param])
    yield page
    context.close()
