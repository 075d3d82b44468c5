"""The save lands where the nurse looks (issue 13 item 2): after Save the confirmation with the new
grade, or every error at once, is in the viewport and has the focus.  At 1024×768, 820×1180, 390×844."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import login
from .ward import in_viewport

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fill(page, **values):
    form = page.locator("#form-vitals")
    for name, value in values.items():
        form.locator(f"[name={name}]").fill(value)
    # The nurse scrolls down to the Save button (portrait: far below the confirmation's place).
    form.locator("button.save").scroll_into_view_if_needed()
    form.locator("button.save").click()
    return form


def test_confirmation_and_new_grade_are_in_view_and_focused_after_save(ward_page, nurse, infusion):
    page = ward_page
    login(page, nurse, next_path=f"/patients/{infusion.patient_id}/")
    page.goto(f"/patients/{infusion.patient_id}/")
    form = _fill(page, temperature="39.1", hr="118", sbp="122", dbp="74", rr="18", spo2="97")
    confirmation = form.locator(".message-success")
    expect(confirmation).to_contain_text("Vitals saved at")
    expect(confirmation).to_contain_text("CRS grade 1")
    expect(confirmation).to_be_focused()
    page.wait_for_timeout(300)  # anything that would still move the page has happened
    assert in_viewport(page, "#form-vitals .message-success"), page.viewport_name


def test_every_error_at_once_at_the_top_and_beside_each_field(ward_page, nurse, infusion):
    page = ward_page
    login(page, nurse, next_path=f"/patients/{infusion.patient_id}/")
    page.goto(f"/patients/{infusion.patient_id}/")
    form = _fill(page, hr="400", sbp="900", dbp="70", spo2="150")
    summary = form.locator(".error-summary")
    expect(summary).to_be_focused()
    text = summary.inner_text()
    assert "3 things to check" in text
    for words in ("Heart rate: 400 is outside 20–300", "Systolic BP: 900 is outside", "SpO₂: 150 is outside"):
        assert words in text, text
    for name in ("hr", "sbp", "spo2"):
        assert form.locator(f".field-{name} .field-error").count() == 1
    assert "field " not in form.inner_text()  # no "field hr:" codes
    page.wait_for_timeout(300)
    assert in_viewport(page, "#form-vitals .error-summary"), page.viewport_name
    assert infusion.observations.count() == 0


def test_spo2_as_a_fraction_asks_did_you_mean_95_percent(ward_page, nurse, infusion):
    page = ward_page
    login(page, nurse, next_path=f"/patients/{infusion.patient_id}/")
    page.goto(f"/patients/{infusion.patient_id}/")
    form = _fill(page, hr="80", spo2="0.95")
    expect(form.locator(".field-spo2 .field-error")).to_contain_text("did you mean 95 %")
    form.locator("[name=temperature]").fill("3.9")
    form.locator("[name=spo2]").fill("95")
    form.locator("button.save").click()
    expect(form.locator(".field-temperature .field-error")).to_contain_text("did you mean 39")
