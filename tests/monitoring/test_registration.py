"""The services that open a course (``monitoring.registration``): the same rules for the API and the
coordinator's screens, and a history row naming who did it."""

from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

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


@pytest.mark.django_db
def test_course_list_says_each_time_in_its_teams_zone(client, coordinator, team, infusion):
    team.time_zone = "Europe/Berlin"
    team.save()
    client.force_login(coordinator)
    page = client.get("/courses/").content.decode()
    local = infusion.infused_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert local.strftime("%d %b %Y %H:%M %Z") in page and local.strftime("%Z") in ("CET", "CEST")
    assert "Close monitoring" in page


@pytest.mark.django_db
def test_screen_refuses_what_the_api_refuses(client, coordinator, team, product):
    """The same service behind both: a future infusion time is refused with the same words."""
    patient = registration.patient_register(user=coordinator, care_team_id=team.pk, **PATIENT)
    client.force_login(coordinator)
    future = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    screen = client.post(
        f"/courses/patients/{patient.pk}/infusion/start/", {"product": product.pk, "infused_at": future}
    )
    api = client.post(
        "/api/infusions/",
        {
            "patient": patient.pk,
            "product": product.pk,
            "infused_at": (timezone.now() + timedelta(days=2)).isoformat(),
        },
        content_type="application/json",
    )
    assert screen.status_code == 422 and api.status_code == 400
    message = "The infusion time cannot be in the future."
    assert message in screen.content.decode() and api.json()["infused_at"] == [message]
    assert not Infusion.objects.filter(patient=patient).exists()
