"""Monitoring hands committed grades and missed-check reasons to alerting through ``monitoring.handoff``,
which the alerts app fills at start-up; without it the deployment refuses to start."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from alerts.handoff import AlertingForMonitoring
from monitoring import handoff


def test_the_alerts_app_registers_itself_at_start_up():
    assert isinstance(handoff.alerting(), AlertingForMonitoring)


def test_a_deployment_without_alerting_fails_the_system_check(monkeypatch):
    monkeypatch.setattr(handoff, "_registered", None)
    with pytest.raises(SystemCheckError, match=r"monitoring\.E001.*no alert"):
        call_command("check")
    with pytest.raises(ImproperlyConfigured, match="is 'alerts' installed"):
        handoff.grade_committed(1)


def test_the_system_check_passes_with_alerting_registered(capsys):
    call_command("check")
    assert "no issues" in capsys.readouterr().out
