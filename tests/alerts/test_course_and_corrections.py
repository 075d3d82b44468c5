"""Issue 11 items 3–4 through the API, on PostgreSQL: the urgent findings raise alerts of their own
(A-15, B-9), an alert follows its course (closing, death), and a correction that withdraws an alert's
grade revises it, tells the physician and stops the escalation above what is still supported.

Alert processing runs in this process at each commit (the task's body), so who is paged is what the
worker would page."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts import services as alerts
from alerts.models import (
    Alert,
    AlertStatus,
    EscalationStep,
    EventKind,
    Notification,
    StepStatus,
    Syndrome,
    Urgency,
)
from monitoring.models import GradeEvaluation, InfusionStatus, Observation
from tests.api.conftest import client_for
from tests.monitoring.conftest import FEVER_NOREPI

pytestmark = pytest.mark.django_db

LIST = reverse("api-observation-list")
FEVER = {"temp_c": 38.6, "hr": 104, "sbp": 122, "dbp": 74, "rr": 18, "spo2": 97, "o2_device": "room_air"}
ICE_FULL = {"orientation": 4, "naming": 3, "commands": 1, "writing": 1, "attention": 1}


@pytest.fixture
def live(monkeypatch, django_capture_on_commit_callbacks):
    """Run each API call with its after-commit work, the alert task's body included."""
    from alerts.tasks import process_evaluation

    monkeypatch.setattr(
        process_evaluation,
        "delay",
        lambda evaluation_id: alerts.alert_process_evaluation(evaluation_id=evaluation_id),
    )

    def call(client, url, body):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, body, format="json")

    return call


def record(live, client, infusion, kind, payload, *, minutes_ago=1.0):
    body = {
        "client_uuid": str(uuid.uuid4()),
        "infusion": infusion.pk,
        "kind": kind,
        "observed_at": (timezone.now() - timedelta(minutes=minutes_ago)).isoformat(),
        "payload": payload,
    }
    response = live(client, LIST, body)
    assert response.status_code == 201, response.content
    return response.json()


def timeline(alert) -> list[str]:
    return [f"{e.kind}: {e.text}" for e in alert.events.order_by("at", "id")]


def paged(alert) -> set[str]:
    return set(Notification.objects.filter(alert=alert).values_list("recipient__username", flat=True))


def later(minutes: float):
    return timezone.now() + timedelta(minutes=minutes)


# ---------------------------------------------------------------- A-15, B-9


def test_spo2_86_on_room_air_raises_an_urgent_alert_of_its_own(ward, nurse, live):
    grade = record(live, client_for(nurse), ward, "vitals", {**FEVER, "temp_c": 37.0, "spo2": 86})["grade"]
    assert grade["crs_grade"] == 0  # ASTCT grades by the oxygen given; A-15 alerts on the value
    alert = Alert.objects.get(syndrome=Syndrome.HYPOXAEMIA)
    assert alert.urgency == Urgency.URGENT and alert.status == AlertStatus.OPEN
    assert alert.summary == "hypoxaemia: SpO2 86 % on room air — assess oxygen"
    assert "physician" in paged(alert)  # the on-call primary
    assert any("Hypoxaemia" in line for line in timeline(alert))


def test_haemorrhage_raises_its_own_alert_and_diffuse_oedema_still_grades(ward, nurse, live):
    payload = {
        "ice": ICE_FULL,
        "consciousness": "alert",
        "seizure": "none",
        "motor": "none",
        "icp_edema": "diffuse_edema",
        "intracranial_hemorrhage": True,
    }
    grade = record(live, client_for(nurse), ward, "neuro", payload)["grade"]
    assert grade["icans_grade"] == 4  # the oedema is not hidden by the haemorrhage
    ich = Alert.objects.get(syndrome=Syndrome.ICH)
    assert ich.urgency == Urgency.URGENT
    assert {"neuro_consult", "neuroimaging"} <= {s["code"] for s in ich.suggestions}
    assert ich.summary == "intracranial haemorrhage: grade by CTCAE, not ICANS"
    assert "physician" in paged(ich)
    assert Alert.objects.get(syndrome=Syndrome.ICANS).grade == 4


def test_a_resolved_finding_is_not_raised_again_by_the_next_record(ward, nurse, physician, live):
    client = client_for(nurse)
    record(live, client, ward, "vitals", {"hr": 90, "spo2": 86, "o2_device": "room_air"}, minutes_ago=10)
    alert = Alert.objects.get(syndrome=Syndrome.HYPOXAEMIA)
    alerts.alert_resolve(alert=alert, user=physician, note="oxygen started")
    record(live, client, ward, "vitals", {"hr": 92})  # the SpO2 86 stands, its alert was handled
    assert Alert.objects.filter(syndrome=Syndrome.HYPOXAEMIA).count() == 1


