"""Fixtures for the alerts tests: a team with on-call rotations, a policy and grade evaluations."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from alerts.models import (
    Channel,
    EscalationPolicy,
    EscalationPolicyStep,
    OnCallMember,
    OnCallSchedule,
    Slot,
    Target,
)
from monitoring.models import GradeEvaluation
from tests import factories


@pytest.fixture
def backup_physician(team):
    return factories.make_user(Role.PHYSICIAN, team, username="backupdoc")


@pytest.fixture
def attending(team):
    return factories.make_user(Role.PHYSICIAN, team, username="attending", is_lead=True)


@pytest.fixture
def charge_nurse(team):
    return factories.make_user(Role.NURSE, team, username="chargenurse", is_lead=True)


@pytest.fixture
def policy(team):
    p = EscalationPolicy.objects.create(
        team=team,
        name="Ward",
        repeat_count=1,
        reminder_minutes=30,
        final_wait_minutes=5,
        final_channels=[Channel.INAPP],
    )
    EscalationPolicyStep.objects.create(
        policy=p,
        position=0,
        target=Target.ONCALL_PRIMARY,
        channels=[Channel.INAPP, Channel.EMAIL],
        wait_minutes=5,
    )
    EscalationPolicyStep.objects.create(
        policy=p, position=1, target=Target.ONCALL_BACKUP, channels=[Channel.INAPP], wait_minutes=5
    )
    EscalationPolicyStep.objects.create(
        policy=p,
        position=2,
        target=Target.ROLE,
        role=Role.PHYSICIAN,
        channels=[Channel.INAPP],
        wait_minutes=10,
    )
    return p


@pytest.fixture
def oncall(team, physician, backup_physician):
    """physician is primary and backup_physician backup, all day, every day."""
    start = timezone.now().date() - timedelta(days=2)
    primary = OnCallSchedule.objects.create(
        team=team, slot=Slot.PRIMARY, start_date=start, handover_time=time(8, 0), shift_days=1
    )
    OnCallMember.objects.create(schedule=primary, user=physician, position=0)
    backup = OnCallSchedule.objects.create(
        team=team, slot=Slot.BACKUP, start_date=start, handover_time=time(8, 0), shift_days=1
    )
    OnCallMember.objects.create(schedule=backup, user=backup_physician, position=0)
    return primary, backup


@pytest.fixture
def ward(policy, oncall, attending, charge_nurse, coordinator, infusion):
    """Everything an escalation needs."""
    return infusion


def make_evaluation(
    infusion, *, crs=None, icans=None, sepsis=False, iec_hs=False, licats=False, at=None
) -> GradeEvaluation:
    suggestions = []
    if crs:
        suggestions.append(
            {
                "code": "tocilizumab",
                "text": "Tocilizumab 8 mg/kg IV",
                "dose_mg": 496.0,
                "dose_text": "496 mg IV over 1 h",
                "source": "ASCO 2021",
                "withheld": False,
                "withheld_reason": "",
            }
        )
    return GradeEvaluation.objects.create(
        infusion=infusion,
        evaluated_at=at or timezone.now(),
        crs_grade=crs,
        crs_max=crs,
        icans_grade=icans,
        icans_max=icans,
        sepsis_alert=sepsis,
        iec_hs_screen_positive=iec_hs,
        licats_screen_positive=licats,
        suggestions=suggestions,
        drivers={
            "crs": [
                {"criterion": "fever", "observation_index": 0, "t_hours": 30.0, "text": "Temperature 39.1 °C"}
            ]
            if crs
            else [],
            "icans": [{"criterion": "ice", "observation_index": 1, "t_hours": 30.0, "text": "ICE score 6"}]
            if icans
            else [],
        },
        rule_set="test-rules-1",
    )
