"""The nurse's tablet screens, driven through the Django test client (htmx requests carry HX-Request)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Infusion, InfusionStatus, Observation, ObservationStatus
from tests import factories

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def nurse_client(client, nurse):
    client.force_login(nurse)
    return client


@pytest.fixture
def physician_client(client, physician):
    client.force_login(physician)
    return client


def vitals_post(**overrides):
    data = {
        "client_uuid": str(uuid.uuid4()),
        "observed_at": timezone.localtime(timezone.now() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
        "temperature": "39.1",
        "temp_unit": "C",
        "hr": "124",
        "sbp": "84",
        "dbp": "48",
        "rr": "24",
        "spo2": "95",
        "o2_device": "room_air",
        "vasopressors": ["norepinephrine"],
    }
    data.update(overrides)
    return data


ICE_QUESTIONS = (
    "orientation_year",
    "orientation_month",
    "orientation_city",
    "orientation_hospital",
    "naming_1",
    "naming_2",
    "naming_3",
    "commands",
    "writing",
    "attention",
)


def neuro_post(**overrides):
    data = {
        "client_uuid": str(uuid.uuid4()),
        "observed_at": vitals_post()["observed_at"],
        "consciousness": "alert",
        "seizure": "none",
        "motor": "none",
        "icp_edema": "none",
    }
    data.update(overrides)
    return data


def record_url(patient, key="vitals"):
    return reverse("monitoring:record", args=[patient.pk, key])


def test_patient_page_shows_header_and_entry_forms(nurse_client, patient, infusion):
    response = nurse_client.get(reverse("monitoring:patient_detail", args=[patient.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        patient.mrn in html
        and f"Day {infusion.day_post_infusion()}" in html
        and "62.0 kg" in html
        and infusion.product.name in html
    )
    assert "Large B-cell lymphoma" in html
    for text in (
        "Vitals",
        "Neuro check (ICE)",
        "Labs",
        "Medication given",
        'name="client_uuid"',
        "Orientation: knows the year",
        "Not assessable",
        "not graded as ICANS",
        "°F",
    ):
        assert text in html, text
    assert "<script>" not in html and " onclick=" not in html and "hx-on" not in html


def test_child_gets_the_capd_form(nurse_client, team, product):
    child = factories.make_patient(team, date_of_birth=timezone.now().date() - timedelta(days=365 * 7))
    factories.make_infusion(child, product)
    html = nurse_client.get(reverse("monitoring:patient_detail", args=[child.pk])).content.decode()
    assert "Neuro check (CAPD)" in html and "Does the child make eye contact" in html
    assert "Neuro check (ICE)" not in html


def test_saving_vitals_shows_the_grade_panel_at_once(nurse_client, patient, infusion, enqueued):
    response = nurse_client.post(record_url(patient), vitals_post(), **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "CRS grade 3" in html and "grade-3" in html
    assert 'id="grade-panel"' in html and 'hx-swap-oob="true"' in html
    assert "norepinephrine (one vasopressor)" in html
    assert "496 mg" in html and "Dexamethasone 10 mg" in html and "ICU" in html
    assert "Vitals saved" in html
    assert Observation.objects.filter(infusion=infusion).count() == 1


def test_double_tap_stores_one_observation(nurse_client, patient, infusion, enqueued):
    data = vitals_post()
    first = nurse_client.post(record_url(patient), data, **HX)
    second = nurse_client.post(record_url(patient), data, **HX)
    assert first.status_code == second.status_code == 200
    assert "already saved" in second.content.decode()
    assert Observation.objects.count() == 1


def test_a_fresh_client_uuid_is_rendered_after_each_save(nurse_client, patient, infusion, enqueued):
    data = vitals_post()
    html = nurse_client.post(record_url(patient), data, **HX).content.decode()
    uuids = re.findall(r'name="client_uuid" value="([0-9a-f-]+)"', html)
    assert uuids and data["client_uuid"] not in uuids


def test_impossible_value_names_field_and_range_and_keeps_what_was_typed(nurse_client, patient, infusion):
    response = nurse_client.post(record_url(patient), vitals_post(temperature="60", hr="88", sbp="131"), **HX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "25–45 °C" in html and "temp_c" not in re.sub(r"<[^>]+>", "", html).split("Temperature")[0]
    assert 'value="60"' in html and 'value="88"' in html and 'value="131"' in html
    assert Observation.objects.count() == 0


def test_fahrenheit_typed_in_the_celsius_field_is_caught_and_converted(
    nurse_client, patient, infusion, enqueued
):
    data = vitals_post(temperature="101.3", vasopressors=[])
    response = nurse_client.post(record_url(patient), data, **HX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "looks like °F" in html and "38.5 °C" in html and 'value="temp_convert"' in html
    converted = nurse_client.post(record_url(patient), {**data, "action": "temp_convert"}, **HX)
    html = converted.content.decode()
    assert converted.status_code == 200 and 'value="38.5"' in html and "Converted 101.3 °F to 38.5 °C" in html
    assert Observation.objects.count() == 0  # nothing saved until the nurse confirms with Save
    saved = nurse_client.post(record_url(patient), {**data, "temperature": "38.5"}, **HX)
    assert saved.status_code == 200 and Observation.objects.get().payload["temp_c"] == 38.5


def test_fahrenheit_unit_switch_stores_temp_f(nurse_client, patient, infusion, enqueued):
    data = vitals_post(temperature="101.3", vasopressors=[], action="temp_unit_f")
    switched = nurse_client.post(record_url(patient), data, **HX)
    assert switched.status_code == 200
    data.pop("action")
    nurse_client.post(record_url(patient), {**data, "temp_unit": "F"}, **HX)
    assert Observation.objects.get().payload["temp_f"] == 101.3


def test_soft_limit_value_needs_confirmation(nurse_client, patient, infusion, enqueued):
    data = vitals_post(temperature="36.5", hr="30", vasopressors=[])
    response = nurse_client.post(record_url(patient), data, **HX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "Unusual value" in html and 'name="confirm_unusual"' in html
    assert Observation.objects.count() == 0
    confirmed = nurse_client.post(record_url(patient), {**data, "confirm_unusual": "on"}, **HX)
    assert confirmed.status_code == 200 and Observation.objects.get().payload["hr"] == 30


def test_impossible_combinations_are_named(nurse_client, patient, infusion):
    response = nurse_client.post(
        record_url(patient), vitals_post(sbp="70", dbp="90", o2_flow_l_min="4"), **HX
    )
    html = response.content.decode()
    assert response.status_code == 422
    # The clinical core's words (carttrack/input_rules.py), the same as the API answers.
    assert "diastolic 90 must be below systolic 70 mmHg" in html
    assert "room_air has no oxygen flow (0 L/min)" in html


def test_closed_infusion_refuses_with_the_reason(nurse_client, patient, infusion):
    Infusion.objects.filter(pk=infusion.pk).update(
        status=InfusionStatus.CLOSED,
        close_reason="monitoring_complete",
        closed_at=timezone.now() - timedelta(hours=1),
    )
    page = nurse_client.get(reverse("monitoring:patient_detail", args=[patient.pk])).content.decode()
    assert "Monitoring of this infusion is closed" in page
    response = nurse_client.post(record_url(patient), vitals_post(), **HX)
    assert response.status_code == 422 and "Monitoring completed" in response.content.decode()
    assert Observation.objects.count() == 0


def test_future_time_is_refused(nurse_client, patient, infusion):
    later = timezone.localtime(timezone.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = nurse_client.post(record_url(patient), vitals_post(observed_at=later), **HX)
    assert response.status_code == 422 and "in the future" in response.content.decode()


def test_another_teams_patient_is_404(nurse_client, other_patient, product):
    factories.make_infusion(other_patient, product)
    assert nurse_client.get(reverse("monitoring:patient_detail", args=[other_patient.pk])).status_code == 404
    assert nurse_client.post(record_url(other_patient), vitals_post(), **HX).status_code == 404
    assert nurse_client.get(reverse("monitoring:grade_panel", args=[other_patient.pk])).status_code == 404
    assert Observation.objects.count() == 0


def test_a_nurse_cannot_record_a_death(nurse_client, patient, infusion):
    data = {
        "client_uuid": str(uuid.uuid4()),
        "observed_at": vitals_post()["observed_at"],
        "event": "death",
        "attributed_to": "crs",
    }
    response = nurse_client.post(record_url(patient, "event"), data, **HX)
    assert response.status_code == 403
    assert "Only a physician" in response.content.decode()
    assert Observation.objects.count() == 0


def test_a_physician_records_crs_diagnosed(physician_client, patient, infusion, enqueued):
    data = {
        "client_uuid": str(uuid.uuid4()),
        "observed_at": vitals_post()["observed_at"],
        "event": "crs_diagnosed",
    }
    assert physician_client.post(record_url(patient, "event"), data, **HX).status_code == 200
    assert Observation.objects.get().payload == {"event": "crs_diagnosed"}


def test_ice_questions_make_the_ice_score(nurse_client, patient, infusion, enqueued):
    data = neuro_post(ice_status="performed", **dict.fromkeys(ICE_QUESTIONS, "yes"))
    data.update(orientation_year="no", attention="no", writing="na")
    response = nurse_client.post(record_url(patient, "ice"), data, **HX)
    assert response.status_code == 200, response.content.decode()[:2000]
    payload = Observation.objects.get().payload
    assert payload["ice"] == {"orientation": 3, "naming": 3, "commands": 1, "writing": None, "attention": 0}
    assert "ICANS incomplete" in response.content.decode()


def test_unanswered_ice_question_is_named(nurse_client, patient, infusion):
    data = neuro_post(ice_status="performed")
    response = nurse_client.post(record_url(patient, "ice"), data, **HX)
    assert (
        response.status_code == 422 and "Answer Correct, Wrong or Not assessable" in response.content.decode()
    )


def test_capd_form_records_items(nurse_client, team, product, enqueued):
    child = factories.make_patient(
        team, date_of_birth=timezone.now().date() - timedelta(days=365 * 6), weight_kg=Decimal("21.0")
    )
    factories.make_infusion(child, product)
    data = neuro_post(capd_status="performed")
    for i, v in enumerate((2, 2, 1, 1, 1, 1, 1, 1), start=1):
        data[f"capd_{i}"] = str(v)
    response = nurse_client.post(record_url(child, "capd"), data, **HX)
    assert response.status_code == 200
    assert Observation.objects.get().payload["capd_items"] == [2, 2, 1, 1, 1, 1, 1, 1]
    assert "ICANS grade 3" in response.content.decode()  # CAPD 10 ≥ 9


def test_labs_with_unit_switches(nurse_client, patient, infusion, enqueued):
    data = {
        "client_uuid": str(uuid.uuid4()),
        "observed_at": vitals_post()["observed_at"],
        "crp": "12.5",
        "crp_unit": "mg_dL",
        "creatinine": "97",
        "creatinine_unit": "umol_L",
        "anc_per_uL": "450",
    }
    response = nurse_client.post(record_url(patient, "lab"), data, **HX)
    assert response.status_code == 200
    assert Observation.objects.get().payload == {
        "anc_per_uL": 450,
        "crp_mg_dL": 12.5,
        "creatinine_umol_L": 97,
    }


def test_medication_given(nurse_client, patient, infusion, enqueued):
    data = {
        "client_uuid": str(uuid.uuid4()),
        "observed_at": vitals_post()["observed_at"],
        "drug": "tocilizumab",
        "dose_mg": "496",
        "for_crs_icans": "on",
        "route": "iv",
    }
    assert nurse_client.post(record_url(patient, "medication"), data, **HX).status_code == 200
    assert Observation.objects.get().payload == {
        "drug": "tocilizumab",
        "dose_mg": 496,
        "for_crs_icans": True,
        "route": "iv",
    }


def test_entered_in_error_from_the_list_stays_visible_and_leaves_grading(
    nurse_client, patient, infusion, enqueued
):
    earlier = timezone.localtime(timezone.now() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    nurse_client.post(
        record_url(patient),
        vitals_post(temperature="36.9", sbp="120", dbp="70", hr="80", vasopressors=[], observed_at=earlier),
        **HX,
    )
    nurse_client.post(record_url(patient), vitals_post(), **HX)
    obs = Observation.objects.latest("observed_at")
    url = reverse("monitoring:entered_in_error", args=[patient.pk, obs.pk])
    assert nurse_client.post(url, {"reason": ""}).status_code == 302
    assert Observation.objects.count() == 2  # no reason, nothing changed
    response = nurse_client.post(url, {"reason": "wrong patient"}, follow=True)
    html = response.content.decode()
    assert "Entered in error" in html and "wrong patient" in html and "struck" in html
    assert "CRS grade 0" in html
    assert Observation.objects.filter(status=ObservationStatus.ENTERED_IN_ERROR).count() == 1


def test_amend_page_is_prefilled_and_saves_a_correction(nurse_client, patient, infusion, enqueued):
    nurse_client.post(record_url(patient), vitals_post(), **HX)
    obs = Observation.objects.get()
    url = reverse("monitoring:amend", args=[patient.pk, obs.pk])
    page = nurse_client.get(url).content.decode()
    assert 'value="39.1"' in page and 'value="124"' in page
    data = vitals_post(
        vasopressors=[],
        client_uuid=str(uuid.uuid4()),
        observed_at=timezone.localtime(obs.observed_at).strftime("%Y-%m-%dT%H:%M"),
    )
    no_reason = nurse_client.post(url, data)
    assert no_reason.status_code == 422
    response = nurse_client.post(
        url, {**data, "correction-reason": "pressor was stopped before"}, follow=True
    )
    html = response.content.decode()
    assert "Superseded by a correction" in html and "Corrected value" in html and "CRS grade 2" in html
    conflict = nurse_client.post(
        url, {**data, "client_uuid": str(uuid.uuid4()), "correction-reason": "again"}
    )
    assert conflict.status_code == 409 and "already amended" in conflict.content.decode()


def test_my_patients_lists_active_infusions_of_my_teams(
    nurse_client, patient, infusion, other_patient, product, enqueued
):
    factories.make_infusion(other_patient, product)
    nurse_client.post(record_url(patient), vitals_post(), **HX)
    response = nurse_client.get(reverse("monitoring:my_patients"))
    html = response.content.decode()
    assert patient.mrn in html and other_patient.mrn not in html
    assert (
        "CRS grade 3" in html
        and f"Day {infusion.day_post_infusion()}" in html
        and "X-Background-Poll" in html
    )
    partial = nurse_client.get(
        reverse("monitoring:my_patients") + "?partial=1", HTTP_X_BACKGROUND_POLL="1", **HX
    )
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    assert "Neuro check (ICE/CAPD)" in html and "overdue" in html  # no neuro check for 30 h


def test_my_patients_marks_stale_vitals(nurse_client, patient, infusion):
    html = nurse_client.get(reverse("monitoring:my_patients")).content.decode()
    assert "no vitals yet" in html and "stale" in html


def test_login_required(client, patient):
    response = client.get(reverse("monitoring:patient_detail", args=[patient.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_base_layout_navigation_and_logout_form(nurse_client, patient, infusion):
    html = nurse_client.get(reverse("monitoring:my_patients")).content.decode()
    assert "CAR-T Track" in html and "My patients" in html and "Nurse" in html
    assert re.search(r'<form method="post" action="[^"]*logout', html)


def test_physician_attributes_hypotension_to_another_cause(physician_client, patient, infusion, enqueued):
    physician_client.post(record_url(patient), vitals_post(), **HX)
    obs = Observation.objects.get()
    url = reverse("monitoring:attribute", args=[patient.pk, obs.pk])
    assert physician_client.get(url).status_code == 200
    data = {
        "client_uuid": str(uuid.uuid4()),
        "findings": ["hypotension"],
        "cause": "septic shock",
        "reason": "positive blood cultures",
    }
    response = physician_client.post(url, data, follow=True)
    html = response.content.decode()
    assert "hypotension attributed to septic shock" in html and "CRS grade 1" in html
    amended = Observation.objects.get(supersedes=obs)
    assert amended.payload["hypotension_attributed_to"] == "septic shock"
    assert "positive blood cultures" in amended.reason


def test_a_nurse_cannot_open_the_attribution_page(nurse_client, patient, infusion, enqueued):
    nurse_client.post(record_url(patient), vitals_post(), **HX)
    obs = Observation.objects.get()
    assert nurse_client.get(reverse("monitoring:attribute", args=[patient.pk, obs.pk])).status_code == 403
    page = nurse_client.get(reverse("monitoring:patient_detail", args=[patient.pk])).content.decode()
    assert "Attribute to other cause" not in page


def test_my_patients_query_count_does_not_grow_with_patients(
    nurse_client, team, product, nurse, django_assert_max_num_queries, enqueued
):
    from monitoring import services

    for _ in range(8):
        inf = factories.make_infusion(factories.make_patient(team), product)
        services.observation_record(
            infusion=inf,
            kind="vitals",
            payload={"temp_c": 38.2, "hr": 110},
            observed_at=timezone.now() - timedelta(hours=1),
            recorded_by=nurse,
            client_uuid=uuid.uuid4(),
        )
    with django_assert_max_num_queries(14):
        response = nurse_client.get(reverse("monitoring:my_patients"))
    assert response.content.decode().count("patient-link") == 8


def test_coordinator_sees_the_patient_but_no_entry_forms(client, coordinator, patient, infusion):
    client.force_login(coordinator)
    html = client.get(reverse("monitoring:patient_detail", args=[patient.pk])).content.decode()
    assert "not record observations" in html and 'id="form-vitals"' not in html
    assert client.post(record_url(patient), vitals_post(), **HX).status_code == 403


def test_decimal_slip_is_explained(nurse_client, patient, infusion):
    response = nurse_client.post(record_url(patient), vitals_post(temperature="3.8", vasopressors=[]), **HX)
    html = response.content.decode()
    assert response.status_code == 422
    assert "25–45 °C" in html and "did you mean 38" in html and 'value="3.8"' in html


def test_nurse_records_why_an_overdue_check_was_not_done(nurse_client, patient, infusion):
    from monitoring.models import MissedCheck

    page = nurse_client.get(reverse("monitoring:patient_detail", args=[patient.pk])).content.decode()
    assert "OVERDUE" in page and "Not done — record why" in page
    due = re.search(r'checks/neuro/missed/".*?name="due_at" value="([^"]+)"', page, re.S).group(1)
    url = reverse("monitoring:record_missed_check", args=[patient.pk, "neuro"])
    response = nurse_client.post(url, {"due_at": due, "reason": "patient off the ward in CT"}, follow=True)
    html = response.content.decode()
    assert "Not done: patient off the ward in CT" in html
    missed = MissedCheck.objects.get()
    assert missed.check_type == "neuro" and missed.recorded_by.username == "nurse"
    assert (
        nurse_client.post(
            reverse("monitoring:record_missed_check", args=[patient.pk, "bogus"]),
            {"due_at": due, "reason": "x"},
        ).status_code
        == 404
    )


def test_forms_work_without_javascript(nurse_client, patient, infusion, enqueued):
    bad = nurse_client.post(record_url(patient), vitals_post(temperature="60"))
    assert bad.status_code == 422 and "<html" in bad.content.decode() and "25–45 °C" in bad.content.decode()
    ok = nurse_client.post(record_url(patient), vitals_post(), follow=True)
    assert ok.redirect_chain[-1][1] == 302 and "Vitals saved" in ok.content.decode()
    assert "CRS grade 3" in ok.content.decode()


@pytest.mark.django_db
def test_the_pre_infusion_baseline_ice_is_shown_beside_the_latest(nurse_client, patient, infusion, record):
    """B-1, ICE-6: grades are absolute, and a baseline ICE (e.g. neuropsychiatric lupus) is shown
    beside the current one."""
    ice = {"orientation": 3, "naming": 3, "commands": 1, "writing": 1, "attention": 0}  # 8/10
    record(infusion, "neuro", {"ice": ice}, observed_at=infusion.infused_at - timedelta(days=2))
    record(infusion, "neuro", {"ice": {**ice, "orientation": 1}}, hours_ago=1)  # 6/10 -> ICANS 2
    page = nurse_client.get(reverse("monitoring:patient_detail", args=[patient.pk])).content.decode()
    scores = re.sub(r"\s+", " ", page[page.index('class="neuro-scores"') :][:300])
    assert "Latest: ICE 6/10" in scores
    assert "baseline before infusion: ICE 8/10" in scores


@pytest.mark.django_db
def test_findings_form_records_a_licats_organ_signal_for_a_lupus_patient(
    nurse_client, team, product, record, enqueued
):
    """The nurse marks a new rash for an SLE patient in B-cell aplasia: the LICATS screen turns positive."""
    from monitoring.models import Indication

    patient = factories.make_patient(team, indication=Indication.SLE)
    infusion = factories.make_infusion(patient, product, hours_ago=5 * 24)
    record(infusion, "lab", {"cd19_per_uL": 0}, hours_ago=24)
    page = nurse_client.get(reverse("monitoring:patient_detail", args=[patient.pk])).content.decode()
    assert "Clinical findings" in page and "New inflammatory rash" in page

    empty = nurse_client.post(
        record_url(patient, "clinical_flag"),
        {"client_uuid": str(uuid.uuid4()), "observed_at": vitals_post()["observed_at"]},
        **HX,
    )
    assert "Mark at least one finding present or absent." in empty.content.decode()
    assert not Observation.objects.filter(kind="clinical_flag").exists()

    response = nurse_client.post(
        record_url(patient, "clinical_flag"),
        {
            "client_uuid": str(uuid.uuid4()),
            "observed_at": vitals_post()["observed_at"],
            "new_inflammatory_rash": "present",
            "serious_infection": "absent",
        },
        **HX,
    )
    assert response.status_code == 200, response.content
    obs = Observation.objects.get(kind="clinical_flag")
    assert obs.payload == {"new_inflammatory_rash": True, "serious_infection": False}
    assert obs.evaluations.get().licats_screen_positive is True
    assert "LICATS screen positive" in response.content.decode()

    amend = nurse_client.get(reverse("monitoring:amend", args=[patient.pk, obs.pk])).content.decode()
    assert re.search(r'<option value="present" selected>Present</option>', amend)


@pytest.mark.django_db
def test_the_grade_panel_shows_t_icaht_from_platelet_counts(nurse_client, patient, team, product, record):
    infusion = factories.make_infusion(patient, product, hours_ago=10 * 24)
    for day in range(1, 9):  # platelets < 50 on days 1–8: early T-ICAHT grade 2, window still open
        record(
            infusion, "lab", {"platelets_10e9_L": 35}, observed_at=infusion.infused_at + timedelta(days=day)
        )
    page = nurse_client.get(reverse("monitoring:patient_detail", args=[patient.pk])).content.decode()
    assert "Early T-ICAHT (platelets) grade 2 (provisional)" in page
    assert "platelets &lt; 50 ×10⁹/L for 8 days" in page


def test_a_tablet_save_parses_its_payload_through_the_core_once(
    nurse_client, patient, infusion, enqueued, monkeypatch
):
    """The form hands the payload to the service, which parses it once (hard limits, soft limits and
    the grade all read that one parse)."""
    import carttrack

    calls: list[str] = []
    real = carttrack.parse_observation

    def counting(data, *args, **kwargs):
        calls.append(data["kind"])
        return real(data, *args, **kwargs)

    monkeypatch.setattr(carttrack, "parse_observation", counting)
    response = nurse_client.post(record_url(patient), vitals_post(temperature="38.4"), **HX)
    assert response.status_code == 200 and Observation.objects.count() == 1
    assert calls == ["vitals"]