# ---------------------------------------------------------------- B-1, precision


def test_incomplete_ice_grades_at_its_best_and_the_screen_says_incomplete(ward, nurse, live, client):
    payload = {
        "ice": {"orientation": 0, "naming": 0, "commands": None, "writing": None, "attention": 0},
        "consciousness": "alert",
        "seizure": "none",
        "motor": "none",
    }
    grade = record(live, client_for(nurse), ward, "neuro", payload)["grade"]
    assert grade["icans_grade"] == 3 and grade["icans_incomplete"] is True
    assert Alert.objects.get(syndrome=Syndrome.ICANS).urgency == Urgency.EMERGENT
    client.force_login(nurse)
    html = client.get(reverse("monitoring:patient_detail", args=[ward.patient_id])).content.decode()
    assert "ICANS incomplete" in html and "best possible completion" in html


def test_a_driver_shows_the_precision_that_decided_it(ward, nurse, live):
    record(live, client_for(nurse), ward, "vitals", {"temp_c": 38.5, "sbp": 100, "dbp": 47})
    texts = [d["text"] for d in GradeEvaluation.objects.latest().drivers["crs"]]
    assert any("MAP 64.7 < 65 mmHg" in t for t in texts), texts


# ---------------------------------------------------------------- item 4: the course ends


def test_closing_the_infusion_stops_the_alert_and_says_who_and_why(ward, nurse, coordinator, live):
    record(live, client_for(nurse), ward, "vitals", FEVER_NOREPI)
    alert = Alert.objects.get(syndrome=Syndrome.CRS)
    assert alert.grade == 3 and EscalationStep.objects.filter(alert=alert, status=StepStatus.PENDING).exists()
    url = reverse("api-infusion-close", args=[ward.pk])
    response = live(client_for(coordinator), url, {"close_reason": "transferred"})
    assert response.status_code == 200, response.content
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED and alert.resolved_by == coordinator
    assert not EscalationStep.objects.filter(alert=alert, status=StepStatus.PENDING).exists()
    closing = alert.events.get(kind=EventKind.COURSE_CLOSED).text
    assert closing.startswith("Closed with the course: monitoring closed (Transferred to another centre)")
    assert "by " in closing and "pending step(s) stopped" in closing
    # The infusion's history says who closed it.
    history = ward.history.order_by("-history_date").first()
    assert history.status == InfusionStatus.CLOSED and history.history_user == coordinator
    assert history.history_change_reason == "monitoring closed: Transferred to another centre"


def test_nothing_is_paged_after_the_course_closed(ward, nurse, coordinator, live):
    record(live, client_for(nurse), ward, "vitals", FEVER_NOREPI)
    alert = Alert.objects.get(syndrome=Syndrome.CRS)
    sent_before = set(Notification.objects.filter(alert=alert).values_list("pk", flat=True))
    live(client_for(coordinator), reverse("api-infusion-close", args=[ward.pk]), {"close_reason": "death"})
    alerts.dispatch_due_steps(now=later(60))
    alerts.run_auditor(now=later(61))
    assert set(Notification.objects.filter(alert=alert).values_list("pk", flat=True)) == sent_before


def test_a_recorded_death_closes_the_alerts_with_the_course(ward, nurse, physician, live):
    record(live, client_for(nurse), ward, "vitals", FEVER_NOREPI, minutes_ago=5)
    record(live, client_for(physician), ward, "event", {"event": "death", "attributed_to": "disease"})
    alert = Alert.objects.get(syndrome=Syndrome.CRS)
    assert alert.status == AlertStatus.RESOLVED and alert.resolved_by == physician
    text = alert.events.get(kind=EventKind.COURSE_CLOSED).text
    assert text.startswith("Closed with the course: death recorded (cause: disease) by ")
    sent = Notification.objects.filter(alert=alert).count()
    alerts.dispatch_due_steps(now=later(60))
    assert Notification.objects.filter(alert=alert).count() == sent


def test_recording_on_a_closed_infusion_raises_nothing(ward, nurse, coordinator, live):
    live(client_for(coordinator), reverse("api-infusion-close", args=[ward.pk]), {"close_reason": "death"})
    body = {
        "client_uuid": str(uuid.uuid4()),
        "infusion": ward.pk,
        "kind": "vitals",
        "observed_at": timezone.now().isoformat(),
        "payload": FEVER_NOREPI,
    }
    response = live(client_for(nurse), LIST, body)
    assert response.status_code == 400 and "closed" in response.json()["infusion"][0]
    assert not Alert.objects.exists()


