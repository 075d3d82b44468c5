"""docker-compose.yml is written for users (no Docker engine here): check it against the settings, the
URLs and the Celery app, so that it cannot silently drift from them."""

from datetime import timedelta
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import pytest
from celery.schedules import schedule as celery_schedule
from django.urls import resolve

from alerts import views as alert_views
from alerts.schedule import beat_schedule
from config import health
from config.celery import app as celery_app

from .layout import (
    DOTENV,
    PROCESSES,
    REPLICA_READERS,
    ROOT,
    SINGLETONS,
    WORKERS,
    compose,
    compose_env,
    consumed_queues,
    known_env_names,
    runs_beat,
)

COMPOSE = compose()
SERVICES = COMPOSE["services"]
APP_SERVICES = list(PROCESSES)
LONG_RUNNING = ["postgres", "postgres-replica", "redis", "web", *WORKERS, "scheduler"]
# The tick claims due escalation steps: a page may wait for it, so it runs often.
TICK_MAX_SECONDS = 15
PERIODIC_MAX_SECONDS = 60


def test_every_process_of_the_layout_is_a_service_running_its_command():
    assert set(APP_SERVICES) <= set(SERVICES)
    for name, command in PROCESSES.items():
        assert tuple(SERVICES[name]["command"][: len(command)]) == command, name
    assert celery_app.main == "carttrack", "celery -A config is this project's app"


def test_application_services_set_only_variables_the_code_reads():
    known = known_env_names()
    for name in APP_SERVICES:
        unknown = sorted(set(SERVICES[name]["environment"]) - known)
        assert not unknown, f"{name} sets {unknown}, which no settings module reads"


def test_application_services_use_postgres_redis_and_production_settings():
    for name in APP_SERVICES:
        env = compose_env(name, DOTENV)
        assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        database = urlsplit(env["DATABASE_URL"])
        where = (database.scheme, database.hostname, database.port, database.path)
        assert where == ("postgres", "postgres", 5432, "/carttrack")
        assert database.password == DOTENV["POSTGRES_PASSWORD"]
        assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
        assert env["SECRET_KEY"] == DOTENV["SECRET_KEY"]


@pytest.mark.parametrize("missing", DOTENV)
def test_a_missing_secret_stops_compose_with_a_message_naming_it(missing):
    dotenv = {k: v for k, v in DOTENV.items() if k != missing}
    with pytest.raises(KeyError, match=missing):
        for name in SERVICES:
            compose_env(name, dotenv)


def test_the_replica_url_reaches_the_replica_readers_only_and_names_the_replica():
    for name in APP_SERVICES:
        env = compose_env(name, DOTENV)
        assert ("DATABASE_REPLICA_URL" in env) == (name in REPLICA_READERS), name
        if name in REPLICA_READERS:
            replica, primary = urlsplit(env["DATABASE_REPLICA_URL"]), urlsplit(env["DATABASE_URL"])
            assert replica.hostname == "postgres-replica" and replica.port == 5432
            # Streaming replication copies roles and databases: same user, password and database.
            same = ("username", "password", "path")
            assert [getattr(replica, a) for a in same] == [getattr(primary, a) for a in same]
            assert SERVICES[name]["depends_on"]["postgres-replica"]["condition"] == "service_healthy"
        else:
            assert "postgres-replica" not in SERVICES[name]["depends_on"], name


