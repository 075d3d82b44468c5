"""The services that open a course (``monitoring.registration``): the same rules for the API and the
coordinator's screens, and a history row naming who did it."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from monitoring import registration
from monitoring.models import Infusion, Patient
from monitoring.services import ObservationConflict

PATIENT = {
    "mrn": "REG-1",
    "given_name": "Ida",
    "family_name": "Roth",
    "date_of_birth": date(1970, 5, 1),
    "sex": "F",
    "weight_kg": Decimal("64.0"),
    "indication": "lbcl",
}


@pytest.mark.django_db
def test_register_and_start_leave_history_with_the_coordinator(coordinator, team, product):
    patient = registration.patient_register(user=coordinator, care_team_id=team.pk, **PATIENT)
    infusion = registration.infusion_start(
        user=coordinator, patient=patient, product=product, infused_at=timezone.now() - timedelta(hours=2)
    )
    assert patient.history.get().history_user == coordinator
    assert infusion.history.get().history_user == coordinator
    assert infusion.care_team_id == team.pk


@pytest.mark.django_db
def test_second_active_infusion_is_a_conflict(coordinator, infusion, product):
    with pytest.raises(ObservationConflict, match="already has an active infusion"):
        registration.infusion_start(
            user=coordinator, patient=infusion.patient, product=product, infused_at=timezone.now()
        )
    assert Infusion.objects.filter(patient=infusion.patient).count() == 1


@pytest.mark.django_db
def test_bad_values_name_their_field(coordinator, team, patient, product):
    with pytest.raises(ValidationError) as caught:
        registration.patient_register(
            user=coordinator, care_team_id=team.pk, **{**PATIENT, "date_of_birth": date(1800, 1, 1)}
        )
    assert "1900" in caught.value.message_dict["date_of_birth"][0]
    with pytest.raises(ValidationError) as caught:
        registration.patient_register(
            user=coordinator, care_team_id=team.pk, **{**PATIENT, "weight_kg": Decimal("900")}
        )
    assert "350" in caught.value.message_dict["weight_kg"][0]
    with pytest.raises(ValidationError) as caught:
        registration.infusion_start(
            user=coordinator, patient=patient, product=product, infused_at=timezone.now() + timedelta(days=1)
        )
    assert "future" in caught.value.message_dict["infused_at"][0]
    assert not Patient.objects.filter(mrn="REG-1").exists()


@pytest.mark.django_db
def test_nurse_and_other_team_may_not_register(nurse, coordinator, team, other_team):
    with pytest.raises(PermissionDenied):
        registration.patient_register(user=nurse, care_team_id=team.pk, **PATIENT)
    with pytest.raises(PermissionDenied):
        registration.patient_register(user=coordinator, care_team_id=other_team.pk, **PATIENT)
