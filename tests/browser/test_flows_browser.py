"""Cross-screen flows at 1024×768 and 820×1180: a nurse records vitals and sees the grade; a physician
(password + TOTP) acknowledges an alert.  Screens by the tablet and escalation engineers."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alerts.models import Alert, AlertStatus

from .helpers import csp_errors, login, serious_axe_violations, small_targets, totp_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ENTRY_TARGETS = (
    ".entry-form input:not([type=hidden]), .entry-form select, .entry-form button, .entry > summary"
)


def test_nurse_records_vitals_and_sees_the_grade(page, nurse, infusion):
    login(page, nurse, next_path=f"/patients/{infusion.patient_id}/")
    page.goto(f"/patients/{infusion.patient_id}/")
    form = page.locator("#form-vitals")
    form.locator("[name=temperature]").fill("39.1")
    form.locator("[name=hr]").fill("118")
    form.locator("[name=sbp]").fill("122")
    form.locator("[name=dbp]").fill("74")
    form.locator("[name=rr]").fill("18")
    form.locator("[name=spo2]").fill("97")
    form.locator("button.save").click()
    # Locator assertions, not wait_for_function: the strict CSP forbids evaluating strings in the page.
    expect(page.locator("#grade-panel")).to_contain_text("CRS grade 1")
    panel = page.locator("#grade-panel").inner_text()
    assert "CRS grade 1" in panel
    assert infusion.observations.count() == 1
    assert csp_errors(page) == []


def test_nurse_entry_forms_are_touch_friendly_and_accessible(page, nurse, infusion):
    login(page, nurse, next_path=f"/patients/{infusion.patient_id}/")
    page.goto(f"/patients/{infusion.patient_id}/")
    # Open every entry section so that all forms are measured.
    for summary in page.locator(".entry > summary").all():
        if summary.evaluate("el => !el.parentElement.open"):
            summary.click()
    assert small_targets(page, ENTRY_TARGETS) == []
    assert serious_axe_violations(page) == []


def _grade_2_alert(infusion, nurse) -> Alert:
    from alerts.services import alert_process_evaluation
    from monitoring.services import observation_record

    _obs, evaluation, _created = observation_record(
        infusion=infusion,
        kind="vitals",
        payload={
            "temp_c": 39.0,
            "hr": 120,
            "sbp": 84,
            "dbp": 50,
            "spo2": 96,
            "o2_device": "room_air",
            "fluid_bolus_for_hypotension": True,
        },
        observed_at=timezone.now() - timedelta(minutes=5),
        recorded_by=nurse,
        client_uuid=uuid.uuid4(),
        source="tablet",
    )
    alert_process_evaluation(evaluation_id=evaluation.pk)
    return Alert.objects.get(infusion=infusion, syndrome="crs")


def test_physician_acknowledges_an_alert(page, physician, nurse, infusion):
    alert = _grade_2_alert(infusion, nurse)
    assert alert.status == AlertStatus.OPEN and alert.grade == 2
    login(page, physician, totp_device(physician), next_path="/alerts/")
    page.goto("/alerts/")
    card = page.locator(f"[data-alert-id='{alert.pk}']")
    assert "CRS" in card.inner_text()
    card.locator("button", has_text="Acknowledge").click()
    page.wait_for_load_state("domcontentloaded")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED and alert.acknowledged_by_id == physician.pk
    assert csp_errors(page) == []


def test_alert_inbox_is_accessible(page, physician, nurse, infusion):
    _grade_2_alert(infusion, nurse)
    login(page, physician, totp_device(physician), next_path="/alerts/")
    page.goto("/alerts/")
    assert page.locator("[data-alert-id]").count() == 1
    violations = serious_axe_violations(page)
    assert violations == [], violations
    assert small_targets(page, ".al-actions button, .al-actions a") == []
