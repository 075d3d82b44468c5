"""The Celery broker's queues and transport options for each kind of broker URL (docs/deployment.md 4, 6).

Two queues on every broker: ``critical`` (grading-triggered alert work, the escalation tick, the
auditor, overdue checks: short tasks, consumed by a pool of its own so that no export or import ever
delays a page) and ``default`` (everything else).

* ``amqp://``/``amqps://`` (RabbitMQ): both queues are **quorum queues** (replicated with Raft) bound to
  topic exchanges (Celery's native delayed delivery, used by retry countdowns, needs topic exchanges),
  and the producer waits for **publisher confirms**: a task accepted by ``delay()`` is on a majority of
  the broker's nodes.
* ``sentinel://`` (Redis with Sentinel): kombu asks the Sentinels for the current primary by its name.
* ``redis://``/``rediss://`` (the default): plain queues, a visibility timeout above the longest countdown.
* ``filesystem://`` (no server; development only).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

CRITICAL_QUEUE = "critical"
DEFAULT_QUEUE = "default"
QUEUE_NAMES = (CRITICAL_QUEUE, DEFAULT_QUEUE)
# Grading-triggered alert work and everything that sends a due step: alerts.* (process_evaluation, the
# tick, the auditor, overdue checks) and the follow-up findings of a saved observation.
TASK_ROUTES = {
    "alerts.*": {"queue": CRITICAL_QUEUE},
    "followup.process_findings": {"queue": CRITICAL_QUEUE},
}
# Above the longest countdown any task uses (retry back-off is capped at 600 s): a task a dead worker held
# is handed out again after this long on Redis (the auditor repairs alert work sooner).
REDIS_VISIBILITY_TIMEOUT_SECONDS = 3600
AMQP_SCHEMES = ("amqp://", "amqps://", "pyamqp://")


@dataclass(frozen=True)
class BrokerSettings:
    transport_options: dict[str, object]
    queues: tuple[Queue, ...]
    default_queue_type: str = "classic"
    default_exchange_type: str = "direct"


def broker_settings(
    url: str, *, broker_dir: Path, sentinel_master: str = "", sentinel_password: str = ""
) -> BrokerSettings:
    """The queues and transport options for ``url`` (``CELERY_BROKER_URL``)."""
    if url.startswith(AMQP_SCHEMES):
        quorum = {"x-queue-type": "quorum"}
        return BrokerSettings(
            transport_options={"confirm_publish": True},
            queues=tuple(
                Queue(name, Exchange(name, type="topic"), routing_key=name, queue_arguments=quorum)
                for name in QUEUE_NAMES
            ),
            default_queue_type="quorum",
            default_exchange_type="topic",
        )
    queues = tuple(Queue(name, Exchange(name), routing_key=name) for name in QUEUE_NAMES)
    if url.startswith("filesystem://"):
        return BrokerSettings(
            transport_options={
                "data_folder_in": str(broker_dir / "queue"),
                "data_folder_out": str(broker_dir / "queue"),
                "processed_folder": str(broker_dir / "processed"),
                "store_processed": False,
                # Poll often: a new grade must reach the physician within seconds, not a polling cycle.
                "polling_interval": 0.1,
            },
            queues=queues,
        )
    redis_options: dict[str, object] = {"visibility_timeout": REDIS_VISIBILITY_TIMEOUT_SECONDS}
    if url.startswith("sentinel://"):
        if not sentinel_master:
            raise ImproperlyConfigured(
                "CELERY_BROKER_SENTINEL_MASTER must name the primary the Sentinels monitor "
                "(their 'sentinel monitor <name> …' line) when CELERY_BROKER_URL is sentinel://"
            )
        redis_options |= {
            "master_name": sentinel_master,
            "socket_timeout": 5,  # a publish on a dead connection fails instead of hanging
            "socket_connect_timeout": 5,
            "health_check_interval": 25,  # drop half-open connections after a fail-over
        }
        if sentinel_password:
            redis_options["sentinel_kwargs"] = {"password": sentinel_password}
    elif sentinel_master or sentinel_password:
        raise ImproperlyConfigured(
            "CELERY_BROKER_SENTINEL_MASTER/CELERY_BROKER_SENTINEL_PASSWORD apply only to a "
            "sentinel:// CELERY_BROKER_URL"
        )
    return BrokerSettings(transport_options=redis_options, queues=queues)
