"""seed_demo adds follow-up patients (issue 14 item 7) whose results are the clinical core's."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from followup.models import FollowupEvaluation
from monitoring.models import Infusion


@pytest.fixture
def no_broker(monkeypatch):
    monkeypatch.setattr("monitoring.services._enqueue_alert_processing", lambda evaluation_id: None)
    monkeypatch.setattr("followup.services._enqueue_findings", lambda evaluation_id: None)


def latest(mrn: str, course: int = -1) -> dict:
    infusions = list(Infusion.objects.filter(patient__mrn=mrn).order_by("infused_at"))
    return FollowupEvaluation.objects.filter(infusion=infusions[course]).latest().result


def test_seed_demo_adds_the_follow_up_stories(db, no_broker):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "Follow-up demo: 6 patients" in out.getvalue()
    remission = latest("DEMO-F001")
    assert remission["doris"] is True and remission["drug_free"] is True
    assert remission["doris_sustained_6_months"] is True
    returned = latest("DEMO-F002")
    assert returned["b_cell_reconstitution_hours"] is not None and returned["relapse"] is False
    nephritis = latest("DEMO-F003")
    assert nephritis["ln_flare"] is True
    assert Infusion.objects.filter(patient__mrn="DEMO-F006").count() == 2
    assert latest("DEMO-F006", 0)["relapse"] is True
    assert latest("DEMO-F006", 1)["doris"] is True
    assert latest("DEMO-F004")["tis_response"] == "major"
    assert latest("DEMO-F005")["eustar_ai"] is not None
    # idempotent
    call_command("seed_demo", stdout=io.StringIO())
    assert Infusion.objects.filter(patient__mrn__startswith="DEMO-F").count() == 7
