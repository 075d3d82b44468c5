"""Follow-up fixtures: a rheumatology team with a lupus patient whose CAR-T course was infused
months ago (acute monitoring closed as complete), and helpers that record through the services."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from alerts import tasks as alert_tasks
from carttrack.followup.sledai import SLEDAI_CODES
from config.celery import app as celery_app
from followup import tasks
from monitoring import services
from monitoring.models import CloseReason, Indication, Infusion, InfusionStatus
from tests import factories

HOUR = timedelta(hours=1)
MONTH = timedelta(hours=730.5)


def sledai_items(*present: str) -> dict[str, bool]:
    return {code: code in present for code in SLEDAI_CODES}


def visit_post(course, hours, **extra):
    """The visit form's POST data of a quiet SLE visit ``hours`` after the infusion (wall time)."""
    data = {
        "observed_at": timezone.localtime(course.infused_at + HOUR * hours).strftime("%Y-%m-%dT%H:%M"),
        "meds_recorded": "on",
        "pga": "0.2",
        "pga_recorded": "on",
    }
    for code in sledai_items():
        data[f"sledai_{code}"] = "no"
    data.update(extra)
    return data


def api_post(api, course, kind, payload, hours):
    """POST /api/observations/ of one observation ``hours`` after the course's infusion."""
    return api.post(
        "/api/observations/",
        {
            "infusion": course.pk,
            "kind": kind,
            "payload": payload,
            "observed_at": (course.infused_at + HOUR * hours).isoformat(),
            "client_uuid": str(uuid.uuid4()),
        },
        format="json",
    )


@pytest.fixture
def rheum_api(rheumatologist, findings_inline):
    client = APIClient()
    client.force_authenticate(rheumatologist)
    return client


@pytest.fixture
def rheum_team(db):
    return factories.make_team("Rheumatology CAR-T", time_zone="Europe/Berlin")


@pytest.fixture
def rheumatologist(rheum_team):
    return factories.make_user(Role.PHYSICIAN, rheum_team, username="rheumatologist")


@pytest.fixture
def fu_coordinator(rheum_team):
    return factories.make_user(Role.COORDINATOR, rheum_team, username="fu_coordinator")


@pytest.fixture
def lupus_patient(rheum_team):
    return factories.make_patient(rheum_team, indication=Indication.SLE, sex="F", given_name="Lena")


def make_course(patient, *, months_ago: float, closed: bool = True) -> Infusion:
    infusion = factories.make_infusion(
        patient,
        factories.make_product(f"CD19 CAR-T {patient.pk}-{months_ago}"),
        infused_at=timezone.now() - MONTH * months_ago,
    )
    if closed:
        Infusion.objects.filter(pk=infusion.pk).update(
            status=InfusionStatus.CLOSED,
            close_reason=CloseReason.MONITORING_COMPLETE,
            closed_at=infusion.infused_at + timedelta(days=28),
        )
        infusion.refresh_from_db()
    return infusion


@pytest.fixture
def lupus_course(lupus_patient):
    return make_course(lupus_patient, months_ago=3.2)


@pytest.fixture
def findings_inline(monkeypatch):
    """Follow-up findings are processed in this process (no broker), toxicity alerts are not.

    The follow-up service sends its task by name (``celery_app.send_task``): the task so sent runs
    here, at once, as a worker would run it; any other task is sent as usual."""
    send_task = celery_app.send_task

    def run_findings_here(name, args=None, kwargs=None, **options):
        if name == tasks.process_findings.name:
            return tasks.process_findings(*(args or ()), **(kwargs or {}))
        return send_task(name, args, kwargs, **options)

    monkeypatch.setattr(celery_app, "send_task", run_findings_here)
    monkeypatch.setattr(alert_tasks.process_evaluation, "delay", lambda evaluation_id: None)


@pytest.fixture
def record_fu(rheumatologist, findings_inline, django_capture_on_commit_callbacks):
    """Record an observation ``hours`` after the infusion as the rheumatologist; the after-commit
    work runs, so the alerts and tasks exist when it returns."""

    def record(infusion, kind, payload, *, hours, user=None):
        with django_capture_on_commit_callbacks(execute=True):
            return services.observation_record(
                infusion=infusion,
                kind=kind,
                payload=payload,
                observed_at=infusion.infused_at + HOUR * hours,
                recorded_by=user or rheumatologist,
            )

    return record
