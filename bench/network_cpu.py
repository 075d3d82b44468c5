"""CPU per request for ``bench/network_load.py``: of processes from /proc under load, and one request
at a time through Django's WSGI handler in this process (the way of ``bench/profile_post.py``)."""

from __future__ import annotations

import os
import random
import time
import uuid
from datetime import timedelta

from bench import network_seed
from bench import observation_post as bench
from bench.open_loop import Load, summary
from bench.profile_post import call, respond, wsgi_environ

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes (all their threads), from /proc; gone processes count 0."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / CLK_TCK


def host_pids(master: int) -> list[int]:
    """A gunicorn host: its master and its workers (children of the master)."""
    pids = [master]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == master:
                pids.append(int(entry))
    return pids


def db_backend_pids() -> list[int]:
    import psycopg

    with psycopg.connect(bench.PG_ADMIN_URL, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [bench.DB_NAME]).fetchall()
    return [r[0] for r in rows]


def cpu_per_request(
    load: Load, masters: list[int], stream: str, rate: float, seconds: float, step: int
) -> dict:
    """Open-loop POSTs of one kind only: CPU of both web hosts and of the database backends per request."""
    web = [p for m in masters for p in host_pids(m)]
    db = db_backend_pids()
    web0, db0 = cpu_seconds(web), cpu_seconds(db)
    start = time.perf_counter() + 0.2
    load.run(step, load.schedule(start, seconds, rate, None, post_only=stream), drain=10)
    db = sorted(set(db) | set(db_backend_pids()))
    sent = [s for s in load.results if s.step == step]
    n = max(1, len(sent))
    out = summary(sent)
    out["web_cpu_ms_per_request"] = round((cpu_seconds(web) - web0) / n * 1000, 2)
    out["db_cpu_ms_per_request"] = round((cpu_seconds(db) - db0) / n * 1000, 2)
    return out


def in_process_cpu(network: network_seed.Network, requests: int) -> dict:
    """One request at a time through Django's WSGI handler in this process (bench/profile_post.py):
    the observation POST against the bare insert view, and each poll."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.utils import timezone

    handler = WSGIHandler()
    rng = random.Random(5)
    out = {}
    for name, path in (("api", "/api/observations/"), ("bare", "/bare/observations/")):
        cpu = 0.0
        for i in range(requests + 20):
            centre = network.centres[i % len(network.centres)]
            body = {
                "client_uuid": str(uuid.uuid4()),
                "infusion": rng.choice(centre.infusions),
                "kind": "vitals",
                "observed_at": (timezone.now() - timedelta(seconds=rng.randint(1, 60))).isoformat(),
                "payload": network_seed.device_fragment(rng),
            }
            headers = {"Authorization": f"Bearer {centre.device_token}"}
            if name == "bare":
                body["recorded_by"], headers = centre.nurse_id, {}
            cpu0 = time.process_time()
            status, content = call(handler, path, body, headers)
            if i >= 20:  # the first 20: warm-up
                cpu += time.process_time() - cpu0
            if status != 201:
                raise SystemExit(f"{name}: HTTP {status}: {content[:300]!r}")
        out[f"{name}_cpu_ms"] = round(cpu / requests * 1000, 2)
    out["cpu_ratio_bare_to_api"] = round(out["bare_cpu_ms"] / out["api_cpu_ms"], 3)
    polls = {
        "census_ward": ("/census/", network.centres[0].coordinator_cookie),
        "census_network": ("/census/", network.network_cookie),
        "inbox": ("/alerts/inbox/items/", network.centres[0].physician_cookies[0]),
    }
    for name, (path, cookie) in polls.items():
        repeat = 3 if name == "census_network" else 20
        cpu = 0.0
        for i in range(repeat + 2):
            cpu0 = time.process_time()
            status = get(handler, path, "partial=rows" if "census" in name else "", cookie)
            if i >= 2:
                cpu += time.process_time() - cpu0
            if status != 200:
                raise SystemExit(f"{name}: HTTP {status}")
        out[f"{name}_cpu_ms"] = round(cpu / repeat * 1000, 1)
    return out


def get(handler, path: str, query: str, cookie: str) -> int:
    """A background poll as htmx sends it, through the WSGI handler in this process."""
    headers = {"Cookie": cookie, "HX-Request": "true", "X-Background-Poll": "1"}
    status, _content = respond(handler, wsgi_environ("GET", path, b"", headers, query))
    return status
