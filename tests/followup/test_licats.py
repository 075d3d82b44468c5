"""The physician marks SLEDAI-2K descriptors of a recorded visit as part of a LICATS episode (D-5,
SLEDAI-10, RELAPSE-2): they stop scoring, the flare they made goes, and the mark is a correction with
the physician's name and reason (the API's correction path, ``observation_amend``)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Role
from monitoring.models import ObservationStatus
from monitoring.services import LICATS_PHYSICIAN_ONLY
from tests import factories

from .conftest import sledai_items

DAY = 24


@pytest.fixture
def sledai_with_new_arthritis(lupus_course, record_fu):
    record_fu(lupus_course, "sledai", {"items": sledai_items(), "pga": 0.2}, hours=-120)
    record_fu(lupus_course, "medication_status", {"drugs": []}, hours=-120)
    return record_fu(
        lupus_course, "sledai", {"items": sledai_items("arthritis", "rash"), "pga": 1.0}, hours=14 * DAY
    )


def licats_url(course, observation) -> str:
    return reverse("followup:licats", args=[course.patient_id, course.pk, observation.pk])


def test_marking_licats_takes_the_descriptors_out_of_sledai_and_ends_the_flare(
    client, rheumatologist, lupus_course, sledai_with_new_arthritis
):
    obs, _evaluation, _created = sledai_with_new_arthritis
    client.force_login(rheumatologist)
    page_url = reverse("followup:patient", args=[lupus_course.patient_id])
    before = client.get(page_url).content.decode()
    assert "Mark LICATS" in before and "<strong>yes</strong>" in before  # a SLEDAI-2K flare
    form = client.get(licats_url(lupus_course, obs)).content.decode()
    assert "Arthritis" in form and "Rash" in form

    reason = "Arthritis and rash in the organs affected before CAR-T, day 14, B-cell aplasia."
    response = client.post(
        licats_url(lupus_course, obs), {"descriptors": ["arthritis", "rash"], "reason": reason}
    )
    assert response.status_code == 302

    correction = lupus_course.observations.get(supersedes=obs)
    assert correction.status == ObservationStatus.AMENDED
    assert correction.payload["licats"] == ["arthritis", "rash"]
    assert correction.recorded_by == rheumatologist
    assert reason in correction.reason and "LICATS episode (D-5): arthritis, rash" in (correction.reason)
    after = client.get(page_url).content.decode()
    assert "none since infusion" in after  # no flare any more
    assert "not scored (D-5)" in after  # the driver says why


def test_the_reason_is_required_and_what_was_ticked_is_kept(
    client, rheumatologist, lupus_course, sledai_with_new_arthritis
):
    obs, _evaluation, _created = sledai_with_new_arthritis
    client.force_login(rheumatologist)
    response = client.post(licats_url(lupus_course, obs), {"descriptors": ["rash"], "reason": ""})
    assert response.status_code == 422
    html = response.content.decode()
    assert "Give the reason: it is kept with the correction." in html
    assert 'value="rash" id="id_descriptors_1" checked' in html  # what was ticked is kept
    assert not lupus_course.observations.filter(supersedes=obs).exists()


def test_only_a_physician_marks_licats(client, rheum_team, lupus_course, sledai_with_new_arthritis):
    obs, _evaluation, _created = sledai_with_new_arthritis
    nurse = factories.make_user(Role.NURSE, rheum_team)
    client.force_login(nurse)
    page = client.get(reverse("followup:patient", args=[lupus_course.patient_id])).content.decode()
    assert "Mark LICATS" not in page
    response = client.post(licats_url(lupus_course, obs), {"descriptors": ["rash"], "reason": "rash"})
    assert response.status_code == 403
    assert LICATS_PHYSICIAN_ONLY in response.content.decode()
    assert not lupus_course.observations.filter(supersedes=obs).exists()


def _api(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_the_api_refuses_a_nurse_s_licats_mark_with_the_screen_s_message(
    rheum_team, lupus_course, sledai_with_new_arthritis
):
    obs, _evaluation, _created = sledai_with_new_arthritis
    nurse = _api(factories.make_user(Role.NURSE, rheum_team))
    marked = {**obs.payload, "licats": ["rash"]}
    amend = nurse.post(
        f"/api/observations/{obs.pk}/amend/", {"payload": marked, "reason": "rash"}, format="json"
    )
    assert amend.status_code == 403 and amend.json()["detail"] == LICATS_PHYSICIAN_ONLY
    recorded = nurse.post(
        "/api/observations/",
        {
            "infusion": lupus_course.pk,
            "kind": "sledai",
            "payload": marked,
            "observed_at": (lupus_course.infused_at + timedelta(days=20)).isoformat(),
            "client_uuid": str(uuid.uuid4()),
        },
        format="json",
    )
    assert recorded.status_code == 403 and recorded.json()["detail"] == LICATS_PHYSICIAN_ONLY
    assert not lupus_course.observations.filter(supersedes=obs).exists()
    assert lupus_course.observations.filter(kind="sledai").count() == 2
    # the nurse may still correct the visit itself when the mark stays as it is
    pga = nurse.post(
        f"/api/observations/{obs.pk}/amend/",
        {"payload": {**obs.payload, "pga": 1.2}, "reason": "PGA typo"},
        format="json",
    )
    assert pga.status_code == 201


def test_a_physician_marks_licats_through_the_api(rheumatologist, lupus_course, sledai_with_new_arthritis):
    obs, _evaluation, _created = sledai_with_new_arthritis
    response = _api(rheumatologist).post(
        f"/api/observations/{obs.pk}/amend/",
        {"payload": {**obs.payload, "licats": ["rash"]}, "reason": "rash in a LICATS episode"},
        format="json",
    )
    assert response.status_code == 201
    assert lupus_course.observations.get(supersedes=obs).payload["licats"] == ["rash"]
