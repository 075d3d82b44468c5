"""IVIG given at a follow-up visit of a course whose acute monitoring closed as complete (VISIT-2,
BCELL-9): the course goes on into follow-up, so the one-off IVIG dose is recorded on it through every
entry path (the visit form, the API, the ward tablet, corrections) by the one rule of
``monitoring.services``, it is shown on the follow-up page, and the IgG checks follow it. The acute
records (vitals, neuro checks, CRS drugs) are still refused there, and a course closed for another
reason refuses the IVIG too."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from followup.models import Finding, FindingKind, TaskStatus
from monitoring import services
from monitoring.models import Observation, ObservationKind

from .conftest import HOUR, api_post, make_course, visit_post

MONTH_3 = 2160.0  # hours
FOUR_WEEKS = 28 * 24.0
IVIG_30G = {"drug": "ivig", "dose_mg": 30000, "route": "iv", "for_crs_icans": False}
VITALS = {"temp_c": 39.4, "hr": 128, "sbp": 82, "dbp": 45, "rr": 24, "spo2": 93, "o2_device": "room_air"}


def _igg_tasks(course):
    return list(
        Finding.objects.filter(infusion=course, kind=FindingKind.IGG_CHECK_DUE, task_status=TaskStatus.OPEN)
    )


@pytest.fixture
def rheum_client(client, rheumatologist, findings_inline):
    client.force_login(rheumatologist)
    return client


def test_ivig_given_at_a_month_3_visit_is_stored_shown_and_brings_the_igg_check_to_4_weeks(
    rheum_client, record_fu, lupus_patient, django_capture_on_commit_callbacks
):
    course = make_course(lupus_patient, months_ago=5)  # acute monitoring closed as complete at day 28
    record_fu(course, "lab", {"igg_mg_dL": 350}, hours=28 * 24)
    assert _igg_tasks(course) == []  # the day-28 check is done; without IVIG the next is due at day 118
    form = rheum_client.get(reverse("followup:visit", args=[lupus_patient.pk, course.pk])).content.decode()
    assert "IVIG given at this visit (g)" in form
    with django_capture_on_commit_callbacks(execute=True):
        response = rheum_client.post(
            reverse("followup:visit", args=[lupus_patient.pk, course.pk]),
            visit_post(course, MONTH_3, client_uuid=str(uuid.uuid4()), lab_igg_mg_dL="320", ivig_g="30"),
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    dose = Observation.objects.get(infusion=course, kind=ObservationKind.MEDICATION)
    assert dose.payload == IVIG_30G
    assert dose.recorded_by.username == "rheumatologist"
    # BCELL-9: while IVIG is given the next IgG check is due 4 weeks after the last (month 3 + 28 d),
    # not 3 months after it (month 6, still ahead of this 5-month-old course: no task would be open).
    (task,) = _igg_tasks(course)
    assert task.t_hours == pytest.approx(course.hours_after(dose.observed_at) + FOUR_WEEKS)
    assert "every 4 weeks while IVIG is given" in task.text
    page = rheum_client.get(reverse("followup:patient", args=[lupus_patient.pk])).content.decode()
    assert "IVIG 30 g" in page and 'id="ivig-doses"' in page
    assert "every 4 weeks while IVIG is given" in page  # the open task names the rule


def test_ivig_through_the_api_on_a_closed_course_acute_records_still_refused(rheum_api, lupus_patient):
    course = make_course(lupus_patient, months_ago=4)
    ok = api_post(rheum_api, course, "medication", IVIG_30G, MONTH_3)
    assert ok.status_code == 201, ok.content
    assert ok.json()["payload"]["dose_mg"] == 30000
    refused = {
        "vitals that would page": ("vitals", VITALS),
        "a CRS drug": ("medication", {"drug": "tocilizumab", "dose_mg": 400}),
        "a steroid": ("medication", {"drug": "dexamethasone", "dose_mg": 10}),
        "a neuro check": ("neuro", {"ice": 6}),
    }
    for what, (kind, payload) in refused.items():
        response = api_post(rheum_api, course, kind, payload, MONTH_3 + 1)
        assert response.status_code == 400, what
        assert "no observations can be recorded" in response.json()["infusion"][0], what
    assert Observation.objects.filter(infusion=course).count() == 1


def test_a_course_closed_for_another_reason_refuses_ivig(record_fu, lupus_patient):
    course = make_course(lupus_patient, months_ago=4)
    course.close_reason = "transferred"
    course.save(update_fields=["close_reason"])
    with pytest.raises(ValidationError) as exc:
        record_fu(course, "medication", IVIG_30G, hours=MONTH_3)
    assert "Transferred" in exc.value.message_dict["infusion"][0]


def test_the_ward_tablet_records_ivig_on_a_closed_course_through_the_same_rule(
    client, rheumatologist, findings_inline, lupus_patient
):
    course = make_course(lupus_patient, months_ago=4)
    client.force_login(rheumatologist)
    at = timezone.localtime(course.infused_at + HOUR * MONTH_3).strftime("%Y-%m-%dT%H:%M")
    url = reverse("monitoring:record", args=[lupus_patient.pk, "medication"])
    base = {"observed_at": at, "dose_mg": "30000", "route": "iv"}
    ok = client.post(url, {**base, "client_uuid": str(uuid.uuid4()), "drug": "ivig"}, HTTP_HX_REQUEST="true")
    assert ok.status_code == 200, ok.content.decode()[:1500]
    refused = client.post(
        url,
        {**base, "client_uuid": str(uuid.uuid4()), "drug": "tocilizumab", "dose_mg": "400"},
        HTTP_HX_REQUEST="true",
    )
    assert refused.status_code == 422 and "no observations can be recorded" in refused.content.decode()
    assert [o.payload["drug"] for o in Observation.objects.filter(infusion=course)] == ["ivig"]


def test_an_ivig_dose_is_corrected_on_a_closed_course_but_not_into_an_acute_drug(
    record_fu, rheumatologist, lupus_patient, django_capture_on_commit_callbacks
):
    course = make_course(lupus_patient, months_ago=5)
    record_fu(course, "lab", {"igg_mg_dL": 350}, hours=30 * 24)
    dose, _ev, _ = record_fu(course, "medication", {**IVIG_30G, "dose_mg": 3000}, hours=MONTH_3)
    assert len(_igg_tasks(course)) == 1  # 4-weekly while IVIG is given
    amended, _ev = services.observation_amend(
        original=dose, payload=IVIG_30G, reason="3 g typed for 30 g", user=rheumatologist
    )
    assert amended.payload["dose_mg"] == 30000
    with pytest.raises(ValidationError) as exc:
        services.observation_amend(
            original=amended,
            payload={"drug": "tocilizumab", "dose_mg": 400},
            reason="wrong drug",
            user=rheumatologist,
        )
    assert "no observations can be recorded or corrected" in exc.value.message_dict["infusion"][0]
    # Voiding the dose is a correction the follow-up allows: the IgG checks go back to 3-monthly, so
    # the check due 3 months after day 30 (which the IVIG had replaced) is a task again.
    with django_capture_on_commit_callbacks(execute=True):  # the follow-up tasks are revised after commit
        services.observation_mark_entered_in_error(original=amended, reason="not given", user=rheumatologist)
    (task,) = _igg_tasks(course)
    assert "IgG check due day 121.3 (BCELL-6" in task.text


def test_vitals_recorded_during_the_acute_weeks_cannot_be_voided_after_closing(
    record_fu, rheumatologist, lupus_patient
):
    course = make_course(lupus_patient, months_ago=4, closed=False)
    vitals, _ev, _ = record_fu(course, "vitals", VITALS, hours=24)
    make_closed = type(course).objects.filter(pk=course.pk)
    make_closed.update(status="closed", close_reason="monitoring_complete", closed_at=timezone.now())
    with pytest.raises(ValidationError) as exc:
        services.observation_mark_entered_in_error(
            original=vitals, reason="wrong patient", user=rheumatologist
        )
    assert "infusion" in exc.value.message_dict


def test_an_ivig_dose_beyond_the_range_is_refused_at_the_grams_field_in_grams_and_mg(
    rheum_client, lupus_patient
):
    """The form takes grams, the core's range is in mg (INPUT-11): the message sits at the IVIG field
    and says both, so 150 typed for 15 g is understood; nothing of the visit is saved."""
    course = make_course(lupus_patient, months_ago=5)
    response = rheum_client.post(
        reverse("followup:visit", args=[lupus_patient.pk, course.pk]),
        visit_post(course, MONTH_3, client_uuid=str(uuid.uuid4()), ivig_g="150"),
    )
    assert response.status_code == 422
    html = response.content.decode()
    field = html.split('id="id_ivig_g"')[0].rsplit("<label", 1)[1] + html.split('id="id_ivig_g"')[1][:600]
    assert "150 g is 150000 mg" in field and "100000" in field
    assert not Observation.objects.filter(infusion=course).exists()
