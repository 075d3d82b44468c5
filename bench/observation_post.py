"""Benchmark, one module because it is one script run by path: set up, load, measure, tear down together.

Observation POST through the REST API vs a bare Django INSERT view, same run.

    .venv/bin/python bench/observation_post.py [--clients 20] [--requests 1500] [--seconds 40]

Creates its own PostgreSQL database (``bench_api``), migrates, seeds one care team, one nurse with
an integration token (scope ``observations:write``), one patient + active infusion per client with
a realistic history (``--history`` observations each, recorded through the real service so grades
exist), starts gunicorn (gthread) on a free 127.0.0.1 port, then drives load with ``--clients``
threads over keep-alive ``http.client`` connections:

1. ``POST /api/observations/`` (token auth, validation by the clinical core, grading in the same
   transaction, alert task enqueued on commit to Redis),
2. ``POST /bare/observations/`` (a plain Django view that INSERTs one row),

both closed loop (every client sends again as soon as it is answered: capacity at 20 clients);
then, for context, one client alone, and the API at a ward's pace (``--paced-interval``: each
client posts once a second by default, 20 requests/s in all, which is far more than a ward records).

Each phase is bounded by a request count and a time limit, after a short warm-up.  Prints the
figures and, as its last line, one JSON object.  Stops gunicorn and drops the database at the end.
Targets (issue): API throughput / bare throughput ≥ 0.5 and API p95 ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = os.environ.get("BENCH_DB_NAME", "bench_api")
DB_URL = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + DB_NAME
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/8")


def log(message: str) -> None:
    print(message, flush=True)


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def create_database() -> None:
    pg_admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    pg_admin(f'CREATE DATABASE "{DB_NAME}"')


def drop_database() -> None:
    pg_admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.api_site.settings",
        DATABASE_URL=DB_URL,
        CELERY_BROKER_URL=BROKER_URL,
        PYTHONPATH=str(ROOT),
        DB_CONN_MAX_AGE="600",
    )
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def migrate() -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=child_env(),
        check=True,
    )


def seed(clients: int, history: int) -> dict:
    """Seed in this process with Django set up against the bench database."""
    os.environ.update({k: v for k, v in child_env().items() if k != "PYTHONPATH"})
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from datetime import date
    from decimal import Decimal

    from django.utils import timezone

    from accounts.models import CareTeam, Membership, Role, User
    from accounts.tokens import issue_api_token
    from monitoring import services
    from monitoring.models import Indication, Infusion, MonitoringTemplate, Patient, Product

    team = CareTeam.objects.create(name="Bench ward", slug="bench-ward")
    nurse = User.objects.create_user(username="bench-nurse", password="bench-password-123")
    Membership.objects.create(user=nurse, team=team, role=Role.NURSE)
    _token, key = issue_api_token(name="bench gateway", user=nurse, team=team, scopes=["observations:write"])
    template = MonitoringTemplate.objects.create(name="Bench template")
    product = Product.objects.create(
        name="Bench CD19 CAR-T", target_antigen="CD19", monitoring_template=template
    )
    now = timezone.now()
    rng = random.Random(7)
    infusions = []
    for i in range(clients):
        patient = Patient.objects.create(
            mrn=f"BENCH{i:04d}",
            given_name="Bench",
            family_name=f"Patient{i}",
            date_of_birth=date(1960, 1, 1),
            weight_kg=Decimal("70.0"),
            indication=Indication.LBCL,
            care_team=team,
        )
        infusion = Infusion.objects.create(
            patient=patient, product=product, care_team=team, infused_at=now - timedelta(days=6)
        )
        for h in range(history):
            services.observation_record(
                infusion=infusion,
                kind="vitals",
                payload=vitals_payload(rng),
                observed_at=now - timedelta(days=6) + timedelta(hours=3 * h + 1),
                recorded_by=nurse,
                client_uuid=uuid.uuid4(),
                source="api",
            )
        infusions.append(infusion.pk)
    return {"token": key, "nurse_id": nurse.pk, "infusions": infusions}


def vitals_payload(rng: random.Random) -> dict:
    return {
        "temp_c": round(rng.uniform(36.4, 38.6), 1),
        "hr": rng.randint(62, 118),
        "sbp": rng.randint(96, 138),
        "dbp": rng.randint(58, 86),
        "rr": rng.randint(12, 22),
        "spo2": rng.randint(93, 99),
        "o2_device": "room_air",
    }


def verify_grades() -> dict:
    """Re-derive every stored grade from scratch and compare (the course cache under real load).

    Observations are append-only and written one at a time per infusion, so the course an evaluation
    saw is every row of its infusion up to the row that triggered it.  Drivers are compared without
    ``observation_index`` (row ids in stored grades, positions in a case)."""
    import carttrack
    from monitoring import grading
    from monitoring.models import GradeEvaluation, Infusion, Observation, ObservationStatus

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "observation_index"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    checked = mismatched = 0
    for infusion in Infusion.objects.select_related("patient", "product"):
        rows = list(Observation.objects.filter(infusion=infusion).order_by("id"))
        patient = carttrack.parse_patient(grading.patient_dict(infusion))
        for ev in GradeEvaluation.objects.filter(infusion=infusion).order_by("id"):
            upto = [r for r in rows if r.pk <= ev.triggered_by_id]
            superseded = {r.supersedes_id for r in upto if r.supersedes_id}
            current = [
                r for r in upto if r.pk not in superseded and r.status != ObservationStatus.ENTERED_IN_ERROR
            ]
            observations = [
                carttrack.parse_observation(
                    {**r.payload, "kind": r.kind, "t_hours": infusion.hours_after(r.observed_at)}
                )
                for r in current
            ]
            settings = carttrack.DecisionSettings.from_dict(ev.settings)
            evaluator = carttrack.Evaluator(patient, settings, None)
            evaluator.extend(observations)
            expected = grading.jsonable(evaluator.evaluate().to_dict())
            checked += 1
            if strip(expected) != strip(ev.result):
                mismatched += 1
    return {"grades_checked": checked, "grades_mismatched": mismatched}


def start_gunicorn(port: int, workers: int, threads: int, worker_connections: int) -> subprocess.Popen:
    cmd = [
        str(Path(sys.executable).with_name("gunicorn")),
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        "gthread",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-connections",
        str(worker_connections),
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
        "--timeout",
        "60",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=child_env(), start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    stop(proc)
    raise RuntimeError("gunicorn did not start within 30 s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def run_phase(
    *,
    name: str,
    port: int,
    path: str,
    headers: dict,
    body_for,
    clients: int,
    requests: int,
    seconds: float,
    warmup: int,
    interval: float = 0.0,
) -> dict:
    """``clients`` threads, each with its own keep-alive connection; bounded by count and time.

    ``interval`` 0: closed loop (each client sends its next request as soon as the previous one is
    answered: the server's capacity).  ``interval`` > 0: each client sends one request every
    ``interval`` seconds, from a random offset (the pace of a ward's tablets and devices)."""
    lock = threading.Lock()
    counter = {"issued": 0}
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []
    start_barrier = threading.Barrier(clients + 1)
    deadline_box: dict[str, float] = {}

    def take() -> int | None:
        with lock:
            if counter["issued"] >= requests + warmup:
                return None
            counter["issued"] += 1
            return counter["issued"]

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        rng = random.Random(index)
        start_barrier.wait()
        next_send = time.perf_counter() + rng.uniform(0, interval)
        while True:
            if interval:
                time.sleep(max(0.0, next_send - time.perf_counter()))
                next_send += interval
            n = take()
            if n is None or time.perf_counter() > deadline_box["end"]:
                break
            payload = json.dumps(body_for(index, rng))
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=payload, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException) as exc:
                status = 0
                errors.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            elapsed = time.perf_counter() - t0
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if n > warmup:
                    latencies.append(elapsed)
                    if n == warmup + 1:
                        deadline_box["measure_start"] = t0
                    deadline_box["measure_end"] = t0 + elapsed
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    deadline_box["end"] = time.perf_counter() + seconds
    start_barrier.wait()
    for t in threads:
        t.join(timeout=seconds + 60)
    window = deadline_box.get("measure_end", 0) - deadline_box.get("measure_start", 0)
    ok = sum(v for k, v in statuses.items() if 200 <= k < 300)
    result = {
        "requests_measured": len(latencies),
        "throughput_rps": round(len(latencies) / window, 1) if window > 0 else 0.0,
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "non_2xx": sum(statuses.values()) - ok,
        "errors": errors[:5],
    }
    log(
        f"{name:>6}: {result['requests_measured']} requests, {result['throughput_rps']} req/s, "
        f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms, "
        f"statuses {result['statuses']}"
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=1500, help="measured requests per phase")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=40.0, help="time limit per phase")
    parser.add_argument("--history", type=int, default=40, help="prior observations per infusion")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--worker-connections",
        type=int,
        default=0,
        help="keep-alive connections one worker may hold (0: clients / workers, rounded up, so the "
        "clients spread over all workers instead of piling onto the first one to accept)",
    )
    parser.add_argument("--serial-requests", type=int, default=100, help="extra 1-client phase (0: skip)")
    parser.add_argument(
        "--paced-requests", type=int, default=400, help="extra phase at the ward's pace (0: skip)"
    )
    parser.add_argument(
        "--paced-interval", type=float, default=1.0, help="seconds between one client's requests when paced"
    )
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--no-verify", action="store_true", help="skip re-deriving every stored grade after the run"
    )
    args = parser.parse_args()

    log(f"creating database {DB_NAME} and migrating ...")
    create_database()
    proc = None
    verification: dict = {}
    try:
        migrate()
        seeded = seed(args.clients, args.history)
        log(f"seeded {args.clients} infusions with {args.history} observations each")
        port = free_port()
        worker_connections = args.worker_connections or -(-args.clients // args.workers)
        proc = start_gunicorn(port, args.workers, args.threads, worker_connections)
        log(
            f"gunicorn gthread {args.workers} workers x {args.threads} threads on 127.0.0.1:{port}; "
            f"{args.clients} clients"
        )
        from django.utils import timezone

        infusions = seeded["infusions"]

        def api_body(index: int, rng: random.Random) -> dict:
            return {
                "client_uuid": str(uuid.uuid4()),
                "infusion": infusions[index % len(infusions)],
                "kind": "vitals",
                "observed_at": (timezone.now() - timedelta(seconds=rng.randint(1, 600))).isoformat(),
                "payload": vitals_payload(rng),
            }

        def bare_body(index: int, rng: random.Random) -> dict:
            return {**api_body(index, rng), "recorded_by": seeded["nurse_id"]}

        common = dict(
            port=port, clients=args.clients, requests=args.requests, seconds=args.seconds, warmup=args.warmup
        )
        json_headers = {"Content-Type": "application/json", "Connection": "keep-alive"}
        api = run_phase(
            name="api",
            path="/api/observations/",
            body_for=api_body,
            headers={**json_headers, "Authorization": f"Bearer {seeded['token']}"},
            **common,
        )
        bare = run_phase(
            name="bare", path="/bare/observations/", body_for=bare_body, headers=json_headers, **common
        )
        serial = {}
        if args.serial_requests:
            # One client, for context: the per-request cost without queueing on this machine's CPUs.
            one = dict(port=port, clients=1, requests=args.serial_requests, seconds=args.seconds, warmup=10)
            serial["api"] = run_phase(
                name="api/1",
                path="/api/observations/",
                body_for=api_body,
                headers={**json_headers, "Authorization": f"Bearer {seeded['token']}"},
                **one,
            )
            serial["bare"] = run_phase(
                name="bare/1", path="/bare/observations/", body_for=bare_body, headers=json_headers, **one
            )
        paced = {}
        if args.paced_requests:
            # The ward's pace: each of the clients posts every --paced-interval seconds (not as fast
            # as it can); the latency a nurse or a device sees when the server is not saturated.
            paced = run_phase(
                name="paced",
                path="/api/observations/",
                body_for=api_body,
                headers={**json_headers, "Authorization": f"Bearer {seeded['token']}"},
                port=port,
                clients=args.clients,
                requests=args.paced_requests,
                seconds=args.seconds * 3,
                warmup=args.clients,
                interval=args.paced_interval,
            )
        if not args.no_verify:
            # Every client on any patient, so one patient's observations are graded by different
            # worker processes in turn (the course cache must read what the others wrote); then
            # every stored grade is re-derived from scratch.  Not part of the figures above.
            def mixed_body(index: int, rng: random.Random) -> dict:
                return {**api_body(index, rng), "infusion": rng.choice(infusions)}

            run_phase(
                name="mixed",
                path="/api/observations/",
                body_for=mixed_body,
                headers={**json_headers, "Authorization": f"Bearer {seeded['token']}"},
                **{**common, "requests": 400, "warmup": 0},
            )
            verification = verify_grades()
        if verification:
            log(
                f"re-derived {verification['grades_checked']} stored grades from scratch: "
                f"{verification['grades_mismatched']} differ"
            )
    finally:
        if proc is not None:
            stop(proc)
        if not args.keep_db:
            from django.db import connections

            connections.close_all()
            drop_database()
    ratio = round(api["throughput_rps"] / bare["throughput_rps"], 3) if bare["throughput_rps"] else 0.0
    passed = (
        ratio >= 0.5
        and api["p95_ms"] <= 50
        and api["non_2xx"] == 0
        and not verification.get("grades_mismatched")
    )
    log(f"ratio api/bare throughput = {ratio} (target >= 0.5); api p95 = {api['p95_ms']} ms (target <= 50)")
    print(
        json.dumps(
            {
                "benchmark": "observation_post",
                "clients": args.clients,
                "server": f"gunicorn gthread {args.workers}x{args.threads}, "
                f"{worker_connections} connections per worker",
                "history_per_infusion": args.history,
                "api": api,
                "bare": bare,
                "ratio": ratio,
                "single_client": {
                    k: {m: v[m] for m in ("throughput_rps", "p50_ms", "p95_ms")} for k, v in serial.items()
                },
                "paced": {
                    "interval_s": args.paced_interval,
                    **{m: paced[m] for m in ("throughput_rps", "p50_ms", "p95_ms", "p99_ms", "non_2xx")},
                }
                if paced
                else {},
                "verification": verification,
                "load_average": os.getloadavg(),
                "targets": {"ratio_min": 0.5, "api_p95_ms_max": 50},
                "pass": passed,
            }
        ),
        flush=True,
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
