"""Helpers for the monitoring tests: record observations through the real service."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring import services


@pytest.fixture
def record(nurse):
    """``record(infusion, kind, payload, hours_ago=1, user=None, **kw)`` -> (obs, evaluation, created)."""

    def _record(infusion, kind, payload, *, hours_ago: float = 1.0, user=None, observed_at=None, **kwargs):
        return services.observation_record(
            infusion=infusion,
            kind=kind,
            payload=payload,
            observed_at=observed_at or timezone.now() - timedelta(hours=hours_ago),
            recorded_by=user or nurse,
            client_uuid=kwargs.pop("client_uuid", uuid.uuid4()),
            **kwargs,
        )

    return _record


@pytest.fixture
def enqueued(monkeypatch):
    """Evaluation ids handed to ``alerts.tasks.process_evaluation.delay`` (no broker needed)."""
    calls: list[int] = []
    from alerts.tasks import process_evaluation

    monkeypatch.setattr(process_evaluation, "delay", lambda evaluation_id: calls.append(evaluation_id))
    return calls


FEVER_NOREPI = {
    "temp_c": 39.1,
    "hr": 124,
    "sbp": 84,
    "dbp": 48,
    "rr": 24,
    "spo2": 95,
    "o2_device": "room_air",
    "vasopressors": ["norepinephrine"],
}
# CRS 2: fever with a nasal cannula at 3 L/min, no vasopressors (explicitly none).
FEVER_CANNULA = {
    "temp_c": 38.9,
    "hr": 112,
    "sbp": 118,
    "dbp": 70,
    "rr": 22,
    "spo2": 94,
    "o2_device": "nasal_cannula",
    "o2_flow_l_min": 3,
    "vasopressors": [],
}
NORMAL_VITALS = {
    "temp_c": 36.8,
    "hr": 78,
    "sbp": 124,
    "dbp": 76,
    "rr": 14,
    "spo2": 98,
    "o2_device": "room_air",
}
