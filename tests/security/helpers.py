"""Small builders shared by the security tests."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.utils import timezone

from monitoring import services

NORMAL_VITALS = {
    "temp_c": 37.0,
    "hr": 80,
    "sbp": 120,
    "dbp": 75,
    "rr": 16,
    "spo2": 98,
    "o2_device": "room_air",
}


def record_vitals(infusion, user, minutes_ago: int = 5, **values):
    observation, evaluation, _ = services.observation_record(
        infusion=infusion,
        kind="vitals",
        payload={**NORMAL_VITALS, **values},
        observed_at=timezone.now() - timedelta(minutes=minutes_ago),
        recorded_by=user,
        client_uuid=uuid.uuid4(),
    )
    return observation, evaluation
