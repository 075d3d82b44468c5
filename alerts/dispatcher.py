"""The alert dispatcher (``manage.py alert_dispatcher``): due escalation steps are sent on time.

The step rows stay the timers. The dispatcher sleeps until the earliest pending step is due and is woken
early by PostgreSQL ``NOTIFY`` (a trigger on ``alerts_escalationstep``, migration 0007, fires for every
pending step inserted or re-timed). When steps are due it claims them (``claim_due_steps``: SKIP LOCKED,
fencing token) and sends them itself, in a small pool of threads of its own (``ALERT_DISPATCHER_THREADS``):
a due page never waits in the critical queue behind alert openings (``alerts.process_evaluation``), which
is where it lost seconds in a burst (docs/escalation.md, "Benchmark"). Only what is due beyond the
pool's free threads is handed to the critical worker pool (``alerts.send_step``), and sent here after all
if the broker refuses it. The beat tick (``alerts.tick``) and the auditor stay as the safety net: a
dispatcher that is down delays steps to the next tick, it loses none; one that dies mid-send leaves its
steps ``sending`` for the auditor to re-kick (new token; the notifications' idempotency keys apply).

One dispatcher runs at a time: it holds a PostgreSQL session advisory lock while it works; a second one
waits for the lock (released by the server when the holder's connection drops). ``LISTEN`` needs a
direct (or session-pooled) connection to the primary (docs/deployment.md, section 5).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, close_old_connections, connections
from django.utils import timezone

from . import services, tasks
from .models import EscalationStep, StepStatus

log = logging.getLogger(__name__)

CHANNEL = "carttrack_escalation_steps"  # migration 0007's trigger notifies here
LOCK_KEY = 0x43415254  # "CART": the advisory lock that keeps the dispatcher single
MAX_SLEEP_SECONDS = 5.0  # re-read the next due time at least this often (missed NOTIFY, clock steps)
POLL_SECONDS = 1.0  # without LISTEN (SQLite): how often to look for due steps
CLAIM_BATCH = 100
# TCP keepalives on both ends of the LISTEN connection: a dispatcher cut off by a partition loses its
# advisory lock on the server within about idle + interval × count seconds, so a replacement can start.
KEEPALIVE = {"idle": 10, "interval": 5, "count": 3}
RETRY_SECONDS = 2.0  # after losing the database


@dataclass
class DispatcherStats:
    wakeups: int = 0
    claimed: int = 0
    sent_in_process: int = 0
    queued: int = 0


def _send(step_id: int, token: str) -> None:
    """Send one claimed step on this thread's own database connection."""
    close_old_connections()  # a pool thread lives long: drop a connection past CONN_MAX_AGE or broken
    services.send_claimed_step(step_id=step_id, token=token)


class Senders:
    """The dispatcher's own threads that send claimed steps (``ALERT_DISPATCHER_THREADS``; 0: none)."""

    def __init__(self, threads: int) -> None:
        self.threads = max(0, threads)
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="send") if self.threads else None
        self._busy = 0
        self._lock = threading.Lock()

    def try_send(self, step_id: int, token: str) -> bool:
        """Start sending the step on a free thread; False when every thread is busy (or there are none)."""
        with self._lock:
            if self._pool is None or self._busy >= self.threads:
                return False
            self._busy += 1
        self._pool.submit(self._run, step_id, token)
        return True

    def _run(self, step_id: int, token: str) -> None:
        try:
            _send(step_id, token)
        finally:
            with self._lock:
                self._busy -= 1

    def shutdown(self) -> None:
        """Let the sends under way finish (SIGTERM stops the dispatcher after them), then close every
        thread's database connection: each thread takes one closing job, as none returns before all
        ``threads`` have started theirs."""
        if self._pool is None:
            return
        everyone = threading.Barrier(self.threads, timeout=30)

        def close() -> None:
            connections.close_all()
            everyone.wait()

        for _ in range(self.threads):
            self._pool.submit(close)
        self._pool.shutdown(wait=True)


