"""Grading from the in-memory course (only new rows are read and parsed) must give exactly the grade
a full read of the infusion gives, whatever happened in between: corrections, voided rows, rows
the course never saw, a changed weight or decision policy, rolled-back transactions, threads."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

import carttrack
from monitoring import grading, services
from monitoring.course_cache import COURSES, CourseCache
from monitoring.models import DecisionPolicy, GradeEvaluation, Infusion, Observation, ObservationStatus

from .conftest import FEVER_NOREPI, NORMAL_VITALS


def full_read(infusion: Infusion) -> carttrack.Evaluation:
    """The grade from every current observation, read and parsed from scratch (no cache)."""
    infusion = Infusion.objects.select_related("patient", "product").get(pk=infusion.pk)
    return carttrack.evaluate(
        carttrack.parse_case(grading.case_dict(infusion)), grading.settings_for(infusion)
    )


def without_indexes(value):
    """Drivers name observations by row id (stored) or by position (case file): compare the rest."""
    if isinstance(value, dict):
        return {k: without_indexes(v) for k, v in value.items() if k != "observation_index"}
    if isinstance(value, list):
        return [without_indexes(v) for v in value]
    return value


def assert_same_as_full_read(evaluation: GradeEvaluation) -> None:
    expected = without_indexes(grading.jsonable(full_read(evaluation.infusion).to_dict()))
    assert without_indexes(evaluation.result) == expected
    assert (
        evaluation.observation_count
        == Observation.objects.current().filter(infusion=evaluation.infusion).count()
    )


def committed(django_capture_on_commit_callbacks, write):
    """Run ``write`` and its on-commit work (the course goes back into the cache only then)."""
    with django_capture_on_commit_callbacks(execute=True):
        return write()


@pytest.fixture
def quiet_alerts(monkeypatch):
    from alerts.tasks import process_evaluation

    monkeypatch.setattr(process_evaluation, "delay", lambda evaluation_id: None)


def random_vitals(rng: random.Random) -> dict:
    sbp = rng.randint(70, 140)
    vitals = {
        "temp_c": round(rng.uniform(36.0, 40.2), 1),
        "hr": rng.randint(60, 140),
        "sbp": sbp,
        "dbp": rng.randint(40, min(85, sbp - 10)),  # the core refuses a diastolic at or above the systolic
        "rr": rng.randint(12, 30),
        "spo2": rng.randint(86, 99),
        "o2_device": rng.choice(["room_air", "room_air", "nasal_cannula"]),
    }
    if vitals["o2_device"] == "nasal_cannula":
        vitals["o2_flow_l_min"] = rng.choice([2, 4, 6])
    if rng.random() < 0.15:
        vitals["vasopressors"] = ["norepinephrine"]
    return vitals


@pytest.mark.django_db
@pytest.mark.parametrize("seed", range(6))
def test_random_courses_with_corrections_grade_as_a_full_read(
    seed, infusion, record, nurse, django_capture_on_commit_callbacks, quiet_alerts
):
    rng = random.Random(seed)
    rows: list[Observation] = []
    for _step in range(30):
        action = rng.random()
        current = [o for o in rows if not Observation.objects.filter(supersedes=o).exists()]
        current = [o for o in current if o.status != ObservationStatus.ENTERED_IN_ERROR]
        if action < 0.15 and current:
            original = rng.choice(current)
            obs, evaluation = committed(
                django_capture_on_commit_callbacks,
                lambda original=original: services.observation_amend(
                    original=original, payload=random_vitals(rng), reason="transcription error", user=nurse
                ),
            )
        elif action < 0.25 and current:
            original = rng.choice(current)
            obs, evaluation = committed(
                django_capture_on_commit_callbacks,
                lambda original=original: services.observation_mark_entered_in_error(
                    original=original, reason="wrong patient", user=nurse
                ),
            )
        else:
            # Out-of-order times on purpose: a late entry is dated before earlier rows.
            obs, evaluation, _ = committed(
                django_capture_on_commit_callbacks,
                lambda: record(infusion, "vitals", random_vitals(rng), hours_ago=rng.uniform(0.1, 40)),
            )
        rows.append(obs)
        assert len(COURSES) == 1  # the course is back in memory after each commit
        assert_same_as_full_read(evaluation)


@pytest.mark.django_db
def test_a_row_the_course_never_saw_forces_a_full_read(
    infusion, record, nurse, django_capture_on_commit_callbacks, quiet_alerts
):
    committed(
        django_capture_on_commit_callbacks, lambda: record(infusion, "vitals", NORMAL_VITALS, hours_ago=3)
    )
    # A row inserted some other way with an id below the course's last id (as if committed late).
    Observation.objects.create(
        id=-7,
        infusion=infusion,
        kind="vitals",
        payload=FEVER_NOREPI,
        observed_at=timezone.now() - timedelta(hours=2),
        recorded_by=nurse,
        client_uuid=uuid.uuid4(),
    )
    _obs, evaluation, _ = committed(
        django_capture_on_commit_callbacks, lambda: record(infusion, "vitals", NORMAL_VITALS, hours_ago=1)
    )
    assert evaluation.crs_max == 3  # the unseen febrile row on norepinephrine counts
    assert_same_as_full_read(evaluation)


@pytest.mark.django_db
def test_a_rolled_back_grading_leaves_no_course(
    infusion, record, django_capture_on_commit_callbacks, quiet_alerts
):
    with django_capture_on_commit_callbacks(execute=False):  # the commit never happens
        record(infusion, "vitals", FEVER_NOREPI)
    assert len(COURSES) == 0
    _obs, evaluation, _ = committed(
        django_capture_on_commit_callbacks, lambda: record(infusion, "vitals", NORMAL_VITALS)
    )
    assert_same_as_full_read(evaluation)


@pytest.mark.django_db
def test_a_new_weight_changes_the_tocilizumab_dose_at_the_next_grade(
    infusion, record, django_capture_on_commit_callbacks, quiet_alerts
):
    def toci_mg(evaluation):
        return [s["dose_mg"] for s in evaluation.suggestions if s["code"] == "tocilizumab"]

    _o, first, _ = committed(
        django_capture_on_commit_callbacks, lambda: record(infusion, "vitals", FEVER_NOREPI, hours_ago=2)
    )
    infusion.patient.weight_kg = Decimal("50.0")
    infusion.patient.save()
    _o, second, _ = committed(
        django_capture_on_commit_callbacks, lambda: record(infusion, "vitals", FEVER_NOREPI, hours_ago=1)
    )
    assert toci_mg(second) == [400.0] != toci_mg(first)  # 8 mg/kg x 50 kg
    assert_same_as_full_read(second)


@pytest.mark.django_db
def test_a_new_decision_policy_applies_at_the_next_grade(
    infusion, record, django_capture_on_commit_callbacks, quiet_alerts
):
    committed(
        django_capture_on_commit_callbacks, lambda: record(infusion, "vitals", FEVER_NOREPI, hours_ago=2)
    )
    DecisionPolicy.objects.create(overrides={"tocilizumab_max_dose_mg": 400}, note="site cap")
    _o, evaluation, _ = committed(
        django_capture_on_commit_callbacks, lambda: record(infusion, "vitals", FEVER_NOREPI, hours_ago=1)
    )
    assert evaluation.settings["tocilizumab_max_dose_mg"] == 400
    assert [s["dose_mg"] for s in evaluation.suggestions if s["code"] == "tocilizumab"] == [400.0]
    assert_same_as_full_read(evaluation)


@pytest.mark.django_db(transaction=True)
def test_threads_recording_for_the_same_patients_grade_as_a_full_read(infusion, nurse, quiet_alerts, patient):
    from tests import factories

    second = factories.make_infusion(factories.make_patient(infusion.care_team), infusion.product)
    infusions = [infusion, second]
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(12):
                services.observation_record(
                    infusion=rng.choice(infusions),
                    kind="vitals",
                    payload=random_vitals(rng),
                    observed_at=timezone.now() - timedelta(hours=rng.uniform(0.1, 30)),
                    recorded_by=nurse,
                    client_uuid=uuid.uuid4(),
                )
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    for inf in infusions:
        latest = GradeEvaluation.objects.filter(infusion=inf).order_by("-id").first()
        assert latest is not None
        assert_same_as_full_read(latest)


def test_the_cache_keeps_the_course_that_has_seen_more_and_forgets_the_oldest():
    cache = CourseCache(size=2)

    def course(last_id):
        return grading.Course(basis=(), last_id=last_id, rows=last_id, current={}, evaluator=None)

    cache.put(1, course(10))
    cache.put(1, course(5))  # a slower thread's older course does not replace a newer one
    assert cache.take(1).last_id == 10
    assert cache.take(1) is None  # taken: nobody else grades with it meanwhile
    cache.put(1, course(1))
    cache.put(2, course(1))
    cache.put(3, course(1))
    assert cache.take(1) is None and len(cache) == 2
