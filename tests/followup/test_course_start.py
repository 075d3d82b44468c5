"""Starting the infusion of a planned course (ELIG-5): the coordinator records product, dose, time in
the team's zone and who gave it; refused while the work-up or the washout misses items unless the
treating physician's override is recorded, which is kept with the course."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from carttrack.followup.eligibility import WORKUP_ITEMS
from followup.models import PlannedCourse, PlannedCourseStatus
from monitoring.models import Infusion
from tests import factories

BERLIN = ZoneInfo("Europe/Berlin")
COMPLETE_HISTORY = [
    {
        "drug": "mycophenolate mofetil",
        "start": "2024-01-01",
        "end": "2024-09-01",
        "dose": "3 g/day",
        "response": "partial",
        "adherent": True,
        "induction": False,
    }
]


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr("monitoring.services._enqueue_alert_processing", lambda evaluation_id: None)


@pytest.fixture
def coordinator(rheum_team):
    return factories.make_user(Role.COORDINATOR, rheum_team, username="coordinator_start")


@pytest.fixture
def nurse(rheum_team):
    user = factories.make_user(Role.NURSE, rheum_team, username="nurse_start")
    user.first_name, user.last_name = "Nora", "Nurse"
    user.save()
    return user


@pytest.fixture
def product(db):
    return factories.make_product("MB-CART19.1")


def make_plan(patient, *, complete: bool) -> PlannedCourse:
    workup = {key: "done" for key, _ in WORKUP_ITEMS} if complete else {"pre_treatment_activity": "SLEDAI 12"}
    workup["history"] = COMPLETE_HISTORY if complete else []
    return PlannedCourse.objects.create(
        patient=patient,
        care_team=patient.care_team,
        planned_leukapheresis_at=timezone.now() - timedelta(days=20),
        workup=workup,
        last_given={},
    )


def form_data(product, given_by, *, wall_time: str = "2026-01-15T10:30", **extra) -> dict:
    return {
        "product": product.pk,
        "dose": "1",
        "dose_unit": "e6_per_kg",
        "infused_at": wall_time,
        "given_by": given_by.pk,
        **extra,
    }


def url(patient) -> str:
    return reverse("followup:course_start", args=[patient.pk])


def test_a_complete_planned_course_becomes_its_infusion_in_the_teams_zone(
    client, coordinator, nurse, lupus_patient, product
):
    plan = make_plan(lupus_patient, complete=True)
    client.force_login(coordinator)
    page = client.get(url(lupus_patient)).content.decode()
    assert "The work-up is complete and every washout is cleared." in page
    assert "override_reason" not in page  # nothing to override: not offered
    response = client.post(url(lupus_patient), form_data(product, nurse))
    assert response.status_code == 302
    assert response["Location"] == reverse("monitoring:patient_detail", args=[lupus_patient.pk])
    infusion = Infusion.objects.get(patient=lupus_patient)
    # 10:30 on the team's wall clock (Berlin, CET in January) is 09:30 UTC.
    assert infusion.infused_at == datetime(2026, 1, 15, 10, 30, tzinfo=BERLIN)
    assert infusion.product == product
    plan.refresh_from_db()
    assert plan.status == PlannedCourseStatus.INFUSED and plan.infusion == infusion
    assert (plan.dose, plan.dose_unit, plan.given_by, plan.started_by) == (
        Decimal("1.000"),
        "e6_per_kg",
        nurse,
        coordinator,
    )
    assert plan.override_by is None and plan.override_missing == []
    history = infusion.history.get()
    assert history.history_user == coordinator
    assert history.history_change_reason == "infusion of MB-CART19.1 started from its planned course"
    follow_up = client.get(reverse("followup:patient", args=[lupus_patient.pk])).content.decode()
    assert "Started from its planned course: 1 × 10⁶ CAR-T cells/kg, given by Nora Nurse" in follow_up


def test_missing_items_refuse_the_start_and_say_what_is_missing(
    client, coordinator, nurse, lupus_patient, product
):
    plan = make_plan(lupus_patient, complete=False)
    client.force_login(coordinator)
    page = client.get(url(lupus_patient)).content.decode()
    assert "Still missing before this course can go ahead" in page
    assert "Work-up: organs involved" in page
    response = client.post(url(lupus_patient), form_data(product, nurse))
    assert response.status_code == 422
    html = response.content.decode()
    assert "Still missing: Work-up: organs involved" in html
    assert "Choose the treating physician of this care team who decided." in html
    assert not Infusion.objects.filter(patient=lupus_patient).exists()
    plan.refresh_from_db()
    assert plan.status == PlannedCourseStatus.PLANNED


def test_the_physicians_override_is_recorded_with_what_was_missing(
    client, coordinator, nurse, rheumatologist, lupus_patient, product
):
    plan = make_plan(lupus_patient, complete=False)
    client.force_login(coordinator)
    reason = "Active nephritis: the board decided to proceed; history is in the referral letter."
    response = client.post(
        url(lupus_patient),
        form_data(product, nurse, override_by=rheumatologist.pk, override_reason=reason),
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    infusion = Infusion.objects.get(patient=lupus_patient)
    assert plan.status == PlannedCourseStatus.INFUSED and plan.infusion == infusion
    assert plan.override_by == rheumatologist and plan.override_reason == reason
    assert "Work-up: organs involved" in plan.override_missing
    assert "override by" in infusion.history.get().history_change_reason
    follow_up = client.get(reverse("followup:patient", args=[lupus_patient.pk])).content.decode()
    assert "Infused with an override" in follow_up and reason in follow_up
    assert str(rheumatologist) in follow_up


def test_an_override_by_someone_who_is_not_a_physician_of_the_team_is_refused(
    client, coordinator, nurse, lupus_patient, product, team
):
    make_plan(lupus_patient, complete=False)
    outsider = factories.make_user(Role.PHYSICIAN, team)
    client.force_login(coordinator)
    for who in (nurse, outsider):
        response = client.post(
            url(lupus_patient),
            form_data(product, nurse, override_by=who.pk, override_reason="board decision"),
        )
        assert response.status_code == 422
    assert not Infusion.objects.filter(patient=lupus_patient).exists()


@pytest.mark.parametrize(
    ("dose", "unit", "message"),
    [
        ("250", "e6_per_kg", "Dose must be between 0.01 and 100 × 10⁶ CAR-T cells/kg."),
        ("0.05", "e6_total", "Dose must be between 0.1 and 10000 × 10⁶ CAR-T cells (total)."),
    ],
)
def test_a_dose_outside_its_range_is_refused_naming_the_field_and_range(
    client, coordinator, nurse, lupus_patient, product, dose, unit, message
):
    make_plan(lupus_patient, complete=True)
    client.force_login(coordinator)
    response = client.post(url(lupus_patient), form_data(product, nurse, dose=dose, dose_unit=unit))
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html and 'href="#id_dose">Dose</a>' in html
    assert f'value="{dose}"' in html  # what was typed is kept
    assert not Infusion.objects.filter(patient=lupus_patient).exists()


def test_a_patient_with_an_active_infusion_cannot_start_another(
    client, coordinator, nurse, lupus_patient, product
):
    factories.make_infusion(lupus_patient)
    plan = make_plan(lupus_patient, complete=True)
    client.force_login(coordinator)
    response = client.post(url(lupus_patient), form_data(product, nurse))
    assert response.status_code == 422
    assert "already has an active infusion" in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == PlannedCourseStatus.PLANNED
    assert Infusion.objects.filter(patient=lupus_patient).count() == 1


def test_only_coordinators_start_and_a_patient_without_a_plan_has_nothing_to_start(
    client, coordinator, rheumatologist, nurse, lupus_patient, product
):
    client.force_login(coordinator)
    assert client.get(url(lupus_patient)).status_code == 404
    make_plan(lupus_patient, complete=True)
    client.force_login(rheumatologist)
    assert client.post(url(lupus_patient), form_data(product, nurse)).status_code == 403
    assert not Infusion.objects.filter(patient=lupus_patient).exists()
