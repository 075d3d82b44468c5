"""A course seen only through its toxicity weeks is still followed (VISIT-8): from day 30 the scan
gives it its overdue visits and its IgG check as coordinator tasks, and a record entered late that
documents the visit closes its task at the next scan."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from alerts.models import Alert, Syndrome
from followup import services
from followup.models import Finding, FindingKind, FollowupEvaluation, TaskStatus
from monitoring.models import CloseReason, Indication, Infusion, InfusionStatus
from tests import factories

DAY = 24.0
VITALS = {"temp_c": 36.9, "hr": 78, "sbp": 124, "dbp": 72, "rr": 14, "spo2": 98}


@pytest.fixture
def onc_team(db):
    return factories.make_team("Lymphoma CAR-T", time_zone="Europe/Berlin")


@pytest.fixture
def onc_coordinator(onc_team):
    return factories.make_user(Role.COORDINATOR, onc_team, username="onc_coordinator")


def _toxicity_weeks_course(
    onc_team, record_fu, *, days_ago: float, close_reason=CloseReason.MONITORING_COMPLETE
):
    """A lymphoma course whose toxicity weeks were recorded (a pre-lymphodepletion lab, vitals on days
    0, 7 and 14, a day-28 blood count) and nothing of follow-up, closed at day 28."""
    nurse = factories.make_user(Role.NURSE, onc_team)
    patient = factories.make_patient(onc_team, indication=Indication.LBCL)
    course = factories.make_infusion(
        patient,
        factories.make_product(f"CD19 CAR-T {patient.pk}"),
        infused_at=timezone.now() - timedelta(days=days_ago),
    )
    record_fu(course, "lab", {"crp_mg_L": 4, "anc_per_uL": 3100}, hours=-5 * DAY, user=nurse)
    for day in (0, 7, 14):
        record_fu(course, "vitals", VITALS, hours=day * DAY + 2, user=nurse)
    if days_ago > 28:
        record_fu(course, "lab", {"crp_mg_L": 2, "anc_per_uL": 1800}, hours=28 * DAY, user=nurse)
        Infusion.objects.filter(pk=course.pk).update(
            status=InfusionStatus.CLOSED,
            close_reason=close_reason,
            closed_at=course.infused_at + timedelta(days=28),
        )
        course.refresh_from_db()
    return course, nurse


def _scan(capture, at):
    with capture(execute=True):
        return services.overdue_visits_scan(now=at)


def test_a_course_followed_only_through_its_toxicity_weeks_gets_its_month_2_visit_and_igg_check(
    onc_team, onc_coordinator, record_fu, django_capture_on_commit_callbacks
):
    course, _nurse = _toxicity_weeks_course(onc_team, record_fu, days_ago=80)
    assert not FollowupEvaluation.objects.filter(infusion=course).exists()  # no follow-up data (VISIT-7)

    result = _scan(django_capture_on_commit_callbacks, timezone.now())

    assert result["first_evaluated"] == 1 and result["evaluated"] == 1
    tasks = {
        (f.kind, f.subject): f.text
        for f in Finding.objects.filter(infusion=course, task_status=TaskStatus.OPEN)
    }
    # The toxicity weeks' records document day −5 to day 28; month 2 closed undocumented at day 75.
    assert set(tasks) == {(FindingKind.VISIT_OVERDUE, "month_2"), (FindingKind.IGG_CHECK_DUE, "")}
    assert tasks[(FindingKind.VISIT_OVERDUE, "month_2")].startswith("Month 2 visit not documented")
    assert tasks[(FindingKind.IGG_CHECK_DUE, "")].startswith("IgG check due day 28")
    alert = Alert.objects.get(infusion=course, syndrome=Syndrome.OVERDUE_VISIT)
    assert alert.urgency == "routine" and alert.policy_snapshot["steps"][0]["role"] == "coordinator"

    # Nothing new an hour later: no window closed, nothing recorded.
    assert _scan(django_capture_on_commit_callbacks, timezone.now() + timedelta(hours=1))["evaluated"] == 0


def test_a_blood_count_entered_late_documents_the_visit_and_closes_its_task_at_the_next_scan(
    onc_team, onc_coordinator, record_fu, django_capture_on_commit_callbacks
):
    course, nurse = _toxicity_weeks_course(onc_team, record_fu, days_ago=80)
    _scan(django_capture_on_commit_callbacks, timezone.now())
    task = Finding.objects.get(infusion=course, kind=FindingKind.VISIT_OVERDUE, subject="month_2")
    # The month-2 clinic blood count (day 62) is typed in now: a lab documents an oncology visit, but
    # holds no follow-up field, so the save itself does not re-evaluate the course.
    record_fu(course, "lab", {"anc_per_uL": 2400, "platelets_10e9_L": 160}, hours=62 * DAY, user=nurse)
    task.refresh_from_db()
    assert task.task_status == TaskStatus.OPEN

    result = _scan(django_capture_on_commit_callbacks, timezone.now() + timedelta(minutes=1))

    assert result["evaluated"] == 1
    task.refresh_from_db()
    assert task.task_status == TaskStatus.DONE
    assert not Alert.objects.filter(infusion=course, syndrome=Syndrome.OVERDUE_VISIT, status="open").exists()


def test_a_course_still_in_its_toxicity_weeks_or_closed_for_progression_gets_no_visit_task(
    onc_team, onc_coordinator, record_fu, django_capture_on_commit_callbacks
):
    acute, _ = _toxicity_weeks_course(onc_team, record_fu, days_ago=20)
    progressed, _ = _toxicity_weeks_course(
        onc_team, record_fu, days_ago=80, close_reason=CloseReason.PROGRESSION
    )

    result = _scan(django_capture_on_commit_callbacks, timezone.now())

    assert result["first_evaluated"] == 0 and result["evaluated"] == 0
    assert not FollowupEvaluation.objects.filter(infusion__in=[acute, progressed]).exists()
    assert not Finding.objects.filter(infusion__in=[acute, progressed]).exists()
