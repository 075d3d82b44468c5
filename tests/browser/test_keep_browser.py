"""Nothing typed is lost (issue 13 item 1): a save that meets an expired session or no network keeps
the form, says so, and is stored exactly once after sign-in / reconnect.  At 1024×768, 820×1180, 390×844."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import csp_errors, login
from .ward import idle_out_every_session, sign_in_here

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _type_vitals(page):
    form = page.locator("#form-vitals")
    form.locator("[name=temperature]").fill("39.2")
    form.locator("[name=hr]").fill("121")
    form.locator("[name=sbp]").fill("118")
    form.locator("[name=dbp]").fill("70")
    form.locator("[name=spo2]").fill("96")
    return form


def _values(form) -> tuple[str, ...]:
    return tuple(form.locator(f"[name={n}]").input_value() for n in ("temperature", "hr", "sbp", "spo2"))


def test_expired_session_keeps_the_vitals_and_sends_them_once_after_sign_in(ward_page, nurse, infusion):
    page = ward_page
    login(page, nurse, next_path=f"/patients/{infusion.patient_id}/")
    page.goto(f"/patients/{infusion.patient_id}/")
    form = _type_vitals(page)
    uuid_before = form.locator("[name=client_uuid]").input_value()
    idle_out_every_session()
    form.locator("button.save").click()

    status = form.locator(".keep-status")
    expect(status).to_contain_text("signed out")
    expect(status).to_contain_text("kept on this tablet")
    assert _values(form) == ("39.2", "121", "118", "96")  # the form as it was
    assert form.locator("input[name=password]").count() == 0  # no sign-in page inside the box
    assert infusion.observations.count() == 0

    status.get_by_role("link", name="Sign in again").click()
    page.wait_for_url("**/accounts/login/**")
    expect(page.locator("#kept-entries")).to_contain_text("Vitals saved at")
    sign_in_here(page, nurse)
    page.wait_for_url(f"**/patients/{infusion.patient_id}/")  # back at the patient, not My patients
    expect(page.locator("#form-vitals .message-success")).to_contain_text("Vitals saved at")
    assert infusion.observations.count() == 1
    obs = infusion.observations.get()
    assert str(obs.client_uuid) == uuid_before and obs.payload["hr"] == 121
    page.reload()  # nothing left to send: still one row
    page.wait_for_timeout(500)
    assert infusion.observations.count() == 1
    assert csp_errors(page) == []


def test_lost_session_cookie_never_puts_the_sign_in_page_in_the_vitals_box(ward_page, nurse, infusion):
    page = ward_page
    login(page, nurse, next_path=f"/patients/{infusion.patient_id}/")
    page.goto(f"/patients/{infusion.patient_id}/")
    form = _type_vitals(page)
    page.context.clear_cookies(name="sessionid")
    form.locator("button.save").click()
    expect(form.locator(".keep-status")).to_contain_text("signed out")
    assert page.locator("#form-vitals input[name=password]").count() == 0
    assert _values(form) == ("39.2", "121", "118", "96")
    form.locator(".keep-status").get_by_role("link", name="Sign in again").click()
    sign_in_here(page, nurse)
    page.wait_for_url(f"**/patients/{infusion.patient_id}/")
    expect(page.locator("#form-vitals .message-success")).to_be_visible()
    assert infusion.observations.count() == 1


def test_offline_save_is_sent_once_when_the_network_is_back(ward_page, nurse, infusion):
    page = ward_page
    login(page, nurse, next_path=f"/patients/{infusion.patient_id}/")
    page.goto(f"/patients/{infusion.patient_id}/")
    form = _type_vitals(page)
    page.context.set_offline(True)
    form.locator("button.save").click()
    expect(form.locator(".keep-status")).to_contain_text("No network connection")
    assert _values(form) == ("39.2", "121", "118", "96")
    assert infusion.observations.count() == 0
    page.context.set_offline(False)
    expect(page.locator("#form-vitals .message-success")).to_contain_text("Vitals saved at")
    page.wait_for_timeout(500)
    assert infusion.observations.count() == 1
    assert csp_errors(page) == []
