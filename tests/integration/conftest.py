"""Real PostgreSQL + Redis + Celery worker subprocesses (killed in teardown, even on failure)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import Role
from alerts.models import (
    Channel,
    EscalationPolicy,
    EscalationPolicyStep,
    OnCallMember,
    OnCallSchedule,
    Slot,
    Target,
)
from tests import factories
from tests.alerts.receivers import SmtpReceiver, WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]
SECRET = "integration-webhook-secret"


def wait_for(predicate: Callable[[], object], timeout: float = 20.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


class Worker:
    def __init__(self, name: str, env: dict, log_dir: Path, *, beat: bool = True, queues: str = ""):
        self.name = name
        args = [
            str(ROOT / ".venv/bin/celery"),
            "-A",
            "config",
            "worker",
            "-P",
            "solo",
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ]
        if queues:
            args += ["-Q", queues]
        if beat:
            args += ["-B", "-s", str(log_dir / f"{name}-beat-schedule")]
        self.log_dir = log_dir
        self._ready_at: datetime | None = None
        self.log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def ready_at(self) -> datetime | None:
        """When the worker said it was ready to consume (celery logs "celery@… ready."), else None."""
        self.log.flush()
        text = (self.log_dir / f"{self.name}.log").read_text(errors="replace")
        if " ready." not in text:
            return None
        if self._ready_at is None:
            self._ready_at = timezone.now()
        return self._ready_at

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture
def broker_url():
    url = settings.CELERY_BROKER_URL
    assert url.startswith("redis://"), "integration tests need Redis (CELERY_BROKER_URL)"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()


@pytest.fixture
def receivers():
    with WebhookReceiver(SECRET) as hook, SmtpReceiver() as smtp:
        yield hook, smtp


@pytest.fixture
def app_env(transactional_db, broker_url, tmp_path, receivers):
    """The environment of a CAR-T Track process (worker, sender) on the pytest test database."""
    hook, smtp = receivers
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.integration.worker_settings",
            "DATABASE_URL": database_url,
            "DB_CONN_MAX_AGE": "0",
            "CELERY_BROKER_URL": broker_url,
            "CARTTRACK_VAR_DIR": str(tmp_path),
            "ALERT_TICK_SECONDS": "1",
            "ALERT_AUDITOR_SECONDS": "2",
            "ALERT_STEP_STUCK_SECONDS": "3",
            "ALERT_WEBHOOK_URL": hook.url,
            "ALERT_WEBHOOK_SECRET": SECRET,
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.port),
            "PYTHONUNBUFFERED": "1",
            "SITE_URL": "https://carttrack.test",
        }
    )
    return env


@pytest.fixture
def start_worker(app_env, tmp_path):
    """Factory: start a worker subprocess against the pytest test database (committed rows only)."""
    workers: list[Worker] = []

    def start(
        name: str = "w1", *, beat: bool = True, queues: str = "", webhook_url: str | None = None, **extra_env
    ) -> Worker:
        env = dict(app_env)
        if webhook_url:
            env["ALERT_WEBHOOK_URL"] = webhook_url
        env.update({k: str(v) for k, v in extra_env.items()})
        worker = Worker(name, env, tmp_path, beat=beat, queues=queues)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.kill()
    for log in tmp_path.glob("*.log"):
        sys.stdout.write(f"--- {log.name} (last 3000 chars)\n{log.read_text(errors='replace')[-3000:]}\n")


@pytest.fixture
def ward(transactional_db):
    """A team with a 2-step SMS+email policy, a primary and a backup on call, an active infusion."""
    team = factories.make_team("Integration ward")
    primary = factories.make_user(Role.PHYSICIAN, team, username="int_primary")
    backup = factories.make_user(Role.PHYSICIAN, team, username="int_backup")
    nurse = factories.make_user(Role.NURSE, team, username="int_nurse")
    factories.make_user(Role.PHYSICIAN, team, username="int_attending", is_lead=True)
    for user, phone in ((primary, "+4915100000001"), (backup, "+4915100000002")):
        user.phone = phone
        user.save()
    policy = EscalationPolicy.objects.create(
        team=team, repeat_count=0, reminder_minutes=30, final_wait_minutes=5, final_channels=[Channel.INAPP]
    )
    EscalationPolicyStep.objects.create(
        policy=policy,
        position=0,
        target=Target.ONCALL_PRIMARY,
        channels=[Channel.INAPP, Channel.SMS, Channel.EMAIL],
        wait_minutes=5,
    )
    EscalationPolicyStep.objects.create(
        policy=policy,
        position=1,
        target=Target.ONCALL_BACKUP,
        channels=[Channel.INAPP, Channel.SMS, Channel.EMAIL],
        wait_minutes=5,
    )
    start = timezone.now().date() - timedelta(days=2)
    for slot, user in ((Slot.PRIMARY, primary), (Slot.BACKUP, backup)):
        schedule = OnCallSchedule.objects.create(
            team=team, slot=slot, start_date=start, handover_time=dtime(0, 0)
        )
        OnCallMember.objects.create(schedule=schedule, user=user)
    patient = factories.make_patient(team)
    infusion = factories.make_infusion(patient, factories.make_product(), hours_ago=30)
    return {"team": team, "primary": primary, "backup": backup, "nurse": nurse, "infusion": infusion}
