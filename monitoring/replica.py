"""Reads that may come from the read replica (``DATABASE_REPLICA_URL``), and only those.

Every query goes to the primary unless the code says otherwise: the router sends reads to the replica
only inside :func:`replica_reads` (the dashboards' census, timelines, analytics and the census export
opt in with :func:`reads_from_replica`). Grading, alerting, the tablet and API writes and every
read-modify-write never enter it, so they always see the latest commit; writes go to the primary even
inside it (the access-log rows of an export).

A replica that lags more than ``DATABASE_REPLICA_MAX_LAG_SECONDS``, has stopped receiving from the
primary, or cannot be reached is not read: the request reads the primary and says so. Each request
that opts in measures the lag once (one query on each) and hands it to the page (deployment.md 5).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"
_reading_replica: ContextVar[bool] = ContextVar("carttrack_reading_replica", default=False)

# On the standby, given the primary's current WAL position (read just before): caught up when it has
# replayed that far; otherwise behind by the time since its last replayed commit (an over-estimate
# after an idle spell of the primary, which errs towards reading the primary).
LAG_SQL = """
SELECT pg_is_in_recovery(),
       COALESCE((SELECT status = 'streaming' FROM pg_stat_wal_receiver), false),
       pg_last_wal_replay_lsn() >= %s::pg_lsn,
       EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())
"""


class ReplicaRouter:
    """``DATABASE_ROUTERS``: the replica for reads inside :func:`replica_reads`, the primary otherwise."""

    def db_for_read(self, model, **hints) -> str:
        return REPLICA if _reading_replica.get() else DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # the replica is a copy of the primary: same rows, same ids

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS  # replication copies the schema


@dataclass(frozen=True)
class ReplicaStatus:
    """Where a page's data came from, for the people reading it."""

    configured: bool
    used: bool
    lag_seconds: float | None = None
    problem: str = ""

    @property
    def message(self) -> str:
        if not self.configured:
            return ""
        if self.used:
            return f"Read from the replica, {self.lag_seconds:.1f} s behind the primary."
        return f"{self.problem}: read from the primary instead."


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def replica_status() -> ReplicaStatus:
    """Measure the replica's lag (one query on the primary, one on the replica) and decide whether this
    request may read it."""
    if not replica_configured():
        return ReplicaStatus(configured=False, used=False)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        (primary_lsn,) = cursor.fetchone()
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(LAG_SQL, [primary_lsn])
            in_recovery, streaming, caught_up, since_replay = cursor.fetchone()
    except DatabaseError:
        logger.warning("read replica unreachable; reading the primary", exc_info=True)
        connections[REPLICA].close()
        return ReplicaStatus(configured=True, used=False, problem="The read replica cannot be reached")
    if not in_recovery:
        return ReplicaStatus(configured=True, used=False, problem="DATABASE_REPLICA_URL is not a standby")
    lag = 0.0 if streaming and caught_up else float(since_replay or 0.0)
    limit = settings.DATABASE_REPLICA_MAX_LAG_SECONDS
    if not streaming:
        return ReplicaStatus(
            configured=True, used=False, lag_seconds=lag, problem="The read replica is not receiving changes"
        )
    if lag > limit:
        return ReplicaStatus(
            configured=True,
            used=False,
            lag_seconds=lag,
            problem=f"The read replica is {lag:.0f} s behind (more than {limit} s)",
        )
    return ReplicaStatus(configured=True, used=True, lag_seconds=lag)


@contextmanager
def replica_reads() -> Iterator[ReplicaStatus]:
    """Inside: reads from the replica when it is usable (:func:`replica_status`), writes to the primary."""
    status = replica_status()
    token = _reading_replica.set(status.used)
    try:
        yield status
    finally:
        _reading_replica.reset(token)


def reads_from_replica(view: Callable) -> Callable:
    """A read-only view whose queries (the template's included) may come from the replica; the page gets
    ``request.replica_status`` to show where its data came from."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        with replica_reads() as status:
            request.replica_status = status
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
            return response

    return wrapper
