"""Follow-up alerts through the escalation chain (ALERT-13): serological re-activation routine to the
physicians, loss of B-cell aplasia urgent for B-ALL only, prophylaxis stop criteria a task."""

from __future__ import annotations

from alerts.models import Alert, Syndrome
from followup.models import Finding, FindingKind, TaskStatus
from monitoring.models import Indication
from tests import factories

from .conftest import make_course

MONTH = 730.5


def test_serological_reactivation_is_a_routine_alert_to_the_physicians(record_fu, lupus_patient):
    lupus_course = make_course(lupus_patient, months_ago=10)
    for hours, value in ((-120, 250), (672, 80), (2160, 20), (4380, 45), (6570, 60)):
        record_fu(
            lupus_course, "lab", {"anti_dsdna_IU_mL": value, "anti_dsdna_cutoff_IU_mL": 30}, hours=hours
        )
    alert = Alert.objects.get(infusion=lupus_course, syndrome=Syndrome.SEROLOGY)
    assert alert.urgency == "routine"
    assert alert.policy_snapshot["steps"][0]["role"] == "physician"
    assert not Alert.objects.filter(infusion=lupus_course, syndrome=Syndrome.RELAPSE).exists()


def _cd19_course(record_fu, course):
    for hours, value in ((24, 40), (168, 0), (2160, 0), (4380, 12), (5000, 30)):
        record_fu(course, "lab", {"cd19_per_uL": value}, hours=hours)


def test_loss_of_b_cell_aplasia_is_urgent_for_b_all(record_fu, rheum_team):
    patient = factories.make_patient(rheum_team, indication=Indication.B_ALL)
    course = make_course(patient, months_ago=8)
    _cd19_course(record_fu, course)
    alert = Alert.objects.get(infusion=course, syndrome=Syndrome.B_CELL_APLASIA_LOST)
    assert alert.urgency == "urgent"


def test_b_cell_return_in_lupus_is_information_not_an_alert(record_fu, lupus_patient):
    course = make_course(lupus_patient, months_ago=8)
    _cd19_course(record_fu, course)
    assert Finding.objects.filter(infusion=course, kind=FindingKind.B_CELL_RECONSTITUTION).exists()
    assert not Alert.objects.filter(infusion=course).exclude(syndrome=Syndrome.OVERDUE_VISIT).exists()


def test_prophylaxis_stop_criteria_make_a_task(record_fu, lupus_patient):
    course = make_course(lupus_patient, months_ago=13)
    drugs = {"drugs": [{"drug": "valacyclovir", "mg_per_day": 1000}, {"drug": "tmp_smx", "mg_per_day": 480}]}
    record_fu(course, "medication_status", drugs, hours=-120)
    record_fu(course, "lab", {"cd4_per_uL": 250}, hours=9 * MONTH)
    assert not Finding.objects.filter(kind=FindingKind.PROPHYLAXIS_STOP_CRITERIA_MET).exists()
    record_fu(course, "lab", {"cd4_per_uL": 260}, hours=12 * MONTH)
    task = Finding.objects.get(infusion=course, kind=FindingKind.PROPHYLAXIS_STOP_CRITERIA_MET)
    assert task.task_status == TaskStatus.OPEN and "valacyclovir" in task.text
    assert task.alert is None


def _igg_tasks(course):
    return list(
        Finding.objects.filter(infusion=course, kind=FindingKind.IGG_CHECK_DUE, task_status=TaskStatus.OPEN)
    )


def test_a_due_igg_check_is_a_coordinator_task_until_two_checks_above_400(record_fu, lupus_patient):
    course = make_course(lupus_patient, months_ago=8)
    record_fu(course, "lab", {"cd4_per_uL": 300}, hours=-120)
    record_fu(course, "lab", {"igg_mg_dL": 380}, hours=30 * 24)
    (task,) = _igg_tasks(course)  # 3 months after day 30 has passed (the course is 8 months old)
    assert task.recipient == "coordinator" and task.alert is None and "IgG check due day 121" in task.text
    record_fu(course, "lab", {"igg_mg_dL": 450}, hours=5 * 730.5)
    (task,) = _igg_tasks(course)  # the check of month 5 closed the old task; month 8 is due now
    assert "IgG check due day 243.5" in task.text
    record_fu(course, "lab", {"igg_mg_dL": 470}, hours=7.9 * 730.5)
    assert _igg_tasks(course) == []
    assert (
        Finding.objects.filter(infusion=course, kind=FindingKind.IGG_CHECK_DUE).count() == 3
    )  # day 28, 121, 243.5


def test_a_cmv_pcr_is_a_task_while_corticosteroids_run_5_days(record_fu, lupus_patient):
    course = make_course(lupus_patient, months_ago=3)
    record_fu(
        course, "medication_status", {"drugs": [{"drug": "prednisolone", "mg_per_day": 30}]}, hours=-24 * 3
    )
    (task,) = Finding.objects.filter(
        infusion=course, kind=FindingKind.CMV_PCR_DUE, task_status=TaskStatus.OPEN
    )
    assert task.recipient == "coordinator" and "CMV PCR due" in task.text
    record_fu(
        course,
        "medication_status",
        {"drugs": [{"drug": "hydroxychloroquine", "mg_per_day": 400}]},
        hours=80 * 24,
    )
    assert not Finding.objects.filter(
        infusion=course, kind=FindingKind.CMV_PCR_DUE, task_status=TaskStatus.OPEN
    ).exists()


def test_a_bcma_course_prompts_the_physicians_for_inactivated_vaccines_at_month_6(record_fu, rheum_team):
    patient = factories.make_patient(rheum_team, indication=Indication.SLE, sex="F", given_name="Bea")
    course = make_course(patient, months_ago=6.5)
    course.product.target_antigen = "BCMA"
    course.product.save(update_fields=["target_antigen"])
    record_fu(course, "lab", {"cd4_per_uL": 300}, hours=-120)
    tasks = {
        f.subject: f for f in Finding.objects.filter(infusion=course, kind=FindingKind.REVACCINATION_DUE)
    }
    assert set(tasks) == {"influenza_covid", "inactivated"}  # INF-12 at month 3, G-8 at month 6
    task = tasks["inactivated"]
    assert task.task_status == TaskStatus.OPEN and task.recipient == "treating_physicians"
    assert "inactivated vaccines may start" in task.text
    assert "influenza and COVID-19" in tasks["influenza_covid"].text


def test_ivig_in_the_medication_list_brings_the_next_igg_check_forward_to_4_weeks(record_fu, lupus_patient):
    course = make_course(lupus_patient, months_ago=2)
    record_fu(course, "lab", {"igg_mg_dL": 320}, hours=28 * 24)
    assert _igg_tasks(course) == []  # the day-28 check is done; the next is due in 3 months
    ivig = {"drugs": [{"drug": "ivig", "mg_per_week": 7500}]}
    record_fu(course, "medication_status", ivig, hours=29 * 24)
    (task,) = _igg_tasks(course)  # BCELL-9: every 4 weeks while IVIG is given
    assert task.t_hours == 56 * 24 and "every 4 weeks while IVIG is given" in task.text
