"""Several hosts, one lost at a time, no page lost or sent twice (issue 16, item 2).

The topology (tests/network/topology.py, docs/deployment.md 13): PostgreSQL and Redis on ``db``; gunicorn
on ``web1`` and ``web2`` behind the round-robin balancer on ``lb``; Celery workers for both queues on
``worker1`` and ``worker2``; beat and the alert dispatcher on ``sched``, a standby dispatcher on
``worker2`` waiting on the advisory lock. The test process is the ``driver`` host: the tablets (API
token), the nurse's browser and the SMS gateway (it records every request and who sent it).

Under a steady load of normal vitals, a burst of febrile observations opens one alert per patient;
``worker1`` is cut off (link down) mid-burst. Every alert must get its first page. Just before the
second pages fall due, ``sched`` is cut off: ``/health/escalations`` turns 503 naming the overdue steps
and the nurse sees the banner; the standby dispatcher takes the lock once the server has dropped the
cut-off session, and sends them; beat is restarted on ``worker2`` (what the orchestrator does for a lost
scheduler host, docs/deployment.md 8) and health and banner recover while ``sched`` is still cut off.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from alerts.status_banner import BANNER_TEXT
from tests.alerts.receivers import WebhookReceiver

from . import topology
from .driver import (
    NORMAL,
    STEADY_RATE,
    Cluster,
    LockWatch,
    SteadyLoad,
    banner,
    database,
    diagnostics,
    nurse_session,
)
from .topology import BIN, ROOT, Network, Processes, ip_of, wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.network,
    pytest.mark.timeout(400),
]


@pytest.fixture(autouse=True)
def _topology_can_be_built():
    """CI must run the multi-host test (issue 16): where it cannot be built, CI fails, elsewhere it skips."""
    why = topology.unavailable()
    if why and os.environ.get("CI"):
        pytest.fail(f"the multi-host test cannot run in CI: {why}")
    if why:
        pytest.skip(why)


BURST = 200  # alerts (the figure; it fits: the whole test takes about 3.2 min here)
# Observations per second. At 10/s on this 2-core machine the critical queue waited over 30 s, so the
# auditor re-kicked steps that were only queued; at 5/s it stays well under ALERT_STEP_STUCK_SECONDS.
BURST_RATE = 5.0
CUT_WORKER_AFTER = 70  # burst observations posted before worker1 is cut off
SECRET = "network-webhook-secret"
FEVER = NORMAL | {"temp_c": 38.9, "hr": 96}


def migrate_and_seed(env: dict[str, str], log_dir: Path) -> dict:
    python = str(BIN / "python")
    with open(log_dir / "migrate.log", "wb") as log:
        subprocess.run(
            [python, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=240,
        )
    seeded = subprocess.run(
        [python, "manage.py", "shell", "-c", f"from tests.network import seed; seed.main({BURST})"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(seeded.stdout.strip().splitlines()[-1])


@pytest.fixture
def cluster(tmp_path):
    """The whole topology, torn down (process groups killed, namespaces deleted) even on failure."""
    net = Network()
    data_dir = Path(tempfile.mkdtemp(prefix="ctn-data-"))
    procs = None
    db = None
    try:
        net.up()
        with WebhookReceiver(SECRET, host=ip_of("driver")) as gateway:
            env = topology.app_env(data_dir / "var", gateway.url, SECRET)
            procs = Processes(net, tmp_path, env)
            (data_dir / "pg").mkdir()
            topology.start_postgres(procs, data_dir / "pg")
            topology.start_redis(procs, data_dir)
            wait_until(
                lambda: (
                    subprocess.run(
                        [str(topology.postgres_bin() / "pg_isready"), "-q", "-h", ip_of("db")], check=False
                    ).returncode
                    == 0
                ),
                60,
                "PostgreSQL on the db host",
            )
            with psycopg.connect(
                f"host={ip_of('db')} user=postgres dbname=postgres", autocommit=True
            ) as admin:
                admin.execute("CREATE DATABASE carttrack")
            ward = migrate_and_seed(env, tmp_path)
            for host in ("web1", "web2"):
                topology.start_web(procs, host)
            topology.start_balancer(procs)
            for host in ("worker1", "worker2"):
                topology.start_worker(procs, host)
            topology.start_beat(procs, "sched", data_dir)
            topology.start_dispatcher(procs, "sched")
            db = database()
            yield Cluster(net=net, procs=procs, ward=ward, gateway=gateway, var_dir=data_dir, db=db)
    finally:
        if db is not None:
            print(diagnostics(db))
            db.close()
        if procs is not None:
            procs.stop_all()
            print(procs.tails())
        net.down()
        shutil.rmtree(data_dir, ignore_errors=True)


def burst(cluster: Cluster, on_cut: Callable[[], None]) -> list[int]:
    """One febrile observation per burst patient, 4 tablets at ``BURST_RATE`` in all, ``on_cut()`` once
    ``CUT_WORKER_AFTER`` have been posted; returns the answers' statuses."""
    infusions = cluster.ward["burst"]
    statuses: list[int] = [0] * len(infusions)
    start = time.monotonic()
    lock = threading.Lock()
    cut = False

    def tablet(offset: int) -> None:
        nonlocal cut
        for i in range(offset, len(infusions), 4):
            time.sleep(max(0.0, start + i / BURST_RATE - time.monotonic()))
            with lock:
                if i >= CUT_WORKER_AFTER and not cut:
                    cut = True
                    on_cut()
            statuses[i], _ = cluster.post_observation(infusions[i], FEVER)

    tablets = [threading.Thread(target=tablet, args=(n,)) for n in range(4)]
    for t in tablets:
        t.start()
    for t in tablets:
        t.join(timeout=120)
    return statuses


