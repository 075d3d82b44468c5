"""Coordinator without the API: register a patient, record the infusion, find the patient on the
census; the form lists every error at once and keeps what was typed. Admin: reset a lost phone's
two-factor and unlock a locked sign-in on the Team accounts screen. Both pages pass axe and have
≥ 44 px targets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from monitoring.models import Infusion, Patient
from tests import factories

from .helpers import login, serious_axe_violations, small_targets, totp_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _patient_navigation(page):
    """The first page of a live server can take longer than 15 s on a loaded CI machine."""
    page.set_default_navigation_timeout(45_000)


def test_coordinator_registers_starts_and_finds_the_patient_on_the_census(page, coordinator, product):
    login(page, coordinator, totp_device(coordinator), next_path="/courses/")
    page.get_by_role("link", name="Register a patient").click()
    form = page.locator("#form-patient")
    form.get_by_label("MRN (hospital number)").fill("MRN-7781")
    form.get_by_label("Given name").fill("Lena")
    form.get_by_label("Family name").fill("Brandt")
    form.get_by_label("Date of birth").fill("1800-02-03")  # a slip: refused with the allowed range
    form.get_by_label("Weight").fill("900")  # and a second one, listed at the same time
    form.get_by_label("Indication").select_option(label="Large B-cell lymphoma")
    form.get_by_role("button", name="Register patient").click()
    errors = page.locator("#form-errors")
    expect(errors).to_contain_text("1900 or later")
    expect(errors).to_contain_text("350")
    assert not Patient.objects.filter(mrn="MRN-7781").exists()
    assert page.locator("#form-patient").get_by_label("Family name").input_value() == "Brandt"  # kept

    form = page.locator("#form-patient")
    form.get_by_label("Date of birth").fill("1968-02-03")
    form.get_by_label("Weight").fill("71.5")
    form.get_by_role("button", name="Register patient").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Record the infusion: Brandt, Lena")
    expect(page.locator("#form-course")).to_contain_text("UTC")  # the team's zone beside the time

    infused = timezone.localtime(timezone.now() - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    course = page.locator("#form-course")
    course.get_by_label("CAR-T product").select_option(label=product.name)
    course.get_by_label("Infused at").fill(infused)
    course.get_by_role("button", name="Record infusion (day 0)").click()
    expect(page.locator(".messages")).to_contain_text("Infusion recorded")
    infusion = Infusion.objects.get(patient__mrn="MRN-7781")
    assert infusion.history.get().history_user == coordinator

    page.goto("/census/")
    expect(page.locator("main")).to_contain_text("Brandt")
    assert not serious_axe_violations(page)


def test_coordinator_closes_monitoring_on_screen(page, coordinator, infusion):
    login(page, coordinator, totp_device(coordinator), next_path="/courses/")
    # The list is as wide as the screen ("Close monitoring" never pushes it sideways at 820 px).
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert not small_targets(page, "main a, main button")
    page.get_by_role("link", name=f"Close monitoring of {infusion.patient.family_name}").click()
    course = page.locator("#form-course")
    course.get_by_label("Why monitoring ends").select_option(label="Monitoring completed")
    assert not serious_axe_violations(page)
    assert not small_targets(page, "main a, main button, main input, main select")
    course.get_by_role("button", name="Close monitoring").click()
    expect(page.locator(".messages")).to_contain_text("closed")
    infusion.refresh_from_db()
    assert infusion.status == "closed" and infusion.close_reason == "monitoring_complete"
    assert infusion.history.filter(history_user=coordinator).exists()


def test_admin_resets_a_lost_phone(page, site_admin, physician):
    TOTPDevice.objects.create(user=physician, name="lost phone", confirmed=True)
    login(page, site_admin, totp_device(site_admin), next_path="/accounts/team/")
    row = page.locator(f"#account-{physician.pk}")
    expect(row).to_contain_text("Authenticator set up")
    assert not serious_axe_violations(page)
    assert not small_targets(page, "main button")
    row.get_by_role("button", name="Reset two-factor").click()
    expect(page.locator(".messages")).to_contain_text("Two-factor reset")
    expect(page.locator(f"#account-{physician.pk}")).to_contain_text("Not set up")
    assert not TOTPDevice.objects.filter(user=physician).exists()


def test_admin_unlocks_a_locked_nurse(page, settings, site_admin, nurse):
    locked = Client(REMOTE_ADDR="10.0.0.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        locked.post("/accounts/login/", {"username": nurse.username, "password": "wrong-password-123"})
    assert locked.post("/accounts/login/", {"username": nurse.username, "password": "x"}).status_code == 429
    login(page, site_admin, totp_device(site_admin), next_path="/accounts/team/")
    row = page.locator(f"#account-{nurse.pk}")
    expect(row).to_contain_text("Locked after repeated wrong passwords")
    row.get_by_role("button", name="Unlock").click()
    expect(page.locator(".messages")).to_contain_text("Sign-in unlocked")
    expect(page.locator(f"#account-{nurse.pk}")).to_contain_text("Can sign in")
    signed_in = locked.post("/accounts/login/", {"username": nurse.username, "password": factories.PASSWORD})
    assert signed_in.status_code == 302
