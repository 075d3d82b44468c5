"""The alert dispatcher sends due steps on its own threads and hands only what is due beyond its free
threads to the critical pool: every claimed step goes exactly one way, none is left pending."""

from __future__ import annotations

import threading

import pytest
from django.utils import timezone

from alerts import dispatcher, services
from alerts.models import EscalationStep, StepStatus

from .conftest import make_evaluation

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_due_steps(ward):
    """An alert whose first page went out; its next three page steps are due now."""
    services.alert_process_evaluation(evaluation_id=make_evaluation(ward, crs=2).pk)
    pending = EscalationStep.objects.filter(status=StepStatus.PENDING).order_by("sequence")
    ids = list(pending.values_list("id", flat=True)[:3])
    EscalationStep.objects.filter(pk__in=ids).update(due_at=timezone.now())
    return ids


def test_steps_due_beyond_the_free_threads_go_to_the_critical_pool_each_once(three_due_steps, monkeypatch):
    release = threading.Event()
    sent_here: list[int] = []

    def stalled_send(step_id: int, token: str) -> None:  # a gateway that takes its time
        sent_here.append(step_id)
        release.wait(10)

    queued: list[int] = []
    monkeypatch.setattr(dispatcher, "_send", stalled_send)
    monkeypatch.setattr(dispatcher.tasks.send_step, "delay", lambda step_id, token: queued.append(step_id))
    senders = dispatcher.Senders(1)
    stats = dispatcher.DispatcherStats()
    try:
        assert dispatcher.dispatch_once(stats, senders) == 3
    finally:
        release.set()
        senders.shutdown()
    assert len(sent_here) == 1 and len(queued) == 2
    assert sorted(sent_here + queued) == sorted(three_due_steps)
    assert (stats.sent_in_process, stats.queued) == (1, 2)
    assert not EscalationStep.objects.filter(pk__in=three_due_steps, status=StepStatus.PENDING).exists()


@pytest.mark.django_db(transaction=True)  # the threads read the rows on connections of their own
def test_free_threads_send_the_due_steps_themselves(three_due_steps, monkeypatch):
    queued: list[int] = []
    monkeypatch.setattr(dispatcher.tasks.send_step, "delay", lambda step_id, token: queued.append(step_id))
    senders = dispatcher.Senders(4)
    try:
        dispatcher.dispatch_once(dispatcher.DispatcherStats(), senders)
    finally:
        senders.shutdown()
    assert queued == []
    steps = EscalationStep.objects.filter(pk__in=three_due_steps)
    assert {s.status for s in steps} == {StepStatus.SENT}
