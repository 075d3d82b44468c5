"""No patient name, MRN or date of birth in logs or in the messages handed to the broker."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from celery.signals import before_task_publish
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert
from alerts.services import alert_process_evaluation, dispatch_due_steps
from audit.logging import RedactPatientIdentifiers
from tests import factories

from .conftest import password_login, verified_client


def identifiers(patient) -> list[str]:
    dob = patient.date_of_birth
    return [
        patient.mrn,
        patient.family_name,
        patient.given_name + " " + patient.family_name,
        dob.isoformat(),
        dob.strftime("%d/%m/%Y"),
        dob.strftime("%d.%m.%Y"),
    ]


@pytest.fixture
def published():
    """Every task message body and headers as handed to the broker."""
    messages: list[str] = []

    def capture(sender=None, body=None, headers=None, **kwargs):
        messages.append(repr(body) + repr(headers))

    before_task_publish.connect(capture, weak=False)
    yield messages
    before_task_publish.disconnect(capture)


@pytest.mark.django_db
def test_recording_alerting_and_failed_login_leak_nothing(
    caplog, published, nurse, physician, team, product, django_capture_on_commit_callbacks
):
    patient = factories.make_patient(team, given_name="Ingrid", family_name="Zanderberg", mrn="MRN735911")
    infusion = factories.make_infusion(patient, product)
    caplog.set_level(logging.DEBUG)
    client = verified_client(nurse)
    url = reverse("monitoring:record", args=[patient.pk, "vitals"])
    assert client.get(reverse("monitoring:patient_detail", args=[patient.pk])).status_code == 200
    values = {
        "client_uuid": "6f1b2a43-8d4b-4a6e-9a55-0c5c2c1d9e01",
        "temperature": "39.2",
        "temp_unit": "C",
        "hr": "118",
        "sbp": "86",
        "dbp": "50",
        "rr": "24",
        "spo2": "93",
        "o2_device": "nasal_cannula",
        "o2_flow_l_min": "4",
        "observed_at": (timezone.localtime() - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M"),
        "action": "save",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, values)
    assert response.status_code < 500
    from monitoring.models import GradeEvaluation, Observation

    assert Observation.objects.filter(infusion=infusion, source="tablet").exists(), response.content[:2000]
    evaluation = GradeEvaluation.objects.filter(infusion=infusion).latest()
    assert evaluation.crs_grade and evaluation.crs_grade >= 1
    assert published, "the alert task was handed to the broker after commit"

    alert_process_evaluation(evaluation_id=evaluation.pk)
    dispatch_due_steps(now=timezone.now() + timedelta(hours=2))
    assert Alert.objects.filter(patient=patient).exists()

    password_login(Client(REMOTE_ADDR="10.9.9.9"), "physician", "wrong-password")
    verified_client(physician).get(reverse("monitoring:patient_detail", args=[patient.pk]))

    logged = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''} {getattr(r, 'args', '')}" for r in caplog.records
    )
    assert caplog.records, "the flow logs something (else this test proves nothing)"
    for secret in identifiers(patient):
        assert secret not in logged, f"{secret!r} found in logs"
        for message in published:
            assert secret not in message, f"{secret!r} found in a broker message"


def test_redaction_filter_removes_mrn_shaped_text():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "patient %s failed", ("Doe, Jo (MRN 735911)",), None
    )
    assert RedactPatientIdentifiers().filter(record)
    assert "735911" not in record.getMessage() and "[redacted]" in record.getMessage()