def test_the_replica_is_built_from_the_primary_by_the_repositorys_scripts():
    primary, replica = SERVICES["postgres"], SERVICES["postgres-replica"]
    volumes = [v.split(":") for s in (primary, replica) for v in s["volumes"]]
    mounts = {target: source for source, target, *_ in volumes if source.startswith("./")}
    for source in mounts.values():
        assert (ROOT / source).is_file(), source
    init = [target for target in mounts if target.startswith("/docker-entrypoint-initdb.d/")]
    assert [mounts[t] for t in init] == ["./deploy/compose/postgres/primary-init.sh"]
    assert PurePosixPath(replica["entrypoint"][-1]) in {PurePosixPath(t) for t in mounts}
    assert replica["environment"]["PRIMARY_HOST"] == "postgres"
    password = "POSTGRES_REPLICATION_PASSWORD"
    assert replica["environment"][password] == primary["environment"][password]
    assert replica["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert replica["user"] == "postgres", "postgres refuses to run as root"
    data = {source for source, *_ in volumes if not source.startswith("./")}
    assert len(data) == 2 and data <= set(COMPOSE["volumes"]), "primary and replica keep their own data"


def test_workers_consume_their_pool_queues_and_no_service_but_the_scheduler_runs_beat():
    assert consumed_queues(SERVICES["worker-critical"]["command"]) == {"critical"}
    assert "critical" not in consumed_queues(SERVICES["worker-default"]["command"])
    beats = [name for name, service in SERVICES.items() if runs_beat(service.get("command", []))]
    assert beats == ["scheduler"]


def test_singletons_run_once_and_the_app_waits_for_a_one_shot_migrate():
    for name in SINGLETONS:
        assert SERVICES[name]["deploy"]["replicas"] == 1, name
    assert SERVICES["migrate"]["restart"] == "no"
    assert SERVICES["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in set(APP_SERVICES) - {"migrate"}:
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name


def test_the_dispatcher_runs_by_default_exactly_when_its_command_exists():
    from .layout import dispatcher_command_exists

    assert ("profiles" in SERVICES["dispatcher"]) == (not dispatcher_command_exists()), (
        "the alert_dispatcher command exists now: remove the dispatcher's profile"
        if dispatcher_command_exists()
        else "the dispatcher would crash-loop: its command does not exist yet"
    )


def test_redis_keeps_messages_append_only_and_never_evicts():
    command = " ".join(SERVICES["redis"]["command"])
    assert "--appendonly yes" in command
    assert "--maxmemory-policy noeviction" in command


def test_app_containers_have_a_read_only_root_with_the_var_directory_writable():
    for name in APP_SERVICES:
        service, env = SERVICES[name], compose_env(name, DOTENV)
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"], name
        assert env["CARTTRACK_VAR_DIR"] in service["tmpfs"], name
    beat = SERVICES["scheduler"]["command"]
    (schedule,) = [a.split("=", 1)[1] for a in beat if a.startswith("--schedule=")]
    assert str(PurePosixPath(schedule).parent) in SERVICES["scheduler"]["tmpfs"]


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_services_have_health_checks_that_check_themselves(name):
    test = SERVICES[name]["healthcheck"]["test"]
    assert test[0] in {"CMD", "CMD-SHELL"}
    text = " ".join(test[1:])
    if name in WORKERS:
        command = SERVICES[name]["command"]
        node = command[command.index("-n") + 1]
        assert f"inspect ping -d {node.replace('%h', '$$HOSTNAME')} " in text
    elif name.startswith("postgres"):
        assert "pg_isready" in text
    elif name == "redis":
        assert test[1:] == ["redis-cli", "ping"]
    else:
        assert test[1:3] == ["python", "deploy/healthcheck.py"] and (ROOT / test[2]).is_file()


def test_health_urls_in_compose_are_the_database_and_escalation_checks():
    urls = {name: SERVICES[name]["healthcheck"]["test"][-1] for name in ("web", "scheduler")}
    web, scheduler = urlsplit(urls["web"]), urlsplit(urls["scheduler"])
    assert (web.hostname, web.port) == ("127.0.0.1", 8000)
    assert "--bind=0.0.0.0:8000" in SERVICES["web"]["command"]
    assert resolve(web.path).func is health.liveness
    assert (scheduler.hostname, scheduler.port) == ("web", 8000)
    assert resolve(scheduler.path).func is alert_views.health_escalations


def schedule_seconds(entry: dict) -> float:
    value = entry["schedule"]
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, celery_schedule):
        return value.run_every.total_seconds()
    raise AssertionError(
        f"{entry['task']}: schedule {value!r} is not an interval: say here how often it runs"
    )


def test_the_scheduler_sends_only_registered_tasks_often_enough():
    celery_app.loader.import_default_modules()
    schedule = beat_schedule()
    assert {"alerts.tick", "alerts.audit"} <= {entry["task"] for entry in schedule.values()}
    for entry in schedule.values():
        assert entry["task"] in celery_app.tasks, entry["task"]
        limit = TICK_MAX_SECONDS if entry["task"] == "alerts.tick" else PERIODIC_MAX_SECONDS
        assert 0 < schedule_seconds(entry) <= limit, entry["task"]


def test_schedule_seconds_refuses_a_schedule_it_cannot_measure():
    from celery.schedules import crontab

    assert schedule_seconds({"task": "t", "schedule": timedelta(seconds=5)}) == 5
    with pytest.raises(AssertionError, match="not an interval"):
        schedule_seconds({"task": "t", "schedule": crontab(minute="*/5")})
