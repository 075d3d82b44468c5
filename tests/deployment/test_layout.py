"""docker-compose.yml and the Helm chart run the same processes with the same image, variables and
queues, and both agree with the code: every queue the app sends to is consumed, the dispatcher is on
exactly when its command exists, and settings still pending are really not read yet."""

import pytest

from .chart import COMPONENT, container, env_names, render
from .layout import (
    CRITICAL_QUEUE,
    PENDING_SETTINGS,
    PROCESSES,
    TARGET_QUEUES,
    WORKERS,
    compose,
    consumed_queues,
    dispatcher_command_exists,
    routed_queues,
    settings_env_names,
)

SERVICES = compose()["services"]
# The dispatcher is off by default until its command exists; the comparisons include it.
WITH_DISPATCHER = {"dispatcher": {"enabled": True}}


def chart_workload(name: str) -> dict:
    return render(WITH_DISPATCHER).one("Job" if name == "migrate" else "Deployment", name)


def test_both_run_the_one_image_that_compose_builds():
    compose_image = SERVICES["web"]["image"].rsplit(":", 1)[0]
    chart_images = {container(w)["image"].rsplit(":", 1)[0] for w in render(WITH_DISPATCHER).workloads()}
    assert chart_images == {compose_image}
    assert {SERVICES[name]["image"] for name in PROCESSES} == {SERVICES["web"]["image"]}
    assert all(SERVICES[name]["build"] == "." for name in PROCESSES)


@pytest.mark.parametrize("name", PROCESSES)
def test_each_process_gets_the_same_variables_from_compose_and_the_chart(name):
    assert set(SERVICES[name]["environment"]) == env_names(render(WITH_DISPATCHER), chart_workload(name))


@pytest.mark.parametrize("name", PROCESSES)
def test_each_process_runs_the_same_program_in_compose_and_the_chart(name):
    length = len(PROCESSES[name])
    assert SERVICES[name]["command"][:length] == container(chart_workload(name))["command"][:length]


@pytest.mark.parametrize("name", WORKERS)
def test_each_worker_pool_consumes_the_same_queues_in_compose_and_the_chart(name):
    chart_command = container(chart_workload(name))["command"]
    assert consumed_queues(SERVICES[name]["command"]) == consumed_queues(chart_command)


def all_consumers() -> dict[str, dict[str, set[str]]]:
    return {
        "docker-compose.yml": {name: consumed_queues(SERVICES[name]["command"]) for name in WORKERS},
        "Helm chart": {name: consumed_queues(container(chart_workload(name))["command"]) for name in WORKERS},
    }


def test_every_queue_the_app_sends_to_is_consumed_and_no_worker_waits_on_a_dead_queue():
    routed = routed_queues()
    for where, consumers in all_consumers().items():
        consumed = set().union(*consumers.values())
        missing = sorted(routed - consumed)
        assert not missing, f"{where}: nothing consumes {missing}: those tasks would never run"
        stale = consumed - routed - TARGET_QUEUES
        assert not stale, f"{where}: no task is sent to {sorted(stale)} any more: stop consuming it"


def test_the_critical_queue_has_a_pool_of_its_own():
    for where, consumers in all_consumers().items():
        assert consumers["worker-critical"] == {CRITICAL_QUEUE}, where
        pools = [name for name, queues in consumers.items() if CRITICAL_QUEUE in queues]
        assert pools == ["worker-critical"], where


def test_the_dispatcher_is_on_by_default_exactly_when_its_command_exists():
    deployed = any(d["metadata"]["labels"][COMPONENT] == "dispatcher" for d in render().of_kind("Deployment"))
    exists = dispatcher_command_exists()
    assert deployed == exists, (
        "manage.py alert_dispatcher exists now: set dispatcher.enabled to true in values.yaml"
        if exists
        else "dispatcher.enabled would start a pod whose command does not exist"
    )


def test_settings_still_pending_are_not_read_yet():
    read_now = sorted(set(PENDING_SETTINGS) & settings_env_names())
    assert not read_now, f"the settings read {read_now} now: delete them from PENDING_SETTINGS"


def test_the_replica_url_is_read_by_the_settings():
    assert {"DATABASE_REPLICA_URL", "DATABASE_REPLICA_MAX_LAG_SECONDS"} <= settings_env_names()
