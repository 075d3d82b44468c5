"""The vitals form with standing values (A-14) in Chromium: the nurse sees the standing oxygen with
its age, records a heart rate only, and the grade shown stays CRS 2."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from monitoring.services import observation_record
from tests.monitoring.conftest import FEVER_CANNULA

from .helpers import csp_errors, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_heart_rate_only_keeps_the_standing_oxygen_and_the_grade(page, nurse, infusion):
    observation_record(
        infusion=infusion,
        kind="vitals",
        payload=FEVER_CANNULA,
        observed_at=timezone.now() - timedelta(minutes=40),
        recorded_by=nurse,
        client_uuid=uuid.uuid4(),
    )
    login(page, nurse, next_path=f"/patients/{infusion.patient_id}/")
    page.goto(f"/patients/{infusion.patient_id}/")
    form = page.locator("#form-vitals")
    standing = form.locator(".standing-oxygen")
    expect(standing).to_contain_text("Oxygen: ")
    expect(standing).to_contain_text("3 L/min")
    expect(standing).to_contain_text("ago")
    form.locator("[name=hr]").fill("96")
    form.locator("button.save").click()
    expect(page.locator("#grade-panel")).to_contain_text("CRS grade 2")
    expect(page.locator(".observations li").first).to_contain_text("HR 96/min")
    if os.environ.get("CARTTRACK_SCREENSHOTS"):
        page.screenshot(path=os.environ["CARTTRACK_SCREENSHOTS"] + "/vitals-standing.png", full_page=True)
    assert infusion.observations.latest("id").payload == {"hr": 96}
    assert csp_errors(page) == []