# ---------------------------------------------------------------- item 4: corrections


def test_entered_in_error_revises_the_alert_tells_the_physician_and_stops_paging(
    ward, nurse, physician, live
):
    client = client_for(nurse)
    obs = record(live, client, ward, "vitals", FEVER_NOREPI)
    alert = Alert.objects.get(syndrome=Syndrome.CRS)
    assert (alert.grade, alert.urgency) == (3, Urgency.EMERGENT)
    url = reverse("api-observation-entered-in-error", args=[obs["id"]])
    response = live(client_for(physician), url, {"reason": "wrong patient"})
    assert response.status_code == 201, response.content
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN  # open until a physician resolves it
    assert alert.grade == 0 and alert.urgency == Urgency.ROUTINE and alert.escalation_stopped
    revised = alert.events.get(kind=EventKind.REVISED)
    assert revised.text.startswith("Grade revised to 0 after a correction (was 3;")
    assert "wrong patient" in revised.text and revised.user == physician
    told = Notification.objects.filter(alert=alert, urgency=Urgency.ROUTINE)
    # The physicians who were paged (emergent: primary and backup at once), not the whole team.
    assert {n.recipient.username for n in told} == {"physician", "backupdoc"}
    assert "grade revised to 0 after a correction" in told.first().message.lower()
    assert not EscalationStep.objects.filter(alert=alert, status=StepStatus.PENDING).exists()
    count = Notification.objects.filter(alert=alert).count()
    alerts.dispatch_due_steps(now=later(30))
    alerts.run_auditor(now=later(31))  # the auditor does not re-page a stopped alert either
    assert Notification.objects.filter(alert=alert).count() == count
    alerts.alert_resolve(alert=alert, user=physician, note="entered on the wrong patient")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_an_amendment_to_grade_2_escalates_no_higher_than_urgent(ward, nurse, physician, live):
    obs = record(live, client_for(nurse), ward, "vitals", FEVER_NOREPI)
    alert = Alert.objects.get(syndrome=Syndrome.CRS)
    amended = {**FEVER_NOREPI, "vasopressors": [], "sbp": 86, "dbp": 50, "fluid_bolus_for_hypotension": True}
    url = reverse("api-observation-amend", args=[obs["id"]])
    response = live(client_for(physician), url, {"payload": amended, "reason": "pressor was not started"})
    assert response.status_code == 201, response.content
    assert response.json()["grade"]["crs_grade"] == 2
    alert.refresh_from_db()
    assert (alert.grade, alert.urgency, alert.status) == (2, Urgency.URGENT, AlertStatus.OPEN)
    text = alert.events.get(kind=EventKind.REVISED).text
    assert text.startswith("Grade revised to 2 after a correction (was 3;")
    assert text.endswith("escalation continues as urgent")
    assert not alert.escalation_stopped


def test_a_correction_that_keeps_the_grade_changes_nothing(ward, nurse, physician, live):
    record(live, client_for(nurse), ward, "vitals", FEVER_NOREPI, minutes_ago=10)
    obs = record(live, client_for(nurse), ward, "vitals", {"hr": 120})
    live(
        client_for(physician),
        reverse("api-observation-entered-in-error", args=[obs["id"]]),
        {"reason": "dup"},
    )
    alert = Alert.objects.get(syndrome=Syndrome.CRS)
    assert alert.grade == 3 and not alert.events.filter(kind=EventKind.REVISED).exists()
    assert Observation.objects.count() == 3


def test_a_withdrawn_finding_stops_its_alert_once(ward, nurse, physician, live):
    obs = record(live, client_for(nurse), ward, "vitals", {"hr": 90, "spo2": 86, "o2_device": "room_air"})
    alert = Alert.objects.get(syndrome=Syndrome.HYPOXAEMIA)
    url = reverse("api-observation-entered-in-error", args=[obs["id"]])
    live(client_for(physician), url, {"reason": "probe fell off"})
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN and alert.escalation_stopped
    text = alert.events.get(kind=EventKind.REVISED).text
    assert text.startswith("Hypoxaemia: SpO2 below 90 % no longer supported after a correction")
    alerts.alert_process_evaluation(evaluation_id=GradeEvaluation.objects.latest().pk)  # a redelivery
    assert alert.events.filter(kind=EventKind.REVISED).count() == 1
