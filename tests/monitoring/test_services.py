"""observation_record / amend / entered-in-error: the behaviour a nurse and the alerting rely on."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from accounts.models import Role
from monitoring import services
from monitoring.models import GradeEvaluation, Infusion, InfusionStatus, Observation, ObservationStatus
from tests import factories

from .conftest import FEVER_NOREPI, NORMAL_VITALS


def codes(evaluation):
    return {s["code"] for s in evaluation.suggestions}


def suggestion(evaluation, code):
    return next(s for s in evaluation.suggestions if s["code"] == code)


def test_fever_with_norepinephrine_is_crs_grade_3_with_why_and_what_to_do(infusion, record, enqueued):
    obs, evaluation, created = record(infusion, "vitals", FEVER_NOREPI)
    assert created and obs.status == ObservationStatus.FINAL
    assert evaluation.triggered_by == obs
    assert (evaluation.crs_grade, evaluation.crs_max) == (3, 3)
    assert any("norepinephrine" in d["text"] for d in evaluation.drivers["crs"])
    assert {"icu_transfer", "tocilizumab", "dexamethasone"} <= codes(evaluation)
    toci = suggestion(evaluation, "tocilizumab")
    assert toci["dose_mg"] == 496.0 and "496 mg" in toci["dose_text"]
    dexa = suggestion(evaluation, "dexamethasone")
    assert dexa["dose_mg"] == 10.0 and "q6h" in dexa["dose_text"]
    assert evaluation.rule_set and evaluation.settings["tocilizumab_mg_per_kg"] == 8.0
    assert evaluation.result["crs"]["current"] == 3
    assert evaluation.observation_count == 1


def test_double_submit_with_the_same_client_uuid_stores_one_observation(infusion, record, enqueued):
    key = uuid.uuid4()
    when = timezone.now() - timedelta(minutes=10)
    first = record(infusion, "vitals", NORMAL_VITALS, observed_at=when, client_uuid=key)
    second = record(infusion, "vitals", dict(NORMAL_VITALS), observed_at=when, client_uuid=key)
    assert first[2] is True and second[2] is False
    assert second[0].pk == first[0].pk and second[1].pk == first[1].pk
    assert Observation.objects.count() == 1 and GradeEvaluation.objects.count() == 1


def test_same_client_uuid_with_different_values_is_a_conflict(infusion, record, enqueued):
    key = uuid.uuid4()
    when = timezone.now() - timedelta(minutes=10)
    record(infusion, "vitals", NORMAL_VITALS, observed_at=when, client_uuid=key)
    with pytest.raises(services.ObservationConflict):
        record(infusion, "vitals", {**NORMAL_VITALS, "temp_c": 38.4}, observed_at=when, client_uuid=key)
    assert Observation.objects.count() == 1


def test_impossible_value_names_the_field_and_the_allowed_range(infusion, record):
    with pytest.raises(ValidationError) as exc:
        record(infusion, "vitals", {"temp_c": 60})
    assert "temp_c" in exc.value.message_dict
    assert "25–45 °C" in exc.value.message_dict["temp_c"][0]
    assert Observation.objects.count() == 0


def test_unknown_field_is_refused(infusion, record):
    with pytest.raises(ValidationError) as exc:
        record(infusion, "vitals", {"temperature": 38})
    assert "temperature" in exc.value.message_dict


def test_closed_infusion_refuses_observations_with_the_reason(infusion, record):
    Infusion.objects.filter(pk=infusion.pk).update(
        status=InfusionStatus.CLOSED,
        close_reason="transferred",
        closed_at=timezone.now() - timedelta(hours=2),
    )
    with pytest.raises(ValidationError) as exc:
        record(infusion, "vitals", NORMAL_VITALS)
    assert "Transferred to another centre" in exc.value.message_dict["infusion"][0]
    assert Observation.objects.count() == 0


def test_future_times_are_refused_beyond_a_small_clock_skew(infusion, record, enqueued):
    with pytest.raises(ValidationError) as exc:
        record(infusion, "vitals", NORMAL_VITALS, observed_at=timezone.now() + timedelta(minutes=30))
    assert "in the future" in exc.value.message_dict["observed_at"][0]
    # a tablet clock 2 minutes ahead is tolerated
    record(infusion, "vitals", NORMAL_VITALS, observed_at=timezone.now() + timedelta(minutes=2))


def test_times_long_before_the_infusion_are_refused_naming_the_limit(infusion, record):
    with pytest.raises(ValidationError) as exc:
        record(infusion, "lab", {"anc_per_uL": 1500}, observed_at=infusion.infused_at - timedelta(days=45))
    assert "30 days" in exc.value.message_dict["observed_at"][0]


def test_alert_task_is_enqueued_only_after_commit(
    infusion, record, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _obs, evaluation, _ = record(infusion, "vitals", FEVER_NOREPI)
        assert enqueued == []  # nothing reaches the broker inside the transaction
    assert callbacks  # alert processing (and the course cache) wait for the commit
    for callback in callbacks:
        callback()
    assert enqueued == [evaluation.pk]


def test_no_task_when_the_transaction_rolls_back(
    infusion, record, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(ValidationError):
        record(infusion, "vitals", {"temp_c": 60})
    assert callbacks == [] and enqueued == []


def test_amend_adds_a_row_keeps_the_original_and_regrades(infusion, record, nurse, enqueued):
    original, first_eval, _ = record(infusion, "vitals", FEVER_NOREPI)
    with pytest.raises(ValidationError):
        services.observation_amend(original=original, payload=NORMAL_VITALS, reason="  ", user=nurse)
    amended, evaluation = services.observation_amend(
        original=original,
        payload={**FEVER_NOREPI, "vasopressors": []},
        reason="pressor was not running",
        user=nurse,
    )
    assert amended.status == ObservationStatus.AMENDED and amended.supersedes == original
    original.refresh_from_db()
    assert original.payload == FEVER_NOREPI  # never updated
    assert list(Observation.objects.current()) == [amended]
    assert (
        evaluation.triggered_by == amended and evaluation.crs_grade == 2
    )  # fever + hypotension, fluids only
    assert first_eval.crs_grade == 3


def test_a_second_correction_of_the_same_observation_is_told_who_won(
    infusion, record, nurse, physician, enqueued
):
    infusion.care_team.time_zone = "Europe/Berlin"
    infusion.care_team.save()
    nurse.display_name = "Nurse Anna Berg"
    nurse.save()
    original, _, _ = record(infusion, "vitals", FEVER_NOREPI)
    amended, _ = services.observation_amend(
        original=original, payload=NORMAL_VITALS, reason="wrong patient's chart", user=nurse
    )
    with pytest.raises(services.ObservationConflict) as exc:
        services.observation_mark_entered_in_error(original=original, reason="duplicate", user=physician)
    assert "already amended" in exc.value.message and "wrong patient's chart" in exc.value.message
    # Who won, by name, and when, in the care team's zone with the zone ("2 Dec 14:05 CET").
    berlin = timezone.localtime(amended.recorded_at, ZoneInfo("Europe/Berlin"))
    assert f"by Nurse Anna Berg at {berlin.day} {berlin:%b %H:%M %Z} " in exc.value.message
    assert berlin.strftime("%Z") in {"CET", "CEST"}


@pytest.mark.django_db(transaction=True)
def test_concurrent_amendments_one_wins_the_other_gets_a_conflict(enqueued):
    team = factories.make_team("Concurrency ward")
    nurse_a = factories.make_user(Role.NURSE, team, username="nurse_a")
    nurse_b = factories.make_user(Role.NURSE, team, username="nurse_b")
    infusion = factories.make_infusion(factories.make_patient(team))
    original, _, _ = services.observation_record(
        infusion=infusion,
        kind="vitals",
        payload=FEVER_NOREPI,
        observed_at=timezone.now() - timedelta(hours=1),
        recorded_by=nurse_a,
        client_uuid=uuid.uuid4(),
    )
    barrier = threading.Barrier(2)
    results: list[object] = []

    def amend(user, temp):
        try:
            barrier.wait(timeout=10)
            results.append(
                services.observation_amend(
                    original=Observation.objects.get(pk=original.pk),
                    payload={**FEVER_NOREPI, "temp_c": temp},
                    reason=f"typo by {user.username}",
                    user=user,
                )
            )
        except Exception as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=amend, args=(u, t)) for u, t in ((nurse_a, 38.6), (nurse_b, 38.7))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    conflicts = [r for r in results if isinstance(r, services.ObservationConflict)]
    wins = [r for r in results if isinstance(r, tuple)]
    assert len(wins) == 1 and len(conflicts) == 1, results
    assert "already amended" in conflicts[0].message
    assert Observation.objects.filter(supersedes=original).count() == 1


def test_entered_in_error_removes_the_value_from_grading_but_keeps_it(infusion, record, nurse, enqueued):
    record(infusion, "vitals", NORMAL_VITALS, hours_ago=3)
    wrong, evaluation, _ = record(infusion, "vitals", FEVER_NOREPI, hours_ago=1)
    assert evaluation.crs_grade == 3
    marker, evaluation = services.observation_mark_entered_in_error(
        original=wrong, reason="wrong patient", user=nurse
    )
    assert marker.status == ObservationStatus.ENTERED_IN_ERROR and marker.supersedes == wrong
    assert evaluation.crs_grade == 0 and evaluation.crs_max == 0
    assert Observation.objects.filter(pk=wrong.pk).exists()
    assert wrong.pk not in Observation.objects.current().values_list("pk", flat=True)


def test_a_nurse_cannot_record_a_death_or_a_crs_diagnosis(infusion, record, nurse):
    for event in ({"event": "death", "attributed_to": "crs"}, {"event": "crs_diagnosed"}):
        with pytest.raises(PermissionDenied):
            record(infusion, "event", event, user=nurse)
    assert Observation.objects.count() == 0


def test_a_physician_records_death_attributed_to_crs_as_grade_5(infusion, record, physician, enqueued):
    record(infusion, "vitals", FEVER_NOREPI, hours_ago=3)
    _obs, evaluation, _ = record(
        infusion, "event", {"event": "death", "attributed_to": "crs"}, user=physician
    )
    assert evaluation.crs_grade == 5 or evaluation.crs_max == 5


def test_only_a_physician_attributes_a_finding_to_another_cause(infusion, record, nurse, physician, enqueued):
    original, evaluation, _ = record(infusion, "vitals", FEVER_NOREPI)
    attributed = {**FEVER_NOREPI, "hypotension_attributed_to": "sepsis"}
    with pytest.raises(PermissionDenied):
        services.observation_amend(original=original, payload=attributed, reason="septic shock", user=nurse)
    _row, evaluation = services.observation_amend(
        original=original, payload=attributed, reason="septic shock", user=physician
    )
    assert evaluation.crs_grade == 1  # fever remains, hypotension is no longer counted as CRS


def test_a_coordinator_cannot_record_observations(infusion, record, coordinator):
    with pytest.raises(PermissionDenied):
        record(infusion, "vitals", NORMAL_VITALS, user=coordinator)


def test_product_tocilizumab_rule_under_30_kg_is_used(team, record, enqueued):
    product = factories.make_product("Tisagenlecleucel", tocilizumab_mg_per_kg_under_30kg=Decimal("12.0"))
    child = factories.make_patient(
        team,
        weight_kg=Decimal("20.0"),
        date_of_birth=timezone.now().date().replace(year=timezone.now().year - 9),
    )
    infusion = factories.make_infusion(child, product)
    _obs, evaluation, _ = record(infusion, "vitals", FEVER_NOREPI)
    assert suggestion(evaluation, "tocilizumab")["dose_mg"] == 240.0
    product.tocilizumab_mg_per_kg_under_30kg = Decimal("8.0")
    product.save()
    _obs, evaluation, _ = record(infusion, "vitals", FEVER_NOREPI, hours_ago=0.5)
    assert suggestion(evaluation, "tocilizumab")["dose_mg"] == 160.0


def test_broker_outage_falls_back_to_processing_the_alert_in_process(
    infusion, record, monkeypatch, django_capture_on_commit_callbacks
):
    from alerts import services as alert_services
    from alerts.tasks import process_evaluation

    def broker_down(evaluation_id):
        raise ConnectionError("redis unreachable")

    processed: list[int] = []
    monkeypatch.setattr(process_evaluation, "delay", broker_down)
    monkeypatch.setattr(
        alert_services, "alert_process_evaluation", lambda *, evaluation_id: processed.append(evaluation_id)
    )
    with django_capture_on_commit_callbacks(execute=True):
        _obs, evaluation, _ = record(infusion, "vitals", FEVER_NOREPI)
    assert processed == [evaluation.pk]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submissions_with_one_client_uuid_store_one_row(enqueued):
    team = factories.make_team("Idempotency ward")
    nurse = factories.make_user(Role.NURSE, team, username="nurse_idem")
    infusion = factories.make_infusion(factories.make_patient(team))
    key, when = uuid.uuid4(), timezone.now() - timedelta(minutes=3)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def submit():
        try:
            barrier.wait(timeout=10)
            results.append(
                services.observation_record(
                    infusion=infusion,
                    kind="vitals",
                    payload=NORMAL_VITALS,
                    observed_at=when,
                    recorded_by=nurse,
                    client_uuid=key,
                )
            )
        except Exception as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(r[2] for r in results) == [False, True], results
    assert Observation.objects.filter(client_uuid=key).count() == 1
    assert GradeEvaluation.objects.count() == 1


def test_an_unknown_lab_field_is_refused_as_unknown_naming_the_fields_allowed(infusion, record):
    """A mistyped field name is said to be unknown (not "impossible"), with the fields a lab takes."""
    with pytest.raises(ValidationError) as exc:
        record(infusion, "lab", {"platelets_per_uL": 160000})
    message = exc.value.message_dict["platelets_per_uL"][0]
    assert message.startswith("field platelets_per_uL: unknown field for lab; allowed: one of: ")
    assert "platelets_10e9_L" in message and "impossible" not in message
