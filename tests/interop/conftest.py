"""Fixtures of the FHIR interface tests: an integration account with its token, and the import
fixtures of ``fixtures/`` (written as an interface engine sends them) with the patient's MRN and
times relative to now filled in (``$MRN``, ``$T-<minutes ago>``)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tokens import issue_api_token
from tests import factories

FIXTURES = Path(__file__).parent / "fixtures"
_TIME = re.compile(r"\$T-(\d+)")


def load(name: str, *, mrn: str, now=None) -> dict:
    """The fixture ``name`` with ``$MRN`` and ``$T-<minutes>`` replaced."""
    now = now or timezone.now()
    text = (FIXTURES / f"{name}.json").read_text().replace("$MRN", mrn)
    text = _TIME.sub(lambda m: (now - timedelta(minutes=int(m.group(1)))).isoformat(), text)
    return json.loads(text)


@pytest.fixture
def gateway_user(team):
    """The integration's service account: a nurse-role member of the ward's team."""
    return factories.make_user(Role.NURSE, team, username="ward7-gateway")


@pytest.fixture
def gateway(gateway_user, team):
    """An APIClient authenticated by an integration token carrying ``fhir:write`` and ``fhir:read``."""
    _token, key = issue_api_token(
        name="Ward 7 monitor gateway", user=gateway_user, team=team, scopes=["fhir:write", "fhir:read"]
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def post_bundle(client, bundle, *, capture=None):
    """POST ``bundle`` to /fhir/ as FHIR JSON; with ``capture`` (django_capture_on_commit_callbacks)
    the after-commit alert processing runs too."""
    body = json.dumps(bundle)
    if capture is None:
        return client.post("/fhir/", body, content_type="application/fhir+json")
    with capture(execute=True):
        return client.post("/fhir/", body, content_type="application/fhir+json")


@pytest.fixture
def alert_task_inline(monkeypatch):
    """The alert task's body runs in this process when the service queues it (as in tests/alerts)."""
    from alerts import services as alerts
    from alerts.tasks import process_evaluation

    monkeypatch.setattr(
        process_evaluation,
        "delay",
        lambda evaluation_id: alerts.alert_process_evaluation(evaluation_id=evaluation_id),
    )


# The alerting set-up of tests/alerts (policy, on-call rota, leads): "pages like a nurse's entry".
from tests.alerts.conftest import attending, backup_physician, charge_nurse, oncall, policy, ward  # noqa: E402, F401
