"""The follow-up scan with a real worker and its scheduler (VISIT-8): a lymphoma course seen only
through its toxicity weeks, 80 days after the infusion, gets its overdue month-2 visit and its day-28
IgG check as coordinator tasks, and the coordinator's routine alert, from the beat task alone."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from alerts.models import Alert, Syndrome
from followup.models import Finding, FindingKind, TaskStatus
from monitoring import services
from monitoring.models import CloseReason, Indication, Infusion, InfusionStatus, ObservationKind
from tests import factories

from .conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

VITALS = {"temp_c": 36.8, "hr": 76, "sbp": 122, "dbp": 70, "rr": 14, "spo2": 98}


def _toxicity_weeks_course(team, nurse):
    patient = factories.make_patient(team, indication=Indication.LBCL)
    course = factories.make_infusion(patient, infused_at=timezone.now() - timedelta(days=80))
    records = [(-5, ObservationKind.LAB, {"crp_mg_L": 3, "anc_per_uL": 2900})]
    records += [(day, ObservationKind.VITALS, VITALS) for day in (0, 7, 14)]
    records += [(28, ObservationKind.LAB, {"crp_mg_L": 2, "anc_per_uL": 1700})]
    for day, kind, payload in records:
        services.observation_record(
            infusion=course,
            kind=kind,
            payload=payload,
            observed_at=course.infused_at + timedelta(days=day, hours=2),
            recorded_by=nurse,
            client_uuid=uuid.uuid4(),
        )
    Infusion.objects.filter(pk=course.pk).update(
        status=InfusionStatus.CLOSED,
        close_reason=CloseReason.MONITORING_COMPLETE,
        closed_at=course.infused_at + timedelta(days=28),
    )
    return course


def test_the_beat_scan_gives_a_toxicity_weeks_course_its_month_2_visit_and_igg_check(start_worker, ward):
    factories.make_user(Role.COORDINATOR, ward["team"], username="int_fu_coordinator")
    course = _toxicity_weeks_course(ward["team"], ward["nurse"])
    assert not Finding.objects.filter(infusion=course).exists()

    start_worker("w1", FOLLOWUP_SCAN_SECONDS=1)

    visit = wait_for(
        lambda: Finding.objects.filter(
            infusion=course, kind=FindingKind.VISIT_OVERDUE, subject="month_2"
        ).first(),
        60,
    )
    assert visit.task_status == TaskStatus.OPEN and visit.recipient == "coordinator"
    igg = wait_for(
        lambda: Finding.objects.filter(infusion=course, kind=FindingKind.IGG_CHECK_DUE).first(), 10
    )
    assert igg.text.startswith("IgG check due day 28")
    # The toxicity weeks' records document day −5 to day 28: no task for those visits.
    assert set(
        Finding.objects.filter(infusion=course, kind=FindingKind.VISIT_OVERDUE).values_list(
            "subject", flat=True
        )
    ) == {"month_2"}
    alert = wait_for(
        lambda: Alert.objects.filter(infusion=course, syndrome=Syndrome.OVERDUE_VISIT).first(), 10
    )
    assert alert.urgency == "routine" and alert.policy_snapshot["steps"][0]["role"] == "coordinator"
