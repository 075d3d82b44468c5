"""Courses and visits (issue 14 item 2): follow-up observations go through the observation services
and the core's validation, every result belongs to one course, and an undocumented visit becomes an
overdue task for the coordinator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from alerts.models import Alert, Syndrome
from followup import services
from followup.models import Finding, FindingKind, FollowupEvaluation, TaskStatus
from monitoring.models import Observation

from .conftest import make_course, sledai_items

BASELINE = sledai_items("arthritis", "rash", "low_complement", "increased_dna_binding")
QUIET = sledai_items()
MONTH_3 = 2160.0


def _month3_remission(record_fu, course):
    record_fu(course, "sledai", {"items": BASELINE, "pga": 2.0}, hours=-120)
    record_fu(
        course, "medication_status", {"drugs": [{"drug": "prednisolone", "mg_per_day": 10}]}, hours=-120
    )
    record_fu(course, "medication_status", {"drugs": []}, hours=MONTH_3)
    return record_fu(course, "sledai", {"items": QUIET, "pga": 0.2}, hours=MONTH_3)


def test_a_month_3_visit_after_closed_monitoring_is_stored_and_gives_doris(record_fu, lupus_course):
    obs, _evaluation, created = _month3_remission(record_fu, lupus_course)
    assert created and obs.kind == "sledai"
    latest = FollowupEvaluation.objects.filter(infusion=lupus_course).latest()
    assert latest.triggered_by == obs
    assert latest.result["doris"] is True
    assert latest.result["drug_free"] is True
    assert latest.result["sledai_2k"] == 0
    assert latest.indication_group == "sle"
    assert latest.visit_template_version == "g1-2025.1"


def test_bad_follow_up_input_is_refused_with_the_field_and_the_range(record_fu, lupus_course):
    with pytest.raises(ValidationError) as exc:
        record_fu(lupus_course, "sledai", {"items": QUIET, "pga": 4}, hours=MONTH_3)
    assert "pga" in exc.value.message_dict
    assert "0–3" in exc.value.message_dict["pga"][0]
    with pytest.raises(ValidationError) as exc:
        record_fu(
            lupus_course, "medication_status", {"drugs": [{"drug": "aspirin-x", "mg_per_day": 1}]}, hours=10
        )
    assert "drugs[0].drug" in exc.value.message_dict
    assert Observation.objects.count() == 0


def test_a_course_closed_for_another_reason_still_refuses_follow_up(record_fu, lupus_patient):
    course = make_course(lupus_patient, months_ago=3)
    course.close_reason = "transferred"
    course.save(update_fields=["close_reason"])
    with pytest.raises(ValidationError) as exc:
        record_fu(course, "sledai", {"items": QUIET}, hours=MONTH_3)
    assert "Transferred" in exc.value.message_dict["infusion"][0]


def test_every_result_belongs_to_its_own_course(record_fu, lupus_patient):
    first = make_course(lupus_patient, months_ago=20)
    first.close_reason = "monitoring_complete"
    second = make_course(lupus_patient, months_ago=3.2)
    record_fu(first, "sledai", {"items": BASELINE}, hours=-120)
    record_fu(first, "sledai", {"items": BASELINE}, hours=MONTH_3)
    _month3_remission(record_fu, second)
    assert FollowupEvaluation.objects.filter(infusion=first).latest().result["doris"] is False
    assert FollowupEvaluation.objects.filter(infusion=second).latest().result["doris"] is True


def test_a_flare_pages_the_treating_physicians_urgently_once(record_fu, lupus_course, rheumatologist):
    _month3_remission(record_fu, lupus_course)
    flare = sledai_items("vasculitis", "urinary_casts", "hematuria", "proteinuria", "rash")
    record_fu(lupus_course, "sledai", {"items": flare, "pga": 2.2}, hours=MONTH_3 + 24)
    alert = Alert.objects.get(infusion=lupus_course, syndrome=Syndrome.RELAPSE)
    assert alert.urgency == "urgent"
    assert alert.policy_snapshot["steps"][0]["role"] == "physician"
    assert Finding.objects.filter(infusion=lupus_course, kind=FindingKind.RELAPSE).count() == 1
    # a correction re-evaluates: the same relapse is not raised twice
    record_fu(lupus_course, "lab", {"crp_mg_L": 3}, hours=MONTH_3 + 30)
    assert Alert.objects.filter(infusion=lupus_course, syndrome=Syndrome.RELAPSE).count() == 1
    assert rheumatologist.notifications.filter(alert=alert).exists()


def test_an_undocumented_visit_becomes_an_overdue_task_for_the_coordinator(
    record_fu, lupus_patient, fu_coordinator, django_capture_on_commit_callbacks
):
    course = make_course(lupus_patient, months_ago=2.0)
    record_fu(course, "sledai", {"items": BASELINE}, hours=-120)
    # Month 2 closes 14 days after its target; a scan 3 weeks later finds it undocumented.
    later = timezone.now() + timedelta(days=21)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.overdue_visits_scan(now=later)
    assert result["evaluated"] == 1
    task = Finding.objects.get(infusion=course, kind=FindingKind.VISIT_OVERDUE, subject="month_2")
    assert task.task_status == TaskStatus.OPEN
    alert = Alert.objects.get(infusion=course, syndrome=Syndrome.OVERDUE_VISIT)
    assert alert.urgency == "routine"
    assert alert.policy_snapshot["steps"][0]["role"] == "coordinator"
    # a second scan with no new closed window re-evaluates nothing
    assert services.overdue_visits_scan(now=later + timedelta(hours=1))["evaluated"] == 0


def test_toxicity_saves_do_not_evaluate_follow_up(record_fu, lupus_patient):
    course = make_course(lupus_patient, months_ago=0.1, closed=False)
    record_fu(
        course, "vitals", {"temp_c": 37.0, "hr": 80, "sbp": 120, "dbp": 70, "rr": 14, "spo2": 98}, hours=2
    )
    assert not FollowupEvaluation.objects.exists()


def test_a_documented_visit_is_no_task_and_the_coordinator_closes_an_overdue_one(
    record_fu, lupus_patient, fu_coordinator, rheum_team, django_capture_on_commit_callbacks
):
    from django.core.exceptions import PermissionDenied

    from accounts.models import Role
    from tests import factories

    course = make_course(lupus_patient, months_ago=3.0)
    record_fu(course, "sledai", {"items": BASELINE}, hours=-120)
    record_fu(course, "sledai", {"items": QUIET}, hours=1461)  # month 2, in its window
    later = timezone.now() + timedelta(days=20)  # month 3's window has closed too
    with django_capture_on_commit_callbacks(execute=True):
        services.overdue_visits_scan(now=later)
    open_visits = set(
        Finding.objects.filter(
            infusion=course, kind=FindingKind.VISIT_OVERDUE, task_status=TaskStatus.OPEN
        ).values_list("subject", flat=True)
    )
    # month 2 was overdue when the baseline was entered late; documenting it closed its task
    assert "month_2" not in open_visits and "month_3" in open_visits
    assert Finding.objects.get(infusion=course, subject="month_2").task_status == TaskStatus.DONE
    task = Finding.objects.get(infusion=course, subject="month_3")
    nurse = factories.make_user(Role.NURSE, rheum_team)
    with pytest.raises(PermissionDenied):
        services.task_close(finding=task, user=nurse)
    assert services.task_close(finding=task, user=fu_coordinator).task_status == TaskStatus.DONE
