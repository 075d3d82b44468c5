"""Ward-ready screens (issue 13 items 3, 5, 7) as a nurse, a physician and a coordinator see them at
1024×768, 820×1180 and 390×844: no internal code on screen, every time with its zone, the census fits
the screen without losing a column and its CSV holds what it shows, axe and touch targets pass."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from alerts.models import Alert
from alerts.services import alert_process_evaluation
from monitoring.services import observation_record
from tests import factories
from tests.screens.test_every_screen import BARE_TIME, SNAKE_CASE

from .helpers import csp_errors, login, serious_axe_violations, small_targets, totp_device
from .ward import keep_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TARGETS = (
    "main button, main a.button, main a.al-btn, main summary, main select, .site-nav a, .patient-link,"
    " main td > a, .al-patient a, .page-links a"
)


def _record(infusion, nurse, kind, payload, minutes_ago):
    _obs, evaluation, _ = observation_record(
        infusion=infusion,
        kind=kind,
        payload=payload,
        observed_at=timezone.now() - timedelta(minutes=minutes_ago),
        recorded_by=nurse,
        client_uuid=uuid.uuid4(),
        source="tablet",
    )
    return evaluation


@pytest.fixture
def ward(team, product, nurse):
    """A team in Berlin: one patient with CRS grade 2 on nasal cannula (an alert is open), one calm."""
    team.time_zone = "Europe/Berlin"
    team.save()
    sick = factories.make_infusion(factories.make_patient(team, family_name="Zeller"), product, hours_ago=50)
    calm = factories.make_infusion(factories.make_patient(team, family_name="Aaron"), product, hours_ago=30)
    _record(calm, nurse, "vitals", {"temp_c": 36.8, "hr": 80, "sbp": 120, "dbp": 70, "spo2": 98}, 30)
    _record(sick, nurse, "medication", {"drug": "tmp_smx", "dose_mg": 960}, 90)
    _record(sick, nurse, "medication", {"drug": "g_csf", "dose_mg": 0.3}, 80)
    evaluation = _record(
        sick,
        nurse,
        "vitals",
        {
            "temp_c": 39.0,
            "hr": 120,
            "sbp": 84,
            "dbp": 50,
            "spo2": 93,
            "o2_device": "nasal_cannula",
            "o2_flow_l_min": 3,
            "fluid_bolus_for_hypotension": True,
        },
        5,
    )
    alert_process_evaluation(evaluation_id=evaluation.pk)
    return {"sick": sick, "calm": calm, "alert": Alert.objects.get(infusion=sick, syndrome="crs")}


def _words_and_zones(page) -> tuple[list[str], list[str]]:
    text = page.locator("main").inner_text() + "\n" + page.locator("header").first.inner_text()
    return SNAKE_CASE.findall(text), BARE_TIME.findall(text)


def _screen_ok(page, where: str) -> None:
    codes, bare = _words_and_zones(page)
    assert codes == [], f"{where} @ {page.viewport_name}: codes on screen {codes}"
    assert bare == [], f"{where} @ {page.viewport_name}: times without a zone {bare}"
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], where


def test_nurse_main_screens_speak_clinical_language(ward_page, nurse, ward):
    page = ward_page
    patient_page = f"/patients/{ward['sick'].patient_id}/"
    login(page, nurse, next_path="/")
    page.goto("/")
    names = page.locator("table.patients .patient-link").all_inner_texts()
    assert names[0].startswith("Zeller")  # CRS grade 2 with an open alert before the calm patient
    _screen_ok(page, "My patients")
    assert small_targets(page, TARGETS) == []  # the "Order" choice too
    page.goto(patient_page)
    text = page.locator("main").inner_text()
    assert "nasal cannula 3 L/min" in text and "TMP-SMX" in text and "G-CSF" in text
    _screen_ok(page, "patient page")
    assert serious_axe_violations(page) == []
    assert small_targets(page, TARGETS) == []
    if page.viewport_name.startswith("landscape"):
        keep_screenshot(page, "patient-tablet-1024x768")
    assert csp_errors(page) == []


def test_physician_main_screens_speak_clinical_language(ward_page, physician, ward):
    page = ward_page
    alert = ward["alert"]
    login(page, physician, totp_device(physician), next_path="/alerts/")
    page.goto("/alerts/")
    _screen_ok(page, "alerts inbox")
    assert small_targets(page, TARGETS) == []  # the patient's name and "Why" on each card
    page.goto(f"/alerts/patients/{alert.patient_id}/alerts/{alert.pk}/")
    _screen_ok(page, "alert detail")
    assert small_targets(page, TARGETS) == []


def test_census_fits_the_screen_and_its_csv_is_what_it_shows(ward_page, coordinator, ward):
    page = ward_page
    login(page, coordinator, totp_device(coordinator), next_path="/census/")
    page.goto("/census/")
    page.select_option("#f-sort", "name")  # census.js applies it at once
    page.wait_for_url(re.compile(r"sort=name"))
    page.reload()  # the order survives a refresh
    assert page.locator("#f-sort").input_value() == "name"
    _screen_ok(page, "census")
    table = page.locator("#census-table")
    if page.viewport_name.startswith("landscape"):
        headers = table.locator("thead th").all()
        assert len(headers) == 9
        for th in headers:  # every column on the screen, none cut off
            box = th.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 1024, th.inner_text()
        keep_screenshot(page, "census-1024x768")
    shown = [n.split(",")[0] for n in table.locator(".patient-link").all_inner_texts()]
    assert shown == ["Aaron", "Zeller"]
    with page.expect_download() as download:
        page.locator("#census-export").click()
    body = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [r["patient"].split(",")[0] for r in rows] == shown
    assert all(r["infused_at"].endswith(("CET", "CEST")) for r in rows)
    assert small_targets(page, TARGETS) == []
    assert serious_axe_violations(page) == []


def test_sign_in_page_has_large_targets_and_passes_axe(ward_page):
    page = ward_page
    page.goto("/accounts/login/")
    assert small_targets(page, "main input, main button, main a") == []
    assert serious_axe_violations(page) == []
