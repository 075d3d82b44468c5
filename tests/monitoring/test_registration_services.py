"""Patient and infusion writes (what the API's patient and infusion endpoints save)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import Role
from monitoring import registration
from monitoring.models import Indication, Infusion
from monitoring.services import ObservationConflict
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def ward():
    team = factories.make_team("Course ward")
    return {
        "team": team,
        "coordinator": factories.make_user(Role.COORDINATOR, team, username="coord_cs"),
        "nurse": factories.make_user(Role.NURSE, team, username="nurse_cs"),
    }


FIELDS = {
    "mrn": "CS-1",
    "given_name": "Ada",
    "family_name": "Byron",
    "date_of_birth": date(1980, 5, 1),
    "sex": "F",
    "weight_kg": Decimal("61.5"),
    "indication": Indication.LBCL,
}


def test_a_coordinator_registers_and_edits_a_patient_and_the_history_names_her(ward):
    patient = registration.patient_register(user=ward["coordinator"], care_team_id=ward["team"].pk, **FIELDS)
    registration.patient_update(patient=patient, user=ward["coordinator"], weight_kg=Decimal("60"))
    patient.refresh_from_db()
    assert patient.weight_kg == Decimal("60") and patient.care_team == ward["team"]
    assert [h.history_user for h in patient.history.order_by("history_date")] == [ward["coordinator"]] * 2


def test_a_nurse_cannot_register_a_patient_and_an_edit_cannot_move_one(ward):
    with pytest.raises(PermissionDenied):
        registration.patient_register(user=ward["nurse"], care_team_id=ward["team"].pk, **FIELDS)
    patient = factories.make_patient(ward["team"])
    other = factories.make_team("Elsewhere")
    with pytest.raises(ValidationError) as refused:
        registration.patient_update(patient=patient, user=ward["coordinator"], care_team=other)
    assert "care_team" in refused.value.message_dict


def test_a_second_active_infusion_is_a_conflict(ward):
    patient = factories.make_patient(ward["team"])
    product = factories.make_product()
    when = timezone.now() - timedelta(hours=2)
    first = registration.infusion_start(
        patient=patient, product=product, infused_at=when, user=ward["coordinator"]
    )
    assert first.care_team_id == ward["team"].pk
    with pytest.raises(ObservationConflict, match="already has an active infusion"):
        registration.infusion_start(
            patient=patient, product=product, infused_at=when, user=ward["coordinator"]
        )
    assert Infusion.objects.filter(patient=patient).count() == 1
