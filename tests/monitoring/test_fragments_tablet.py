"""Issue 11 items 1–2 on the nurse's tablet: the vitals form keeps the standing oxygen and vasopressor
values unless the nurse changes them (A-14), shows them with their age (stale ones marked), refuses an
empty record and the cross-field slips in the clinical core's words, and the record list shows exactly
what was recorded."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from monitoring import schedules
from monitoring.models import GradeEvaluation, Infusion, InfusionStatus, Observation

from .conftest import FEVER_CANNULA, NORMAL_VITALS
from .test_tablet_views import HX, ICE_QUESTIONS, neuro_post, record_url

pytestmark = pytest.mark.django_db

BLANK = {
    "temperature": "",
    "hr": "",
    "sbp": "",
    "dbp": "",
    "rr": "",
    "spo2": "",
    "o2_device": "",
    "o2_flow_l_min": "",
    "fio2": "",
}


@pytest.fixture
def nurse_client(client, nurse):
    client.force_login(nurse)
    return client


def form(**values):
    when = timezone.localtime(timezone.now() - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M")
    return {"client_uuid": str(uuid.uuid4()), "observed_at": when, "temp_unit": "C", **BLANK, **values}


def page(nurse_client, patient) -> str:
    return nurse_client.get(reverse("monitoring:patient_detail", args=[patient.pk])).content.decode()


def test_heart_rate_only_on_the_tablet_keeps_crs_2_and_stores_only_the_heart_rate(
    nurse_client, patient, infusion, record, enqueued
):
    record(infusion, "vitals", FEVER_CANNULA, hours_ago=0.5)
    html = page(nurse_client, patient)
    # The form shows the standing oxygen value and says it stays unless changed.
    assert "Standing values" in html and "Oxygen: " in html and "3 L/min" in html
    assert "— not re-assessed (the standing value is kept)" in html
    response = nurse_client.post(record_url(patient), form(hr="96"), **HX)
    assert response.status_code == 200, response.content.decode()[:2000]
    saved = response.content.decode()
    assert "CRS grade 2" in saved
    assert Observation.objects.latest("id").payload == {"hr": 96}  # never room_air / no pressors
    latest = GradeEvaluation.objects.filter(infusion=infusion).latest()
    assert latest.crs_grade == 2
    assert "continue_monitoring" not in [s["code"] for s in latest.suggestions]


def test_room_air_and_no_vasopressors_are_explicit_choices(nurse_client, patient, infusion, enqueued):
    response = nurse_client.post(
        record_url(patient), form(hr="80", o2_device="room_air", vasopressors=["none"]), **HX
    )
    assert response.status_code == 200
    assert Observation.objects.get().payload == {"hr": 80, "o2_device": "room_air", "vasopressors": []}
    # The list of records shows what was entered, and only that.
    assert "HR 80/min · room air · no vasopressors" in page(nurse_client, patient)


def test_no_vasopressors_and_a_drug_together_is_refused(nurse_client, patient, infusion):
    response = nurse_client.post(
        record_url(patient), form(hr="80", vasopressors=["none", "norepinephrine"]), **HX
    )
    assert response.status_code == 422
    assert "No vasopressors running" in response.content.decode() and not Observation.objects.exists()


def test_a_record_with_no_value_is_refused(nurse_client, patient, infusion):
    response = nurse_client.post(record_url(patient), form(), **HX)
    assert response.status_code == 422
    assert "a vitals record needs at least one recorded value" in response.content.decode()
    assert not Observation.objects.exists()


def test_the_record_list_does_not_invent_room_air(nurse_client, patient, infusion, record, enqueued):
    record(infusion, "vitals", {"hr": 101}, hours_ago=0.2)
    html = page(nurse_client, patient)
    line = html.split('class="obs-value')[1].split("</span>")[0]
    assert "HR 101/min" in line and "room air" not in line and "vasopressor" not in line


def test_a_stale_standing_value_is_marked_and_makes_the_check_due(
    nurse_client, patient, infusion, record, enqueued
):
    record(infusion, "vitals", FEVER_CANNULA, hours_ago=3)  # CRS 2: vitals hourly (MON-5)
    record(infusion, "vitals", {"hr": 90}, hours_ago=0.2)  # a partial record re-assesses nothing else
    html = page(nurse_client, patient)
    assert "stale — re-assess" in html
    vitals = schedules.checks_for_infusions([infusion], now=timezone.now())[infusion.pk][0]
    assert vitals.check_type == "vitals" and vitals.is_overdue
    assert "a standing value goes stale" in vitals.reason_for_interval


def test_a_check_counts_as_done_only_when_complete(patient, infusion, record, enqueued):
    record(infusion, "vitals", NORMAL_VITALS, hours_ago=5)
    record(infusion, "vitals", {"hr": 80}, hours_ago=0.5)
    vitals = schedules.checks_for_infusions([infusion], now=timezone.now())[infusion.pk][0]
    first_complete = Observation.objects.order_by("id").first()
    assert vitals.last_done == first_complete.observed_at  # the heart rate alone did not complete it
    assert vitals.is_overdue  # 4-hourly routine vitals: due an hour ago
    record(infusion, "vitals", NORMAL_VITALS, hours_ago=0.1)
    vitals = schedules.checks_for_infusions([infusion], now=timezone.now())[infusion.pk][0]
    assert not vitals.is_overdue


def test_intracranial_haemorrhage_is_present_absent_or_not_assessed(
    nurse_client, patient, infusion, enqueued
):
    ice = dict.fromkeys(ICE_QUESTIONS, "yes")
    data = neuro_post(ice_status="performed", intracranial_hemorrhage="yes", **ice)
    assert nurse_client.post(record_url(patient, "ice"), data, **HX).status_code == 200
    assert Observation.objects.get().payload["intracranial_hemorrhage"] is True
    blank = neuro_post(ice_status="performed", **ice)
    nurse_client.post(record_url(patient, "ice"), blank, **HX)
    assert "intracranial_hemorrhage" not in Observation.objects.latest("id").payload  # not recorded


def test_a_wall_time_the_clocks_skip_is_refused_in_the_cores_words(nurse_client, team, patient, infusion):
    team.time_zone = "Europe/Berlin"
    team.save()
    response = nurse_client.post(record_url(patient), form(hr="80", observed_at="2026-03-29T02:30"), **HX)
    assert response.status_code == 422
    assert "does not exist in Europe/Berlin" in response.content.decode()


def test_amending_on_a_closed_infusion_is_refused(physician_client, patient, infusion, record, enqueued):
    obs, _ev, _ = record(infusion, "vitals", NORMAL_VITALS, hours_ago=1)
    Infusion.objects.filter(pk=infusion.pk).update(
        status=InfusionStatus.CLOSED, closed_at=timezone.now(), close_reason="monitoring_complete"
    )
    data = form(hr="85", temperature="36.8", o2_device="room_air", **{"correction-reason": "typo"})
    response = physician_client.post(reverse("monitoring:amend", args=[patient.pk, obs.pk]), data)
    assert response.status_code == 422
    assert "no observations can be recorded or corrected" in response.content.decode()
    assert Observation.objects.count() == 1


@pytest.fixture
def physician_client(client, physician):
    client.force_login(physician)
    return client