def test_a_worker_host_and_the_scheduler_host_are_cut_off_and_no_page_is_lost_or_sent_twice(cluster):
    began = time.monotonic()

    def say(what: str) -> None:
        print(f"[{time.monotonic() - began:6.1f} s] {what}", flush=True)

    def done(predicate, timeout: float, what: str, interval: float = 0.5):
        value = wait_until(predicate, timeout, what, interval)
        say(f"done: {what}")
        return value

    procs, net, gateway = cluster.procs, cluster.net, cluster.gateway
    dispatcher = procs.named("dispatcher-sched")
    done(lambda: "alert dispatcher running" in dispatcher.log(), 60, "the dispatcher on sched to run")
    standby = topology.start_dispatcher(procs, "worker2")
    done(
        lambda: "another alert dispatcher holds the lock" in standby.log(),
        60,
        "the standby dispatcher on worker2 to wait on the lock",
    )
    done(lambda: cluster.health()[0] == 200, 90, "/health/escalations 200 (the auditor ran once)", 1.0)
    nurse = nurse_session(cluster)
    assert BANNER_TEXT not in banner(nurse)
    watch = LockWatch()
    watch.start()
    steady = SteadyLoad(cluster)
    steady.start()
    cut_at: dict[str, float] = {}

    def cut(host: str) -> None:
        net.cut(host)
        cut_at[host] = time.time()
        say(f"{host} cut off")

    # 1. The burst; worker1 is cut off in the middle of it.
    statuses = burst(cluster, lambda: cut("worker1"))
    assert Counter(statuses) == {201: BURST}, f"burst observations answered {Counter(statuses)}"
    done(
        lambda: cluster.one("SELECT count(*) FROM alerts_alert WHERE first_notified_at IS NOT NULL") >= BURST,
        150,
        f"all {BURST} alerts to get their first page (worker1 cut off)",
        1.0,
    )
    first_paged = time.time()
    assert cluster.one("SELECT count(*) FROM alerts_alert WHERE syndrome = 'crs'") == BURST

    # 2. Just before the second pages fall due, the scheduler host is cut off.
    next_due = cluster.one(
        "SELECT min(due_at) FROM alerts_escalationstep WHERE kind = 'page' AND status = 'pending'"
    )
    assert next_due is not None, "every second page was already sent before the scheduler host could be cut"
    time.sleep(max(0.0, next_due.timestamp() - 2 - time.time()))
    cut("sched")
    pending_at_cut = cluster.one(
        "SELECT count(*) FROM alerts_escalationstep WHERE kind = 'page' AND status = 'pending'"
    )

    def outage_seen():
        status, body = cluster.health()
        return status == 503 and "overdue_steps" in {i["what"] for i in body.get("late", [])} and body

    outage = done(outage_seen, 60, "/health/escalations 503 naming overdue steps (sched cut off)", 1.0)
    outage_seen_after = time.time() - cut_at["sched"]
    assert BANNER_TEXT in banner(nurse), "the signed-in nurse does not see the outage banner"

    # 3. The standby dispatcher takes over once the server has dropped the cut-off session, and sends them.
    done(lambda: "alert dispatcher running" in standby.log(), 90, "the standby dispatcher to take the lock")
    took_over_after = time.time() - cut_at["sched"]
    done(
        lambda: "overdue_steps" not in {i["what"] for i in cluster.health()[1].get("late", [])},
        60,
        "the standby dispatcher to send the overdue steps",
        1.0,
    )

    # 4. The scheduler moves: the cut-off beat is stopped (its pod evicted) and beat starts on worker2.
    procs.named("beat-sched").stop()
    topology.start_beat(procs, "worker2", cluster.var_dir)
    done(lambda: cluster.health()[0] == 200, 90, "/health/escalations 200 again (scheduler moved)", 1.0)
    assert BANNER_TEXT not in banner(nurse), "the banner stays after alerting recovered"
    # The second pages of the last burst alerts fall due a minute after the burst: the standby sends them.
    unsent_pages = "SELECT count(*) FROM alerts_escalationstep WHERE kind = 'page' AND status <> 'sent'"
    done(lambda: cluster.one(unsent_pages) == 0, 90, "every second page to be sent", 1.0)
    time.sleep(3)  # a few more ticks and dispatcher passes: nothing is sent twice
    steady_results = steady.stop()
    watch.stopping.set()
    watch.join(timeout=10)
    elapsed = time.monotonic() - began

    # No alert lost: every alert paged, every due step sent, each SMS recorded as sent once.
    assert cluster.one("SELECT count(*) FROM alerts_alert WHERE first_notified_at IS NULL") == 0
    unsent = cluster.sql(
        "SELECT id, status FROM alerts_escalationstep WHERE due_at < now() AND status <> 'sent'"
    )
    assert unsent == [], f"due steps not sent: {unsent[:10]}"
    sent_pages = cluster.one(
        "SELECT count(*) FROM alerts_escalationstep WHERE kind = 'page' AND status = 'sent'"
    )
    assert sent_pages == 2 * BURST, f"{sent_pages} page steps sent, expected {2 * BURST}"
    sms_keys = {
        k
        for (k,) in cluster.sql(
            "SELECT idempotency_key FROM alerts_notification WHERE channel = 'sms' AND status = 'sent'"
        )
    }
    assert len(sms_keys) == 2 * BURST
    # No SMS twice: the gateway received every key; a key twice only for a send the cut-off worker1 had
    # handed over but could not record (the auditor re-sent it with the same key, docs/escalation.md).
    received = Counter(r["key"] for r in gateway.requests)
    assert set(received) == sms_keys, f"gateway keys differ: {len(set(received) ^ sms_keys)}"
    assert not [r for r in gateway.requests if not r["ok"]], "badly signed webhook requests"
    repeats = {k for k, n in received.items() if n > 1}
    first_sender = {}
    for r in gateway.requests:
        first_sender.setdefault(r["key"], r["from"])
    assert all(first_sender[k] == ip_of("worker1") for k in repeats), f"keys sent twice: {repeats}"
    # The surviving hosts carried on.
    # (The dispatcher sends due pages itself, so the scheduler host sends too until it is cut off.)
    senders_after = Counter(r["from"] for r in gateway.requests if r["at"] > cut_at["worker1"])
    assert ip_of("worker1") not in senders_after and senders_after[ip_of("worker2")], (
        f"SMS senders after the worker1 cut: {senders_after}"
    )
    senders_late = Counter(r["from"] for r in gateway.requests if r["at"] > cut_at["sched"])
    assert set(senders_late) <= {ip_of("worker2")}, f"SMS senders after the scheduler cut: {senders_late}"
    lb_log = procs.named("balancer").log()
    served = Counter(re.findall(r"served \S+ by (\S+)", lb_log))
    assert set(served) == {f"{ip_of('web1')}:8000", f"{ip_of('web2')}:8000"}, f"balancer served {served}"
    steady_statuses = Counter(s for _, s, _ in steady_results)
    assert steady_statuses == {201: len(steady_results)}, f"steady observations answered {steady_statuses}"
    stored = cluster.one(
        "SELECT count(*) FROM monitoring_observation WHERE infusion_id = %s", cluster.ward["steady"]
    )
    assert stored == len(steady_results) and stored >= STEADY_RATE * 30, (
        f"{stored} steady observations stored"
    )
    # The dispatcher singleton moved once and never ran twice.
    assert watch.holders() == [ip_of("sched"), "nobody", ip_of("worker2")] or watch.holders() == [
        ip_of("sched"),
        ip_of("worker2"),
    ], f"advisory lock holders over time: {watch.holders()}"
    assert dispatcher.log().count("alert dispatcher running") == 1
    assert standby.log().count("alert dispatcher running") == 1
    took_lock = re.search(r"^(\S+ \S+) INFO alerts.dispatcher alert dispatcher running", standby.log(), re.M)
    took_lock_at = datetime.strptime(took_lock.group(1), "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=UTC)
    assert took_lock_at.timestamp() > cut_at["sched"], "the standby ran before the scheduler host was cut off"
    print(
        f"multi-host: {BURST} alerts, {len(steady_results)} steady observations, "
        f"{pending_at_cut} pages pending at the sched cut; health 503 {outage_seen_after:.0f} s after it "
        f"({outage['reason']}); standby took over "
        f"after {took_over_after:.0f} s; first pages done {first_paged - cut_at['worker1']:.0f} s after the "
        f"worker1 cut; {len(repeats)} key(s) re-sent after the cut; balancer {dict(served)}; {elapsed:.0f} s"
    )
