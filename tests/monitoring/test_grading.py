"""The database → clinical core bridge: patient facts, settings and censoring reach the engine."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from monitoring import grading
from monitoring.models import DecisionPolicy, Infusion, InfusionStatus
from tests import factories

from .conftest import FEVER_NOREPI


def test_case_carries_exact_age_weight_indication_product_and_t_hours(infusion, record, enqueued):
    obs, _ev, _ = record(infusion, "vitals", FEVER_NOREPI, hours_ago=2)
    case = grading.case_dict(infusion)
    patient = case["patient"]
    assert abs(patient["age_years"] - infusion.patient.age_years_at(infusion.infused_at)) < 1e-9
    assert patient["weight_kg"] == 62.0 and patient["sex"] == "M"
    assert patient["indication"] == "Large B-cell lymphoma" and patient["product"] == infusion.product.name
    (only,) = case["observations"]
    assert only["kind"] == "vitals" and abs(only["t_hours"] - infusion.hours_after(obs.observed_at)) < 1e-9
    assert "follow_up" not in case


def test_unchanged_home_oxygen_is_not_hypoxia(team, product, record, enqueued):
    patient = factories.make_patient(team, home_o2_l_min=Decimal("2.0"))
    infusion = factories.make_infusion(patient, product)
    vitals = {
        "temp_c": 38.4,
        "hr": 104,
        "sbp": 118,
        "dbp": 70,
        "o2_device": "nasal_cannula",
        "o2_flow_l_min": 2,
    }
    _obs, evaluation, _ = record(infusion, "vitals", vitals)
    assert grading.case_dict(infusion)["patient"]["home_o2_l_min"] == 2.0
    assert evaluation.crs_grade == 1
    _obs, evaluation, _ = record(infusion, "vitals", {**vitals, "o2_flow_l_min": 4}, hours_ago=0.5)
    assert evaluation.crs_grade == 2  # increased requirement counts


def test_newest_site_policy_overrides_the_defaults(infusion, record, enqueued):
    DecisionPolicy.objects.create(overrides={"tocilizumab_max_dose_mg": 800}, note="old")
    DecisionPolicy.objects.create(overrides={"tocilizumab_max_dose_mg": 400}, note="newest")
    _obs, evaluation, _ = record(infusion, "vitals", FEVER_NOREPI)
    assert evaluation.settings["tocilizumab_max_dose_mg"] == 400
    toci = next(s for s in evaluation.suggestions if s["code"] == "tocilizumab")
    assert toci["dose_mg"] == 400


def test_close_reason_becomes_the_follow_up_censoring(infusion):
    closed_at = timezone.now() - timedelta(hours=1)
    Infusion.objects.filter(pk=infusion.pk).update(
        status=InfusionStatus.CLOSED, close_reason="death", closed_at=closed_at
    )
    infusion.refresh_from_db()
    assert grading.case_dict(infusion)["follow_up"] == {"death_hours": infusion.hours_after(closed_at)}
    Infusion.objects.filter(pk=infusion.pk).update(close_reason="monitoring_complete")
    infusion.refresh_from_db()
    assert list(grading.case_dict(infusion)["follow_up"]) == ["last_follow_up_hours"]
