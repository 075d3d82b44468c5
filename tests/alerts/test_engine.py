"""Raising, upgrading, escalating, acknowledging and resolving alerts (PostgreSQL, controlled time)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from alerts import services
from alerts.models import (
    Alert,
    AlertStatus,
    Channel,
    EscalationStep,
    EventKind,
    Notification,
    StepKind,
    StepStatus,
    Syndrome,
    Urgency,
)
from monitoring.models import Observation, ObservationKind

from .conftest import make_evaluation

pytestmark = pytest.mark.django_db


def inapp_to(user, alert=None):
    qs = Notification.objects.filter(recipient=user, channel=Channel.INAPP, status="sent")
    return qs.filter(alert=alert) if alert else qs


def test_grade_1_opens_routine_alert_and_notifies_primary_at_once(ward, physician, backup_physician):
    ev = make_evaluation(ward, crs=1)
    ids = services.alert_process_evaluation(evaluation_id=ev.pk)
    alert = Alert.objects.get(pk=ids[0])
    assert (alert.syndrome, alert.grade, alert.urgency, alert.status) == ("crs", 1, "routine", "open")
    assert alert.first_notified_at is not None and alert.first_notified_at >= alert.opened_at
    assert inapp_to(physician, alert).count() == 1
    assert not inapp_to(backup_physician, alert).exists()
    assert len(mail.outbox) == 1
    assert ward.patient.family_name not in mail.outbox[0].subject
    assert "CRS grade 1" in mail.outbox[0].subject
    assert alert.drivers[0]["text"] == "Temperature 39.1 °C"
    assert alert.suggestions[0]["dose_text"] == "496 mg IV over 1 h"
    # 3 policy steps × 2 rounds + final leads step
    steps = list(alert.steps.order_by("sequence"))
    assert len(steps) == 7 and steps[-1].kind == StepKind.FINAL
    assert [s.due_at - alert.opened_at for s in steps[:3]] == [
        timedelta(0),
        timedelta(minutes=5),
        timedelta(minutes=10),
    ]


def test_processing_the_same_evaluation_twice_changes_nothing(ward, physician):
    ev = make_evaluation(ward, crs=2)
    services.alert_process_evaluation(evaluation_id=ev.pk)
    services.alert_process_evaluation(evaluation_id=ev.pk)
    assert Alert.objects.count() == 1
    assert inapp_to(physician).count() == 1
    assert Alert.objects.get().urgency == Urgency.URGENT


def test_grade_0_raises_nothing(ward):
    ev = make_evaluation(ward, crs=0, icans=0)
    assert services.alert_process_evaluation(evaluation_id=ev.pk) == []
    assert not Alert.objects.exists()


def test_higher_grade_upgrades_and_repages_primary_and_backup_at_once(ward, physician, backup_physician):
    services.alert_process_evaluation(evaluation_id=make_evaluation(ward, crs=1).pk)
    alert = Alert.objects.get()
    services.alert_acknowledge(alert=alert, user=physician)
    services.alert_process_evaluation(evaluation_id=make_evaluation(ward, crs=3).pk)
    alert.refresh_from_db()
    assert Alert.objects.count() == 1
    assert (alert.grade, alert.urgency, alert.status, alert.generation) == (3, "emergent", "open", 2)
    assert alert.acknowledged_by is None
    assert alert.suggestions[0]["code"] == "icu_transfer"
    assert inapp_to(backup_physician, alert).count() == 1  # backup paged at once (emergent)
    assert inapp_to(physician, alert).count() == 2
    assert not alert.steps.filter(generation=1, status=StepStatus.PENDING).exists()
    assert alert.events.filter(kind=EventKind.UPGRADED).count() == 1


def test_lower_grade_updates_current_grade_without_repaging(ward, physician):
    services.alert_process_evaluation(evaluation_id=make_evaluation(ward, crs=2).pk)
    services.alert_process_evaluation(evaluation_id=make_evaluation(ward, crs=1).pk)
    alert = Alert.objects.get()
    assert (alert.grade, alert.current_grade, alert.generation) == (2, 1, 1)
    assert inapp_to(physician).count() == 1


def test_sepsis_iec_hs_and_licats_screens_raise_urgent_alerts(ward):
    ev = make_evaluation(ward, crs=0, sepsis=True, iec_hs=True, licats=True)
    services.alert_process_evaluation(evaluation_id=ev.pk)
    alerts = {a.syndrome: a for a in Alert.objects.all()}
    assert set(alerts) == {Syndrome.SEPSIS, Syndrome.IEC_HS, Syndrome.LICATS}
    assert {a.urgency for a in alerts.values()} == {Urgency.URGENT}
    assert "evaluate sepsis" in alerts["sepsis"].title


def test_crs_and_icans_are_separate_alerts(ward):
    services.alert_process_evaluation(evaluation_id=make_evaluation(ward, crs=2, icans=1).pk)
    assert sorted(Alert.objects.values_list("syndrome", flat=True)) == ["crs", "icans"]


def test_database_allows_one_active_alert_per_patient_and_syndrome(ward):
    services.alert_process_evaluation(evaluation_id=make_evaluation(ward, crs=1).pk)
    first = Alert.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(
            infusion=ward,
            patient=ward.patient,
            care_team=ward.care_team,
            syndrome="crs",
            grade=2,
            urgency="urgent",
        )
    first.status = AlertStatus.RESOLVED
    first.save()
    Alert.objects.create(
        infusion=ward,
        patient=ward.patient,
        care_team=ward.care_team,
        syndrome="crs",
        grade=2,
        urgency="urgent",
    )  # a new episode after resolution is fine


def test_policy_is_frozen_on_the_alert(ward, policy):
    services.alert_process_evaluation(evaluation_id=make_evaluation(ward, crs=1).pk)
    alert = Alert.objects.get()
    policy.steps.all().delete()
    policy.repeat_count = 4
    policy.save()
    alert.refresh_from_db()
    assert alert.policy_snapshot["repeat_count"] == 1
    assert len(alert.policy_snapshot["steps"]) == 3
    assert alert.steps.count() == 7


def test_chain_escalates_over_time_until_acknowledged(ward, physician, backup_physician, attending):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        services.alert_process_evaluation(evaluation_id=make_evaluation(ward, crs=1).pk)
    alert = Alert.objects.get()
    with time_machine.travel(start + timedelta(minutes=4), tick=False):
        assert services.dispatch_due_steps() == 0
    with time_machine.travel(start + timedelta(minutes=5, seconds=1), tick=False):
        assert services.dispatch_due_steps() == 1
    assert inapp_to(backup_physician, alert).count() == 1
    with time_machine.travel(start + timedelta(minutes=7), tick=False):
        services.alert_acknowledge(alert=alert, user=backup_physician)
    assert alert.steps.filter(status=StepStatus.CANCELLED).count() == 5
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        services.dispatch_due_steps()  # only the reminder is left
    assert not inapp_to(attending, alert).exists()
    alert.refresh_from_db()
    assert alert.acknowledged_at - alert.opened_at == timedelta(minutes=7)


def test_acknowledged_between_due_time_and_send_sends_nothing(ward, physician, backup_physician):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        services.alert_process_evaluation(evaluation_id=make_evaluation(ward, crs=2).pk)
    alert = Alert.objects.get()
    with time_machine.travel(start + timedelta(minutes=6), tick=False):  # backup step due, tick not yet run
        services.alert_acknowledge(alert=alert, user=physician)
        before = Notification.objects.count()
        services.dispatch_due_steps()
    assert Notification.objects.count() == before
    assert not inapp_to(backup_physician).exists()


def test_claimed_step_is_fenced_when_acknowledged_before_delivery(ward, physician, backup_physician):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        services.alert_process_evaluation(evaluation_id=make_evaluation(ward, crs=2).pk)
    alert = Alert.objects.get()
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        [(step_id, token)] = services.claim_due_steps()
        services.alert_acknowledge(alert=alert, user=physician)
        assert services.send_step(step_id=step_id, token=token) == "cancelled"
    assert not inapp_to(backup_physician).exists()
    assert EscalationStep.objects.get(pk=step_id).status == StepStatus.CANCELLED


def test_a_claimed_step_cannot_be_claimed_again_and_stale_token_is_fenced(ward):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        ev = make_evaluation(ward, crs=1)
        with transaction.atomic():  # open without dispatching
            services.open_alert(infusion=ward, ev=ev, syndrome="crs", grade=1, urgency="routine", now=start)
    claimed = services.claim_due_steps(now=start)
    assert len(claimed) == 1
    assert services.claim_due_steps(now=start) == []
    step_id, _token = claimed[0]
    assert services.send_step(step_id=step_id, token="00000000-0000-0000-0000-000000000000") == "fenced out"


def test_reminder_then_unacknowledge_and_escalate_without_note(ward, physician, backup_physician):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        services.alert_process_evaluation(evaluation_id=make_evaluation(ward, crs=2).pk)
        alert = Alert.objects.get()
        services.alert_acknowledge(alert=alert, user=physician)
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        services.dispatch_due_steps()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED
    assert alert.events.filter(kind=EventKind.REMINDER).exists()
    assert Notification.objects.filter(step__kind=StepKind.REMINDER, recipient=physician).exists()
    with time_machine.travel(start + timedelta(minutes=62), tick=False):
        services.dispatch_due_steps()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN and alert.generation == 2
    assert alert.events.filter(kind=EventKind.UNACKNOWLEDGED).exists()
    assert inapp_to(backup_physician, alert).count() == 1  # escalated to the next level (backup)


def test_a_medication_order_after_acknowledgement_prevents_the_reminder(ward, physician, nurse):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        services.alert_process_evaluation(evaluation_id=make_evaluation(ward, crs=2).pk)
        alert = Alert.objects.get()
        services.alert_acknowledge(alert=alert, user=physician)
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        Observation.objects.create(
            infusion=ward,
            kind=ObservationKind.MEDICATION,
            payload={"drug": "tocilizumab", "dose_mg": 496},
            observed_at=timezone.now(),
            recorded_by=nurse,
        )
    with time_machine.travel(start + timedelta(minutes=90), tick=False):
        services.dispatch_due_steps()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED
    assert not alert.events.filter(kind=EventKind.REMINDER).exists()


@pytest.mark.parametrize("with_ack", [True, False], ids=["note-with-the-acknowledgement", "note-after"])
def test_a_note_does_not_stop_the_reminder_and_escalation_chain(ward, physician, backup_physician, with_ack):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        services.alert_process_evaluation(evaluation_id=make_evaluation(ward, crs=2).pk)
        alert = Alert.objects.get()
        services.alert_acknowledge(alert=alert, user=physician, note="Looking into it" if with_ack else "")
    if not with_ack:
        with time_machine.travel(start + timedelta(minutes=5), tick=False):
            services.alert_add_note(alert=alert, user=physician, text="Looking into it")
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        services.dispatch_due_steps()
    assert Notification.objects.filter(step__kind=StepKind.REMINDER, recipient=physician).exists()
    with time_machine.travel(start + timedelta(minutes=62), tick=False):
        services.dispatch_due_steps()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN  # the physician's note did not stop the re-escalation
    assert alert.events.filter(kind=EventKind.NOTE, text="Looking into it").exists()
    assert inapp_to(backup_physician, alert).count() == 1


def test_resolve_needs_a_note_and_cancels_everything(ward, physician):
    services.alert_process_evaluation(evaluation_id=make_evaluation(ward, crs=1).pk)
    alert = Alert.objects.get()
    with pytest.raises(ValidationError):
        services.alert_resolve(alert=alert, user=physician, note=" ")
    services.alert_resolve(alert=alert, user=physician, note="Afebrile 48 h")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED and alert.resolved_at and alert.acknowledged_at
    assert not alert.steps.filter(status=StepStatus.PENDING).exists()


def test_nurse_and_coordinator_cannot_acknowledge_or_resolve(ward, nurse, coordinator):
    services.alert_process_evaluation(evaluation_id=make_evaluation(ward, crs=1).pk)
    alert = Alert.objects.get()
    for user in (nurse, coordinator):
        with pytest.raises(PermissionDenied):
            services.alert_acknowledge(alert=alert, user=user)
        with pytest.raises(PermissionDenied):
            services.alert_resolve(alert=alert, user=user, note="x")


def test_final_step_notifies_attending_charge_nurse_and_coordinator_and_repeats(
    ward, attending, charge_nurse, coordinator, nurse
):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        services.alert_process_evaluation(evaluation_id=make_evaluation(ward, crs=1).pk)
    alert = Alert.objects.get()
    final = alert.steps.get(kind=StepKind.FINAL)
    with time_machine.travel(final.due_at + timedelta(seconds=1), tick=False):
        services.dispatch_due_steps()
    for user in (attending, charge_nurse, coordinator):
        assert inapp_to(user, alert).filter(step=final).count() == 1
    assert not inapp_to(nurse, alert).exists()
    assert alert.steps.filter(kind=StepKind.FINAL, status=StepStatus.PENDING).count() == 1


def test_nobody_on_call_falls_back_to_leads_and_alarms(team, policy, infusion, attending, coordinator):
    services.alert_process_evaluation(evaluation_id=make_evaluation(infusion, crs=3).pk)
    alert = Alert.objects.get()
    assert inapp_to(attending, alert).exists()
    assert alert.events.filter(kind=EventKind.NO_RECIPIENT).exists()
    from alerts.models import OperationsAlarm

    assert OperationsAlarm.objects.filter(kind="no_recipient", team=team).exists()
    assert Notification.objects.filter(alarm__isnull=False, recipient=coordinator).exists()
