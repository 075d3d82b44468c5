"""docker-compose.yml is written for users (no Docker engine here): check it against the settings
and the Celery app so that it cannot silently drift from them."""

import re
from pathlib import Path

import pytest
import yaml

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["web", "worker", "beat", "migrate"]


def settings_env_names() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "config" / "settings").glob("*.py"):
        text = path.read_text()
        names |= set(re.findall(r"""os\.environ(?:\.get)?\(\s*["']([A-Z_][A-Z0-9_]*)["']""", text))
        names |= set(re.findall(r"""env_(?:bool|list|int)\(\s*["']([A-Z_][A-Z0-9_]*)["']""", text))
    return names


def test_every_application_service_only_sets_variables_the_settings_read():
    # DJANGO_SETTINGS_MODULE is read by manage.py, wsgi.py and the Celery app, not by a settings module.
    known = settings_env_names() | {"DJANGO_SETTINGS_MODULE"}
    for name in APP_SERVICES:
        env = SERVICES[name]["environment"]
        unknown = sorted(set(env) - known)
        assert not unknown, f"{name} sets {unknown}, which no settings module reads"


def test_application_services_use_postgres_redis_and_production_settings():
    for name in APP_SERVICES:
        env = SERVICES[name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379/")


def test_worker_and_beat_run_this_projects_celery_app():
    for name in ("worker", "beat"):
        command = SERVICES[name]["command"]
        assert command[:3] == ["celery", "-A", "config"]
        assert command[3] == name
    assert celery_app.main == "carttrack"


def test_exactly_one_beat_and_a_one_shot_migrate_that_the_app_waits_for():
    assert SERVICES["beat"]["deploy"]["replicas"] == 1
    assert SERVICES["migrate"]["restart"] == "no"
    assert SERVICES["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    for name in ("web", "worker", "beat"):
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_redis_keeps_messages_append_only_and_never_evicts():
    command = " ".join(SERVICES["redis"]["command"])
    assert "--appendonly yes" in command
    assert "--maxmemory-policy noeviction" in command


@pytest.mark.parametrize("name", ["postgres", "redis", "web", "worker", "beat"])
def test_long_running_services_have_health_checks(name):
    assert SERVICES[name]["healthcheck"]["test"]


def test_health_urls_used_by_compose_exist():
    from django.urls import resolve

    resolve("/health/")
    resolve("/health/escalations")


def test_beat_schedule_only_names_registered_tasks():
    from alerts.schedule import BEAT_SCHEDULE

    celery_app.loader.import_default_modules()
    assert BEAT_SCHEDULE, "the scheduler must have periodic tasks (escalation tick, auditor)"
    for entry in BEAT_SCHEDULE.values():
        assert entry["task"] in celery_app.tasks, entry["task"]
        assert entry["schedule"] <= 60 if isinstance(entry["schedule"], (int, float)) else True
