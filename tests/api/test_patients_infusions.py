"""Patients and infusions over the API: scoping to my teams, management capability, closing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Infusion, InfusionStatus, Patient

PATIENTS = reverse("api-patient-list")
INFUSIONS = reverse("api-infusion-list")


def patient_url(pk):
    return reverse("api-patient-detail", args=[pk])


def infusion_url(pk):
    return reverse("api-infusion-detail", args=[pk])


def close_url(pk):
    return reverse("api-infusion-close", args=[pk])


def new_patient_body(team, **overrides):
    body = {
        "mrn": "MRN-API-1",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth": "1985-03-04",
        "sex": "F",
        "weight_kg": "58.5",
        "indication": "lupus_nephritis",
        "care_team": team.pk,
    }
    body.update(overrides)
    return body


@pytest.mark.django_db
class TestPatients:
    def test_list_shows_only_my_teams(self, api, patient, other_patient):
        response = api.get(PATIENTS)
        assert response.status_code == 200
        assert [p["id"] for p in response.json()["results"]] == [patient.pk]

    def test_retrieve_other_team_is_404(self, api, patient, other_patient):
        assert api.get(patient_url(patient.pk)).json()["mrn"] == patient.mrn
        assert api.get(patient_url(other_patient.pk)).status_code == 404
        assert api.get(patient_url(10**17)).status_code == 404

    def test_coordinator_registers_a_patient(self, coordinator_api, team):
        response = coordinator_api.post(PATIENTS, new_patient_body(team), format="json")
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["indication_category"] == "autoimmune"
        assert Patient.objects.get(pk=body["id"]).care_team == team

    def test_nurse_cannot_register_403(self, api, team):
        response = api.post(PATIENTS, new_patient_body(team), format="json")
        assert response.status_code == 403
        assert not Patient.objects.filter(mrn="MRN-API-1").exists()

    def test_cannot_register_into_another_team(self, coordinator_api, other_team):
        response = coordinator_api.post(PATIENTS, new_patient_body(other_team), format="json")
        assert response.status_code == 400
        assert "care_team" in response.json()

    @pytest.mark.parametrize(
        "change, field",
        [
            ({"weight_kg": "0.2"}, "weight_kg"),
            ({"weight_kg": "999"}, "weight_kg"),
            ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
            ({"indication": "flu"}, "indication"),
            ({"mrn": ""}, "mrn"),
            ({"given_name": "A\x00"}, "given_name"),
        ],
    )
    def test_bad_patient_fields_are_400(self, coordinator_api, team, change, field):
        response = coordinator_api.post(PATIENTS, new_patient_body(team, **change), format="json")
        assert response.status_code == 400
        assert field in response.json()

    def test_duplicate_mrn_is_400(self, coordinator_api, team, patient):
        response = coordinator_api.post(PATIENTS, new_patient_body(team, mrn=patient.mrn), format="json")
        assert response.status_code == 400
        assert "mrn" in response.json()

    def test_update_keeps_the_team(self, coordinator_api, patient, other_team):
        response = coordinator_api.patch(
            patient_url(patient.pk), {"weight_kg": "64.0", "care_team": other_team.pk}, format="json"
        )
        assert response.status_code == 200, response.content
        patient.refresh_from_db()
        assert patient.weight_kg == 64
        assert patient.care_team_id != other_team.pk

    def test_nurse_cannot_update_403(self, api, patient):
        assert api.patch(patient_url(patient.pk), {"weight_kg": "64.0"}, format="json").status_code == 403


@pytest.mark.django_db
class TestInfusions:
    def test_list_by_patient_and_scoped(self, api, infusion, other_patient, product):
        from tests import factories

        factories.make_infusion(other_patient, product)
        response = api.get(INFUSIONS, {"patient": infusion.patient_id})
        assert [i["id"] for i in response.json()["results"]] == [infusion.pk]
        assert response.json()["results"][0]["day_post_infusion"] >= 1
        assert api.get(INFUSIONS).json()["count"] == 1
        assert api.get(INFUSIONS, {"patient": other_patient.pk}).json()["count"] == 0

    def test_retrieve_other_team_is_404(self, api, other_patient, product):
        from tests import factories

        theirs = factories.make_infusion(other_patient, product)
        assert api.get(infusion_url(theirs.pk)).status_code == 404

    def test_create_and_one_active_per_patient(self, coordinator_api, patient, product):
        body = {"patient": patient.pk, "product": product.pk, "infused_at": timezone.now().isoformat()}
        response = coordinator_api.post(INFUSIONS, body, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["status"] == "active"
        again = coordinator_api.post(INFUSIONS, body, format="json")
        assert again.status_code == 409
        assert Infusion.objects.filter(patient=patient).count() == 1

    def test_nurse_cannot_create_403(self, api, patient, product):
        body = {"patient": patient.pk, "product": product.pk, "infused_at": timezone.now().isoformat()}
        assert api.post(INFUSIONS, body, format="json").status_code == 403

    def test_create_for_other_team_patient_is_400(self, coordinator_api, other_patient, product):
        body = {"patient": other_patient.pk, "product": product.pk, "infused_at": timezone.now().isoformat()}
        response = coordinator_api.post(INFUSIONS, body, format="json")
        assert response.status_code == 400
        assert "patient" in response.json()

    def test_close_with_reason(self, coordinator_api, api, infusion):
        assert api.post(close_url(infusion.pk), {"close_reason": "death"}, format="json").status_code == 403
        response = coordinator_api.post(
            close_url(infusion.pk), {"close_reason": "monitoring_complete"}, format="json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "closed"
        assert response.json()["close_reason"] == "monitoring_complete"
        infusion.refresh_from_db()
        assert infusion.status == InfusionStatus.CLOSED and infusion.closed_at is not None
        again = coordinator_api.post(close_url(infusion.pk), {"close_reason": "death"}, format="json")
        assert again.status_code == 409

    def test_close_needs_a_valid_reason_and_time(self, coordinator_api, infusion):
        assert "close_reason" in coordinator_api.post(close_url(infusion.pk), {}, format="json").json()
        before = (infusion.infused_at - timedelta(days=1)).isoformat()
        response = coordinator_api.post(
            close_url(infusion.pk), {"close_reason": "death", "closed_at": before}, format="json"
        )
        assert response.status_code == 400
        assert "closed_at" in response.json()