def hand_over(step_id: int, token: str) -> bool:
    """Queue one claimed step for the critical pool; False (sent here instead) if the broker refuses it."""
    try:
        tasks.send_step.delay(step_id, token)
        return True
    except Exception:
        log.exception("could not queue escalation step %s; sending it in the dispatcher", step_id)
    _send(step_id, token)
    return False


def dispatch_once(stats: DispatcherStats, senders: Senders | None = None) -> int:
    """Claim every step due now and send each on a free thread of ours, or hand it to the critical pool
    when all are busy; returns how many were claimed."""
    total = 0
    while claimed := services.claim_due_steps(limit=CLAIM_BATCH):
        for step_id, token in claimed:
            if senders is not None and senders.try_send(step_id, token):
                stats.sent_in_process += 1
            elif hand_over(step_id, token):
                stats.queued += 1
            else:
                stats.sent_in_process += 1
        total += len(claimed)
        if len(claimed) < CLAIM_BATCH:
            break
    stats.claimed += total
    return total


def seconds_until_next_due() -> float:
    """Seconds until the earliest pending step is due (0 if one is due), at most MAX_SLEEP_SECONDS."""
    due = (
        EscalationStep.objects.filter(status=StepStatus.PENDING)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )
    if due is None:
        return MAX_SLEEP_SECONDS
    return min(MAX_SLEEP_SECONDS, max(0.0, (due - timezone.now()).total_seconds()))


def _listen_connection() -> psycopg.Connection | None:
    """A connection of its own to the primary, LISTENing and holding the singleton lock (None: SQLite)."""
    django_conn = connections[DEFAULT_DB_ALIAS]
    if django_conn.vendor != "postgresql":
        return None
    params = django_conn.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    client_keepalives = {f"keepalives_{k}": v for k, v in KEEPALIVE.items()}
    conn = psycopg.connect(**params, keepalives=1, **client_keepalives, autocommit=True)
    for name, value in KEEPALIVE.items():  # the server's side of the same connection
        conn.execute(f"SET tcp_keepalives_{name} = {int(value)}")
    while not conn.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY]).fetchone()[0]:
        log.info("another alert dispatcher holds the lock; waiting")
        time.sleep(MAX_SLEEP_SECONDS)
    conn.execute(f"LISTEN {CHANNEL}")
    return conn


def _wait(conn: psycopg.Connection | None, seconds: float) -> None:
    """Sleep up to ``seconds``, or until a step is inserted or re-timed (then drain the other wake-ups)."""
    if conn is None:
        time.sleep(min(seconds, POLL_SECONDS))
        return
    if seconds > 0 and not list(conn.notifies(timeout=seconds, stop_after=1)):
        return
    # Several writers may have notified at once: one pass handles them all.
    for _ in conn.notifies(timeout=0.0):
        pass


def run(*, should_stop: Callable[[], bool] = lambda: False, stats: DispatcherStats | None = None) -> None:
    """The dispatcher's loop, until ``should_stop()``; reconnects after losing the database."""
    stats = stats or DispatcherStats()
    senders = Senders(settings.ALERT_DISPATCHER_THREADS)
    conn: psycopg.Connection | None = None
    connected = False
    while not should_stop():
        try:
            if not connected:
                conn, connected = _listen_connection(), True
                log.info("alert dispatcher running (%s)", f"LISTEN {CHANNEL}" if conn else "polling")
            if dispatch_once(stats, senders):
                continue  # more may have become due while sending
            _wait(conn, seconds_until_next_due())
            stats.wakeups += 1
        except (DatabaseError, psycopg.Error):
            log.exception("alert dispatcher lost the database; reconnecting in %s s", RETRY_SECONDS)
            connections[DEFAULT_DB_ALIAS].close()
            if conn is not None:
                conn.close()
            conn, connected = None, False
            time.sleep(RETRY_SECONDS)
    senders.shutdown()
    if conn is not None:
        conn.close()
