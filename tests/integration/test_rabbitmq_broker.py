"""RabbitMQ for the alert-critical queue: a grade handed over by a web process travels through a quorum
queue, with publisher confirms, to a worker of the critical pool, and the physician is paged.

Runs against the RabbitMQ on 127.0.0.1:5672 (guest/guest; scripts/test.sh starts it like PostgreSQL and
Redis) in a virtual host of its own, created and deleted with ``rabbitmqctl``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from alerts.models import Alert
from tests.alerts.conftest import make_evaluation

from .conftest import ROOT, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]


def rabbitmqctl(*args: str) -> str:
    result = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"rabbitmqctl {' '.join(args)}: {result.stderr or result.stdout}"
    return result.stdout


def table(output: str) -> list[list[str]]:
    """Rows of a ``rabbitmqctl list_*`` answer (tab separated; the header line dropped)."""
    lines = [line.split("\t") for line in output.strip().splitlines() if line.strip()]
    return lines[1:] if lines and lines[0][0] in {"name", "vhost"} else lines


@pytest.fixture
def rabbit_url():
    vhost = f"carttrack-{os.environ.get('CARTTRACK_TEST_DB', 'test')}-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    yield vhost, f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    rabbitmqctl("delete_vhost", vhost)


def queues(vhost: str) -> dict[str, tuple[str, int]]:
    rows = table(rabbitmqctl("list_queues", "-p", vhost, "name", "type", "messages"))
    return {name: (kind, int(messages)) for name, kind, messages in rows}


def test_a_grade_reaches_the_critical_pool_through_a_quorum_queue_with_publisher_confirms(
    rabbit_url, app_env, start_worker, ward, receivers
):
    vhost, url = rabbit_url
    hook, _smtp = receivers
    evaluation = make_evaluation(ward["infusion"], crs=2)
    env = app_env | {"CELERY_BROKER_URL": url}

    # A web host hands the grade over while no worker runs: the message must wait on the broker.
    sender = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.send_evaluation", str(evaluation.pk)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = sender.stdout.readline()
        assert line.strip() == "sent", sender.stderr.read() if sender.poll() is not None else line
        # The publishing channel is in confirm mode: the broker acknowledged the message it stored.
        channels = table(rabbitmqctl("list_channels", "vhost", "confirm"))
        assert [confirm for channel_vhost, confirm in channels if channel_vhost == vhost] == ["true"]
    finally:
        sender.stdin.close()
        sender.wait(timeout=30)
    assert sender.returncode == 0, sender.stderr.read()

    # The alert work waits on "critical", a quorum queue (RabbitMQ updates a quorum queue's counts
    # every few seconds, hence the wait); the sender declared no other queue.
    wait_for(lambda: queues(vhost) == {"critical": ("quorum", 1)}, 30, interval=1)
    assert not Alert.objects.filter(infusion=ward["infusion"]).exists()

    # A worker of the critical pool (the chart's -Q critical) takes it and the on-call physician is paged.
    start_worker("critical", beat=False, queues="critical", CELERY_BROKER_URL=url)
    alert = wait_for(lambda: Alert.objects.filter(infusion=ward["infusion"], syndrome="crs").first(), 60)
    wait_for(lambda: Alert.objects.get(pk=alert.pk).first_notified_at, 30)
    wait_for(lambda: any(r["body"]["to"] == "+4915100000001" for r in hook.requests), 30)
    assert alert.evaluation_id == evaluation.pk and alert.grade == 2
    # Acknowledged late, after the page: the message is gone from the queue.
    wait_for(lambda: queues(vhost)["critical"] == ("quorum", 0), 30, interval=1)
