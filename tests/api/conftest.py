"""Fixtures of the API tests: an authenticated DRF client per role, and observation bodies."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from tests import factories


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def api(nurse):
    """The nurse's client (records observations)."""
    return client_for(nurse)


@pytest.fixture
def physician_api(physician):
    return client_for(physician)


@pytest.fixture
def coordinator_api(coordinator):
    return client_for(coordinator)


@pytest.fixture
def other_nurse(other_team):
    return factories.make_user(Role.NURSE, other_team, username="othernurse")


@pytest.fixture
def other_api(other_nurse):
    return client_for(other_nurse)


@pytest.fixture
def other_infusion(other_patient, product):
    return factories.make_infusion(other_patient, product)


def vitals_body(infusion, **payload) -> dict:
    """A POST body for vitals observed a minute ago (normal values unless overridden)."""
    values = {
        "temp_c": 37.0,
        "hr": 80,
        "sbp": 120,
        "dbp": 75,
        "rr": 16,
        "spo2": 98,
        "o2_device": "room_air",
    }
    values.update(payload)
    return {
        "client_uuid": str(uuid.uuid4()),
        "infusion": infusion.pk,
        "kind": "vitals",
        "observed_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
        "payload": values,
    }
