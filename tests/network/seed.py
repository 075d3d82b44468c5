"""The ward of the multi-host test, written into the topology's own database by
``manage.py shell -c "from tests.network import seed; seed.main(<burst>)"`` (with its DATABASE_URL),
which prints what the test needs as one JSON line.

A team whose policy pages the on-call primary by SMS, then the backup one minute later (so that the
second step of every alert falls due during the test), a nurse with an API token, ``burst`` patients
with an active infusion each (one alert each) and one more infusion for the steady load.
"""

from __future__ import annotations

import json
from datetime import time as dtime
from datetime import timedelta

from django.utils import timezone

from accounts.models import ApiScope, Role
from accounts.tokens import issue_api_token
from alerts.models import (
    Channel,
    EscalationPolicy,
    EscalationPolicyStep,
    OnCallMember,
    OnCallSchedule,
    Slot,
    Target,
)
from tests import factories


def main(burst: int) -> None:
    team = factories.make_team("Network ward")
    nurse = factories.make_user(Role.NURSE, team, username="net_nurse")
    factories.make_user(Role.PHYSICIAN, team, username="net_attending", is_lead=True)
    policy = EscalationPolicy.objects.create(
        team=team, repeat_count=0, reminder_minutes=30, final_wait_minutes=10, final_channels=[Channel.INAPP]
    )
    start = timezone.now().date() - timedelta(days=2)
    for position, (slot, target, wait) in enumerate(
        ((Slot.PRIMARY, Target.ONCALL_PRIMARY, 1), (Slot.BACKUP, Target.ONCALL_BACKUP, 10))
    ):
        user = factories.make_user(Role.PHYSICIAN, team, username=f"net_{slot}")
        user.phone = f"+49151000000{position + 1:02d}"
        user.save()
        EscalationPolicyStep.objects.create(
            policy=policy,
            position=position,
            target=target,
            channels=[Channel.INAPP, Channel.SMS],
            wait_minutes=wait,
        )
        schedule = OnCallSchedule.objects.create(
            team=team, slot=slot, start_date=start, handover_time=dtime(0, 0)
        )
        OnCallMember.objects.create(schedule=schedule, user=user)
    product = factories.make_product()
    # Infused an hour ago: no bedside check is overdue yet (vitals every 4 h); only the burst raises alerts.
    infusions = [
        factories.make_infusion(factories.make_patient(team), product, hours_ago=1).pk
        for _ in range(burst + 1)
    ]
    _token, key = issue_api_token(
        name="network test tablets", user=nurse, team=team, scopes=[ApiScope.OBSERVATIONS_WRITE]
    )
    ward = {
        "burst": infusions[:burst],
        "steady": infusions[burst],
        "token": key,
        "nurse": nurse.username,
        "password": factories.PASSWORD,
    }
    print(json.dumps(ward))
