"""Escalation benchmark, one module because it is one script run by path (set up, load, measure, tear down).

The escalation chain on PostgreSQL + Redis + Celery, run in up to three ways in one run:
"tick" (as before the dispatcher: one solo worker with its beat, due steps wait for the tick),
"dispatcher" (the deployment's layout: a critical pool, prefork with 2 processes as in the chart and
compose, a default pool, the scheduler and ``manage.py alert_dispatcher`` woken by NOTIFY) and, with
``--ref COMMIT``, the dispatcher mode on another commit's code (before/after under the same load), each on
a fresh database.

    .venv/bin/python bench/escalation.py [--alerts 200] [--spacing 20] [--modes tick,dispatcher]
        [--critical-pool prefork:2|threads:4] [--ref main] [--keep-db]

1. Creates (drops first) the database ``bench_escalation`` (``BENCH_DB_NAME``) and migrates it.
2. Starts the mode's processes (the tick runs every ``ALERT_TICK_SECONDS``, 10 s by default, as in
   production) with SMS/pager going to a local signed-webhook receiver, and waits until every worker
   answers a ping and the dispatcher holds its lock.
3. Records one febrile observation for each of N patients through ``monitoring.services.observation_record``
   (the real path: commit → on_commit → ``alerts.process_evaluation`` → worker → first notification).
   Each opens a CRS alert with a 3-step policy (on-call primary, backup, all physicians) + the leads step.
4. Compresses the policy waits of the open alerts to ``--spacing`` seconds (the step rows are the timers;
   this is the controlled clock) and waits until every step is sent.

Prints, per mode, lateness of steps (sent − due) p50/p95/max, commit → first notification p50/p95/max,
where the time went (due → claimed → sent; commit → alert opened → first notified) and the load average;
the last line is a JSON object with every mode. Exit status 0 when the dispatcher mode (this code) meets
issue 16's targets (lateness p95 ≤ 1 s, max ≤ 2 s, commit → first notification p95 ≤ 0.5 s, nothing
unsent), 1 when it misses them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DB_NAME = os.environ.get("BENCH_DB_NAME", "bench_escalation")
PG = "postgres://postgres@127.0.0.1:5432"
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/4")
SECRET = "bench-webhook-secret"
sys.path.insert(0, str(ROOT))


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


class Receiver:
    def __init__(self) -> None:
        self.count = 0
        self.keys: set[str] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.count += 1
                receiver.keys.add(self.headers.get("Idempotency-Key", ""))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def start_process(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=open(log, "wb"),  # closed with the process
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_process(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=200)
    parser.add_argument("--spacing", type=int, default=20, help="seconds between the steps of one alert")
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between two observations")
    parser.add_argument("--modes", default="tick,dispatcher", help="comma-separated: tick, dispatcher")
    parser.add_argument(
        "--critical-pool",
        default="prefork:2",
        help="pool:concurrency of the critical worker (the chart's and compose's: prefork:2; or threads:4)",
    )
    parser.add_argument(
        "--ref",
        metavar="COMMIT",
        help="first run the dispatcher mode on this commit's code (a temporary git worktree), for a "
        "before/after in one run",
    )
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or set(modes) - {"tick", "dispatcher"}:
        parser.error("--modes takes tick and/or dispatcher")
    pool, _, concurrency = args.critical_pool.partition(":")
    if pool not in ("prefork", "threads") or not concurrency.isdigit() or not 1 <= int(concurrency) <= 16:
        parser.error("--critical-pool takes prefork:N or threads:N with N from 1 to 16")

    receiver = Receiver()
    var_dir = ROOT / "var" / "bench-escalation"
    var_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DATABASE_URL": f"{PG}/{DB_NAME}",
            "CELERY_BROKER_URL": BROKER,
            "CARTTRACK_VAR_DIR": str(var_dir),
            "LOG_LEVEL": "WARNING",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "ALERT_WEBHOOK_URL": receiver.url,
            "ALERT_WEBHOOK_SECRET": SECRET,
            "SITE_URL": "https://carttrack.test",
        }
    )
    os.environ.update(env)
    import django

    django.setup()
    results = {}
    if args.ref:
        results[f"ref {args.ref}"] = run_reference(args)
    for mode in modes:
        results[mode] = run_mode(mode, args, env, receiver, var_dir)
    if not args.keep_db:
        recreate_database_drop()
    final = results.get("dispatcher", results[modes[-1]])
    met = bool(
        final["lateness_p95_s"] <= 1.0
        and (final["lateness_max_s"] or 0) <= 2.0
        and final["commit_to_first_notification_p95_s"] <= 0.5
        and final["steps_unsent"] == 0
    )
    print(json.dumps({"modes": results, "targets": "p95<=1s max<=2s first-p95<=0.5s", "targets_met": met}))
    return 0 if met else 1


def run_reference(args) -> dict:
    """This benchmark (same scenario and layout) on another commit's code, in a temporary worktree."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{args.ref}^{{commit}}"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    tree = Path(tempfile.mkdtemp(prefix="bench-escalation-ref-"))
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), commit], cwd=ROOT, check=True)
    try:
        (tree / ".venv").symlink_to(ROOT / ".venv")  # the same locked dependencies
        shutil.copy(__file__, tree / "bench" / "escalation_current.py")
        command = [
            sys.executable, str(tree / "bench" / "escalation_current.py"), "--modes", "dispatcher",
            "--alerts", str(args.alerts), "--spacing", str(args.spacing), "--interval", str(args.interval),
            "--critical-pool", args.critical_pool,
        ]  # fmt: skip
        env = dict(os.environ, BENCH_DB_NAME=f"{DB_NAME}_ref")
        print(f"== ref {args.ref} ({commit[:10]}): dispatcher mode on that commit's code", flush=True)
        out = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
        sys.stdout.write("".join(f"  ref| {line}\n" for line in out.stdout.splitlines()[:-1]))
        if out.returncode not in (0, 1):
            raise SystemExit(f"the reference run failed:\n{out.stderr[-3000:]}")
        return json.loads(out.stdout.splitlines()[-1])["modes"]["dispatcher"] | {"commit": commit}
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)


