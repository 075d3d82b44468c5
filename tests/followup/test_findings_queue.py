"""After a follow-up result commits, its findings go to a worker as the task ``followup.process_findings``
(sent by its registered name, the result's id its only argument, on the critical queue); with the
broker down they are processed in the saving process, so the physicians are still paged."""

from __future__ import annotations

import pytest
from kombu.exceptions import OperationalError

from alerts import tasks as alert_tasks
from alerts.models import Alert, Syndrome
from config.celery import app as celery_app
from config.settings.broker import CRITICAL_QUEUE
from followup import services as followup_services
from followup.models import FollowupEvaluation
from monitoring import services

from .conftest import HOUR, make_course

#: anti-dsDNA positive twice in a row after it had seroconverted: serological re-activation (SERO-3).
SEROLOGY = ((-120, 250), (672, 80), (2160, 20), (4380, 45), (6570, 60))


@pytest.fixture(autouse=True)
def no_toxicity_alerts(monkeypatch):
    monkeypatch.setattr(alert_tasks.process_evaluation, "delay", lambda evaluation_id: None)


def record_serology(course, user, capture) -> None:
    for hours, value in SEROLOGY:
        with capture(execute=True):
            services.observation_record(
                infusion=course,
                kind="lab",
                payload={"anti_dsdna_IU_mL": value, "anti_dsdna_cutoff_IU_mL": 30},
                observed_at=course.infused_at + HOUR * hours,
                recorded_by=user,
            )


def test_each_committed_result_is_sent_to_a_worker_by_the_task_name_with_its_id_only(
    monkeypatch, lupus_patient, rheumatologist, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(
        celery_app,
        "send_task",
        lambda name, args=None, kwargs=None, **options: sent.append((name, args, kwargs)),
    )
    course = make_course(lupus_patient, months_ago=10)
    record_serology(course, rheumatologist, django_capture_on_commit_callbacks)
    results = list(
        FollowupEvaluation.objects.filter(infusion=course).order_by("id").values_list("id", flat=True)
    )
    assert len(results) == len(SEROLOGY)
    assert sent == [("followup.process_findings", [pk], None) for pk in results]
    # Nothing was processed here: the worker raises the alert.
    assert not Alert.objects.filter(infusion=course).exists()


def test_the_name_sent_is_the_registered_task_and_it_runs_on_the_critical_queue():
    celery_app.loader.import_default_modules()
    task = celery_app.tasks[followup_services.PROCESS_FINDINGS_TASK]
    assert task.name == "followup.process_findings"
    assert celery_app.amqp.router.route({}, task.name)["queue"].name == CRITICAL_QUEUE


def test_with_the_broker_down_the_findings_are_processed_in_the_saving_process(
    monkeypatch, lupus_patient, rheumatologist, django_capture_on_commit_callbacks
):
    def broker_down(name, *args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(celery_app, "send_task", broker_down)
    course = make_course(lupus_patient, months_ago=10)
    record_serology(course, rheumatologist, django_capture_on_commit_callbacks)
    alert = Alert.objects.get(infusion=course, syndrome=Syndrome.SEROLOGY)
    assert alert.urgency == "routine"
    assert alert.policy_snapshot["steps"][0]["role"] == "physician"
