"""Malformed or oversized requests are 400/413, never 500; error pages leak no trace or patient data."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from monitoring.models import Observation

from .conftest import verified_client

HUGE = 3_000_000  # above DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB)


def _no_trace(content: bytes) -> None:
    for marker in (b"Traceback", b'File "', b"django/", b"Exception Value", b"Request Method"):
        assert marker not in content


@pytest.mark.django_db
class TestOversized:
    def test_oversized_form_is_413(self, nurse, patient, infusion):
        client = verified_client(nurse)
        url = reverse("monitoring:record", args=[patient.pk, "vitals"])
        response = client.post(url, {"notes": "x" * HUGE})
        assert response.status_code == 413
        assert b"too large" in response.content
        assert not Observation.objects.exists()

    def test_oversized_api_body_is_413_json(self, nurse):
        client = verified_client(nurse)
        response = client.post("/api/observations/", "{" + " " * HUGE + "}", content_type="application/json")
        assert response.status_code == 413 and "too large" in response.json()["detail"]

    def test_lying_content_length_is_400(self, nurse):
        client = verified_client(nurse)
        response = client.post(
            "/api/observations/", "{}", content_type="application/json", CONTENT_LENGTH="-5"
        )
        assert response.status_code == 400

    def test_too_many_form_fields_is_400(self, nurse, patient, infusion):
        client = verified_client(nurse)
        body = "&".join(f"f{i}=1" for i in range(1200))
        response = client.post(
            reverse("monitoring:record", args=[patient.pk, "vitals"]),
            body,
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 400
        _no_trace(response.content)


@pytest.mark.django_db
class TestMalformed:
    @pytest.mark.parametrize("body", ["{", "[1,2", "null", '"text"', '{"payload": NaN}', "\udcff"])
    def test_malformed_json_to_the_api_is_400(self, nurse, body):
        client = verified_client(nurse)
        response = client.post(
            "/api/observations/", body.encode("utf-8", "surrogatepass"), content_type="application/json"
        )
        assert response.status_code == 400, response.content

    @pytest.mark.parametrize(
        "values",
        [
            {"temp_c": "abc", "hr": "", "sbp": "1e309"},
            {"temp_c": "NaN", "hr": "-inf", "spo2": "120"},
            {"temp_c": "38.5", "hr": "9" * 400, "o2_device": "<script>"},
            {"observed_at": "2026-02-30T99:99", "client_uuid": "not-a-uuid"},
            {"vasopressors": ["'; DROP TABLE monitoring_observation; --"]},
        ],
    )
    def test_garbage_in_the_vitals_form_is_refused_with_the_form_not_saved(
        self, nurse, patient, infusion, values
    ):
        client = verified_client(nurse)
        response = client.post(reverse("monitoring:record", args=[patient.pk, "vitals"]), values)
        assert 400 <= response.status_code < 500 or response.status_code == 200
        _no_trace(response.content)
        assert not Observation.objects.exists()

    def test_non_numeric_ids_in_the_url_are_404(self, nurse):
        client = verified_client(nurse)
        assert client.get("/patients/abc/").status_code == 404
        assert client.get("/api/patients/99999999999999999999999/").status_code == 404


@pytest.mark.django_db
class TestErrorPages:
    def test_404_is_the_friendly_page(self, nurse, other_patient):
        response = verified_client(nurse).get(reverse("monitoring:patient_detail", args=[other_patient.pk]))
        assert response.status_code == 404
        assert b"not in one of your care teams" in response.content
        assert other_patient.mrn.encode() not in response.content
        _no_trace(response.content)

    def test_500_shows_no_trace_and_no_patient_data(self, nurse, patient, settings):
        settings.ROOT_URLCONF = "tests.security.boom_urls"
        client = Client(raise_request_exception=False)
        client.force_login(nurse)
        response = client.get(f"/boom/{patient.pk}/")
        assert response.status_code == 500
        assert b"Something went wrong" in response.content
        for secret in (patient.mrn, patient.family_name, "1962-05-01"):
            assert secret.encode() not in response.content
        _no_trace(response.content)

    def test_csrf_failure_page_is_friendly(self, nurse, patient, infusion):
        client = Client(enforce_csrf_checks=True)
        client.force_login(nurse)
        response = client.post(reverse("monitoring:record", args=[patient.pk, "vitals"]), {"temp_c": "38"})
        assert response.status_code == 403
        assert b"Form expired" in response.content


@pytest.mark.django_db
class TestForgedCookies:
    def test_a_session_cookie_with_a_nul_byte_is_treated_as_signed_out(self, nurse):
        client = Client(HTTP_COOKIE="sessionid=abcdefghij\x00klmnopqrstuvwxyz")
        response = client.post("/api/patients/", {"mrn": "0"}, content_type="application/json")
        assert response.status_code in (401, 403)
        _no_trace(response.content)

    def test_a_signed_in_nurse_with_a_nul_csrf_cookie_still_reaches_her_page(self, nurse):
        client = verified_client(nurse)
        session = client.cookies["sessionid"].value
        cookie = f"sessionid={session}; csrftoken=x\x00y"
        response = client.get(reverse("monitoring:my_patients"), HTTP_COOKIE=cookie)
        assert response.status_code == 200