def wait_until_ready(names: list[str], dispatcher: bool, timeout: float = 120) -> None:
    """Observations start only when every worker answers a ping and the dispatcher holds its lock (a fixed
    sleep let the first alerts queue up behind a worker still starting on a loaded machine)."""
    from django.db import connection

    from config.celery import app

    deadline = time.time() + timeout
    while time.time() < deadline:
        replies = app.control.ping(timeout=1.0) or []
        answered = {name.split("@")[0] for reply in replies for name in reply}
        locked = True
        if dispatcher:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
                locked = cursor.fetchone()[0] > 0
        if answered >= set(names) and locked:
            return
        time.sleep(0.5)
    raise SystemExit(f"workers {names} (and the dispatcher) not ready within {timeout} s")


def run_mode(mode: str, args, env: dict, receiver: Receiver, var_dir: Path) -> dict:
    """One fresh database, one worker (+ the dispatcher in the "dispatcher" mode), 200 alerts."""
    import redis
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Role
    from alerts.models import Alert, EscalationStep, StepStatus
    from demo.alerting import seed_alerting
    from monitoring.models import ObservationKind
    from monitoring.services import observation_record
    from tests import factories

    connection.close()
    recreate_database()
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    redis.Redis.from_url(BROKER).flushdb()
    receiver.count, receiver.keys = 0, set()
    team = factories.make_team("Bench ward")
    nurse = factories.make_user(Role.NURSE, team, username="bench_nurse")
    for name, lead in (("bench_primary", False), ("bench_backup", False), ("bench_attending", True)):
        user = factories.make_user(Role.PHYSICIAN, team, username=name, is_lead=lead)
        user.phone = "+4915100000000"
        user.pager = f"pager-{name}"
        user.save()
    factories.make_user(Role.COORDINATOR, team, username="bench_coordinator")
    seed_alerting([team])  # 3-step policy (primary, backup, physicians) + primary/backup rotations
    product = factories.make_product("Bench product")
    factories.make_user(Role.NURSE, team, username="bench_charge_nurse", is_lead=True)
    # Infused 2 h ago: no bedside check is overdue yet, so only the CRS alerts are measured.
    infusions = [
        factories.make_infusion(factories.make_patient(team), product, hours_ago=2)
        for _ in range(args.alerts)
    ]

    loglevel = f"--loglevel={os.environ.get('BENCH_WORKER_LOGLEVEL', 'WARNING')}"
    celery = [str(ROOT / ".venv/bin/celery"), "-A", "config"]
    quiet = ["--without-gossip", "--without-mingle", loglevel]
    if mode == "tick":
        # As before the dispatcher: one worker with its embedded beat, every queue, due steps by the tick.
        commands = {
            "worker": [*celery, "worker", "-P", "solo", "-B", "-s", str(var_dir / "beat-schedule"),
                       "-Q", "critical,default", "-n", "bench@%h", *quiet],
        }  # fmt: skip
    else:
        # The deployment's layout (docs/deployment.md, the chart, compose): a critical pool (prefork, 2
        # processes), a default pool, the scheduler and the dispatcher.
        pool, _, concurrency = args.critical_pool.partition(":")
        commands = {
            "critical": [*celery, "worker", "-P", pool, "-c", concurrency,
                         "-Q", "critical", "-n", "critical@%h", *quiet],
            "default": [*celery, "worker", "-P", "solo", "-Q", "default", "-n", "default@%h", *quiet],
            "beat": [*celery, "beat", "-s", str(var_dir / "beat-schedule"), loglevel],
            "dispatcher": [sys.executable, "manage.py", "alert_dispatcher"],
        }  # fmt: skip
    processes = [start_process(cmd, env, var_dir / f"{mode}-{name}.log") for name, cmd in commands.items()]
    try:
        workers = ["bench"] if mode == "tick" else ["critical", "default"]
        wait_until_ready(workers, dispatcher=mode == "dispatcher")
        time.sleep(2)  # beat start-up (its first tick, auditor and overdue scan)
        commits: dict[int, float] = {}
        t_start = time.time()
        vitals = {
            "temp_c": 39.0,
            "hr": 110,
            "sbp": 120,
            "dbp": 70,
            "rr": 18,
            "spo2": 97,
            "o2_device": "room_air",
        }
        for infusion in infusions:
            observation_record(
                infusion=infusion,
                kind=ObservationKind.VITALS,
                payload=vitals,
                observed_at=timezone.now() - timedelta(minutes=1),
                recorded_by=nurse,
                client_uuid=uuid.uuid4(),
            )
            commits[infusion.pk] = time.time()
            time.sleep(args.interval)  # arrival rate: 200 new alerts in about a minute
        record_s = time.time() - t_start
        deadline = time.time() + 120
        while (
            Alert.objects.filter(first_notified_at__isnull=True).exists()
            or Alert.objects.count() < args.alerts
        ):
            if time.time() > deadline:
                raise SystemExit("alerts were not all notified within 120 s")
            time.sleep(0.5)
        # Controlled clock: the remaining steps of each alert become due `spacing` seconds apart.
        with connection.cursor() as cursor:
            # Each alert keeps its own offset (alerts opened over the recording window, as on a ward).
            cursor.execute(
                "UPDATE alerts_escalationstep s SET due_at = now() + (a.opened_at - m.first) "
                "+ (s.sequence * %s) * interval '1 second' "
                "FROM alerts_alert a, (SELECT min(opened_at) AS first FROM alerts_alert) m "
                "WHERE a.id = s.alert_id AND s.status = 'pending' AND s.sequence > 0",
                [args.spacing],
            )
        last_due = EscalationStep.objects.order_by("-due_at").values_list("due_at", flat=True).first()
        wait = (last_due - timezone.now()).total_seconds() + 60
        deadline = time.time() + wait
        total = EscalationStep.objects.count()
        while EscalationStep.objects.filter(
            status__in=[StepStatus.PENDING, StepStatus.SENDING], kind__in=["page", "final"], sequence__lt=4
        ).exists():
            if time.time() > deadline:
                break
            time.sleep(1)
        time.sleep(2)
    finally:
        for proc in processes:
            stop_process(proc)

    steps = list(
        EscalationStep.objects.filter(status=StepStatus.SENT, sequence__lt=4).values_list(
            "due_at", "claimed_at", "sent_at", "sequence"
        )
    )
    later = [(due, claimed, sent) for due, claimed, sent, seq in steps if seq > 0]
    lateness = [(sent - due).total_seconds() for due, _claimed, sent in later]
    alerts = list(Alert.objects.filter(first_notified_at__isnull=False))
    first = [(a.first_notified_at.timestamp() - commits[a.infusion_id]) for a in alerts]
    # Where the time goes: due -> claimed (the dispatcher), claimed -> sent (queue + send);
    # commit -> opened (the grade's wait for the alert task), opened -> first notified (open + send).
    breakdown = {
        "due_to_claimed": [(claimed - due).total_seconds() for due, claimed, _sent in later],
        "claimed_to_sent": [(sent - claimed).total_seconds() for _due, claimed, sent in later],
        "commit_to_opened": [a.opened_at.timestamp() - commits[a.infusion_id] for a in alerts],
        "opened_to_first_notified": [(a.first_notified_at - a.opened_at).total_seconds() for a in alerts],
    }
    unsent = EscalationStep.objects.filter(
        status__in=[StepStatus.PENDING, StepStatus.SENDING], sequence__lt=4
    ).count()
    result = {
        "alerts": Alert.objects.count(),
        "steps_total": total,
        "steps_measured": len(lateness),
        "steps_unsent": unsent,
        "tick_s": int(env.get("ALERT_TICK_SECONDS", "10")),
        "lateness_p50_s": round(pct(lateness, 50), 2),
        "lateness_p95_s": round(pct(lateness, 95), 2),
        "lateness_max_s": round(max(lateness), 2) if lateness else None,
        "commit_to_first_notification_p50_s": round(pct(first, 50), 3),
        "commit_to_first_notification_p95_s": round(pct(first, 95), 3),
        "commit_to_first_notification_max_s": round(max(first), 3) if first else None,
        "webhook_requests": receiver.count,
        "webhook_unique_keys": len(receiver.keys),
        "record_observations_s": round(record_s, 1),
        "breakdown_p50_p95_max_s": {
            name: [round(pct(v, 50), 3), round(pct(v, 95), 3), round(max(v), 3) if v else None]
            for name, v in breakdown.items()
        },
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(
        f"== {mode}: alerts {result['alerts']}, steps {total} "
        f"({len(lateness)} later steps measured, {unsent} unsent)"
    )
    print(
        f"lateness (sent - due): p50 {result['lateness_p50_s']} s, p95 {result['lateness_p95_s']} s, "
        f"max {result['lateness_max_s']} s (tick every {result['tick_s']} s)"
    )
    print(
        f"observation commit -> first notification: p50 {result['commit_to_first_notification_p50_s']} s, "
        f"p95 {result['commit_to_first_notification_p95_s']} s, "
        f"max {result['commit_to_first_notification_max_s']} s"
    )
    for name, (p50, p95, top) in result["breakdown_p50_p95_max_s"].items():
        print(f"  {name}: p50 {p50} s, p95 {p95} s, max {top} s")
    print(f"webhook (SMS) requests {receiver.count}, unique idempotency keys {len(receiver.keys)}")
    print(f"load average {result['load_average']}", flush=True)
    connection.close()
    return result


def recreate_database_drop() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


if __name__ == "__main__":
    sys.exit(main())
