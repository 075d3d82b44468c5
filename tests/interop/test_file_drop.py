"""The file drop (``manage.py fhir_import``): a collection bundle runs as a batch, as the gateway's
account; a refused entry is printed and the command fails."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from monitoring.models import Observation

from .conftest import load

pytestmark = pytest.mark.django_db


def test_a_dropped_collection_is_imported_as_a_batch(tmp_path, gateway_user, team, infusion, capsys):
    bundle = load("vitals_one_per_observation", mrn=infusion.patient.mrn)
    bundle["type"] = "collection"
    path = tmp_path / "drop.json"
    path.write_text(json.dumps(bundle))
    call_command("fhir_import", str(path), user=gateway_user.username, team=team.slug)
    out = json.loads(capsys.readouterr().out)
    assert out["response"]["type"] == "batch-response"
    assert Observation.objects.filter(infusion=infusion).count() == 5


def test_a_refused_entry_fails_the_command(tmp_path, gateway_user, team, infusion):
    path = tmp_path / "drop.json"
    path.write_text(json.dumps(load("unknown_patient", mrn=infusion.patient.mrn)))
    with pytest.raises(CommandError, match="some entries were refused"):
        call_command("fhir_import", str(path), user=gateway_user.username, team=team.slug)


def test_a_user_outside_the_team_is_refused(tmp_path, gateway_user, other_team):
    path = tmp_path / "drop.json"
    path.write_text("{}")
    with pytest.raises(CommandError, match="--team"):
        call_command("fhir_import", str(path), user=gateway_user.username, team=other_team.slug)
