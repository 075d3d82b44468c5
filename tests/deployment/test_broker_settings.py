"""The queues and transport options the settings give Celery for each broker (config/settings/broker.py)."""

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.celery import app
from config.settings.broker import broker_settings

VAR = Path("/tmp/carttrack-var")


def by_name(queues):
    return {q.name: q for q in queues}


@pytest.mark.parametrize("url", ["amqp://guest:guest@rabbit:5672/carttrack", "amqps://u:p@rabbit:5671/ct"])
def test_rabbitmq_gets_quorum_queues_on_topic_exchanges_and_publisher_confirms(url):
    broker = broker_settings(url, broker_dir=VAR)
    queues = by_name(broker.queues)
    assert set(queues) == {"critical", "default"}
    for name, queue in queues.items():
        assert queue.queue_arguments == {"x-queue-type": "quorum"}
        assert (queue.exchange.name, queue.exchange.type, queue.routing_key) == (name, "topic", name)
    assert broker.transport_options == {"confirm_publish": True}
    assert (broker.default_queue_type, broker.default_exchange_type) == ("quorum", "topic")


def test_redis_gets_two_separate_queues_and_a_visibility_timeout_above_the_longest_countdown():
    broker = broker_settings("redis://127.0.0.1:6379/0", broker_dir=VAR)
    queues = by_name(broker.queues)
    # Each queue on its own exchange and key: a critical message is never copied to "default".
    assert {(q.exchange.name, q.routing_key) for q in queues.values()} == {
        ("critical", "critical"),
        ("default", "default"),
    }
    assert all(not q.queue_arguments for q in queues.values())
    assert broker.transport_options == {"visibility_timeout": 3600}


def test_sentinel_names_the_primary_and_fails_fast_on_dead_connections():
    url = "sentinel://:pw@s1:26379;sentinel://:pw@s2:26379;sentinel://:pw@s3:26379"
    broker = broker_settings(url, broker_dir=VAR, sentinel_master="carttrack", sentinel_password="spw")
    assert broker.transport_options == {
        "visibility_timeout": 3600,
        "master_name": "carttrack",
        "socket_timeout": 5,
        "socket_connect_timeout": 5,
        "health_check_interval": 25,
        "sentinel_kwargs": {"password": "spw"},
    }


def test_sentinel_without_the_primary_name_is_refused_naming_the_variable():
    with pytest.raises(ImproperlyConfigured, match="CELERY_BROKER_SENTINEL_MASTER"):
        broker_settings("sentinel://s1:26379", broker_dir=VAR)


def test_sentinel_settings_with_a_plain_redis_url_are_refused_rather_than_ignored():
    with pytest.raises(ImproperlyConfigured, match="sentinel:// CELERY_BROKER_URL"):
        broker_settings("redis://r:6379/0", broker_dir=VAR, sentinel_master="carttrack")


def test_grading_triggered_alert_work_goes_to_critical_and_everything_else_to_default():
    app.loader.import_default_modules()
    route = {name: app.amqp.router.route({}, name)["queue"].name for name in app.tasks}
    critical = {name for name, queue in route.items() if queue == "critical"}
    assert critical == {
        "alerts.process_evaluation",
        "alerts.tick",
        "alerts.send_step",
        "alerts.audit",
        "alerts.overdue_checks",
        "followup.process_findings",
    }
    others = {
        queue for name, queue in route.items() if name not in critical and not name.startswith("celery.")
    }
    assert others == {"default"}
