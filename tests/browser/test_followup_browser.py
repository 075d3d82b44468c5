"""A rheumatologist (password + TOTP) records a month-3 SLE visit on the follow-up form and sees DORIS
remission and the drug-free status (issue 14), at 1024×768 and 820×1180."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from carttrack.followup.sledai import SLEDAI_CODES
from followup.models import PlannedCourse
from monitoring import services
from monitoring.models import CloseReason, Indication, InfusionStatus
from tests import factories

from .helpers import csp_errors, login, serious_axe_violations, small_targets, totp_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MONTH = timedelta(hours=730.5)


def test_rheumatologist_records_a_month_3_visit_and_sees_doris_and_drug_free(page, monkeypatch):
    monkeypatch.setattr("monitoring.services._enqueue_alert_processing", lambda evaluation_id: None)
    monkeypatch.setattr("followup.services._enqueue_findings", lambda evaluation_id: None)
    team = factories.make_team("Rheumatology", time_zone="Europe/Berlin")
    doctor = factories.make_user(Role.PHYSICIAN, team, username="rheumatologist")
    patient = factories.make_patient(team, indication=Indication.SLE, sex="F", given_name="Lena")
    course = factories.make_infusion(patient, infused_at=timezone.now() - MONTH * 3.1)
    before = course.infused_at - timedelta(days=5)
    active = {code: code in ("arthritis", "rash", "low_complement") for code in SLEDAI_CODES}
    services.observation_record(
        infusion=course,
        kind="sledai",
        payload={"items": active, "pga": 2.0},
        observed_at=before,
        recorded_by=doctor,
    )
    services.observation_record(
        infusion=course,
        kind="medication_status",
        payload={"drugs": [{"drug": "prednisolone", "mg_per_day": 10}]},
        observed_at=before,
        recorded_by=doctor,
    )
    course.status, course.close_reason = InfusionStatus.CLOSED, CloseReason.MONITORING_COMPLETE
    course.closed_at = course.infused_at + timedelta(days=28)
    course.save(update_fields=["status", "close_reason", "closed_at"])

    login(page, doctor, totp_device(doctor), next_path=f"/followup/patients/{patient.pk}/")
    page.goto(f"/followup/patients/{patient.pk}/")
    page.get_by_role("link", name="Record a follow-up visit").click()
    page.wait_for_url("**/visit/")
    assert serious_axe_violations(page) == []
    month3 = (course.infused_at + MONTH * 3).astimezone(ZoneInfo(team.time_zone))
    page.locator("[name=observed_at]").fill(month3.strftime("%Y-%m-%dT%H:%M"))
    for code in SLEDAI_CODES:
        page.locator(f"input[name=sledai_{code}][value=no]").check()
    page.locator("[name=pga]").fill("0.2")
    page.locator("[name=pga_recorded]").check()
    page.locator("[name=meds_recorded]").check()
    page.locator("[name=med_0_drug]").fill("")  # prednisolone stopped
    page.locator("[name=lab_cd19_per_uL]").fill("0")
    page.get_by_role("button", name="Save visit").click()
    expect(page.locator("#doris-status")).to_contain_text("In DORIS remission")
    expect(page.locator("#drug-free-status")).to_contain_text("Drug-free")
    assert course.observations.filter(kind="sledai").count() == 2
    assert csp_errors(page) == []
    # On the phone the follow-up page and the task list are as wide as the screen (a wider table
    # scrolls sideways inside itself instead of pushing the page), their links and disclosures 44 px.
    page.set_viewport_size({"width": 390, "height": 844})
    for path in (f"/followup/patients/{patient.pk}/", "/followup/tasks/"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        assert small_targets(page, "main summary, main td > a, .page-links a, main button") == [], path
        assert serious_axe_violations(page) == [], path  # a table that scrolls inside itself takes the focus


def test_coordinator_starts_a_planned_course_with_the_physicians_override(page, monkeypatch):
    """The planned course still misses work-up items: the start says what, is refused without an
    override, and goes through once the treating physician's decision is recorded (ELIG-5)."""
    monkeypatch.setattr("monitoring.services._enqueue_alert_processing", lambda evaluation_id: None)
    team = factories.make_team("Rheumatology", time_zone="Europe/Berlin")
    coordinator = factories.make_user(Role.COORDINATOR, team, username="fu_coordinator")
    doctor = factories.make_user(Role.PHYSICIAN, team, username="treating")
    doctor.first_name, doctor.last_name = "Ada", "Schett"
    doctor.save()
    nurse = factories.make_user(Role.NURSE, team, username="infusing_nurse")
    product = factories.make_product("MB-CART19.1")
    patient = factories.make_patient(team, indication=Indication.SLE, sex="F", given_name="Mia")
    PlannedCourse.objects.create(
        patient=patient,
        care_team=team,
        planned_leukapheresis_at=timezone.now() - timedelta(days=21),
        workup={"pre_treatment_activity": "SLEDAI-2K 16", "history": []},
    )

    login(
        page,
        coordinator,
        totp_device(coordinator),
        next_path=f"/followup/patients/{patient.pk}/planned-course/",
    )
    page.goto(f"/followup/patients/{patient.pk}/planned-course/", timeout=45_000)
    page.get_by_role("link", name="Start the infusion of this course").click()
    page.wait_for_url("**/planned-course/start/", timeout=45_000)
    expect(page.locator("#start-missing")).to_contain_text("Work-up: organs involved")
    assert serious_axe_violations(page) == []
    wall = timezone.localtime(timezone.now() - timedelta(hours=2), ZoneInfo(team.time_zone))
    page.get_by_label("CAR-T product").select_option(label="MB-CART19.1")
    page.get_by_label("Dose", exact=True).fill("1")
    page.get_by_label("Infused at").fill(wall.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Given by").select_option(label=str(nurse))
    page.get_by_role("button", name="Record the infusion with the override (day 0)").click()
    expect(page.locator("#form-errors")).to_contain_text(
        "Still missing: Work-up: organs involved", timeout=45_000
    )
    assert not patient.infusions.exists()

    page.get_by_label("Decided by (treating physician)").select_option(label="Ada Schett")
    page.get_by_label("Why infuse although items are missing").fill("Board decision: active nephritis.")
    page.get_by_role("button", name="Record the infusion with the override (day 0)").click()
    page.wait_for_url(f"**/patients/{patient.pk}/", timeout=45_000)
    expect(page.get_by_text("is on the census from day 0")).to_be_visible()
    infusion = patient.infusions.get()
    assert infusion.product == product and infusion.infused_at == wall.replace(second=0, microsecond=0)

    page.goto(f"/followup/patients/{patient.pk}/", timeout=45_000)
    record = page.locator("#course-start-record")
    expect(record).to_contain_text("Infused with an override")
    expect(record).to_contain_text("Ada Schett")
    expect(record).to_contain_text("Board decision: active nephritis.")
    assert csp_errors(page) == []
