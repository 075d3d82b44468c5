"""Capacity of a 50-centre network as its users load it: an open-loop load generator, two web hosts.

    .venv/bin/python bench/network_load.py [--centres 50] [--patients 50] [--rates 10,20,40,...]
    .venv/bin/python bench/network_load.py --quick        # smoke run, about 20 s

Creates its own PostgreSQL database (``bench_cap``; Redis DB 9 as the broker), seeds a network
(``bench/network_seed.py``: 50 centres x 50 active patients, tokens, signed-in sessions), starts TWO
web hosts (two gunicorn processes on two ports, gthread, ``--workers 3 --threads 4`` as the Helm
chart and the Dockerfile run them) and drives them OPEN LOOP: arrivals are scheduled by the wall
clock and sent whether or not earlier requests were answered; the client alternates between the
hosts (round robin).  Latency is measured from the *scheduled* time, so a queue anywhere (client,
server, database) shows in the figures instead of slowing the arrivals (no coordinated omission).

Streams, per step of ``--step-seconds``:

* observation POSTs, Poisson arrivals at the step's rate (the variable stepped up): ``--tablet-share``
  of them full vitals sets from a centre's tablet (nurse's personal token), the rest device-feed
  fragments, one vital per request (A-14), with the centre's integration token;
* census polls: every centre's coordinator every ``--census-interval`` s (30 s, the screen's
  htmx poll: ``/census/?partial=rows`` with ``HX-Request`` and ``X-Background-Poll``);
* inbox polls: every physician (two per centre) every ``--inbox-interval`` s (``/alerts/inbox/items/``);
* the network coordinator's census of every centre (all patients), same interval, reported apart.

A host passes a step when its observation POSTs have p95 <= 100 ms, its ward census polls p95 <=
300 ms and nothing failed; its capacity is the highest per-host POST rate it passed with every lower
step passed too.  Stepping stops after two steps in a row both hosts fail, or before the time budget
(``--budget``, 600 s in all) runs out.  Then, in the same run, CPU per POST: the API against the bare
INSERT view (``bench/api_site``), (a) under open-loop load (gunicorn workers' and database backends'
CPU from /proc, divided by requests), (b) in this process through Django's WSGI handler, one
request at a time (the way of ``bench/profile_post.py``).  The last line printed is a JSON object.

The driver is ``bench/open_loop.py``, the CPU figures ``bench/network_cpu.py``, the data
``bench/network_seed.py``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_DB_NAME", "bench_cap")
os.environ.setdefault("BENCH_BROKER_URL", "redis://127.0.0.1:6379/9")

from bench import network_seed  # noqa: E402
from bench import observation_post as bench  # noqa: E402
from bench.network_cpu import cpu_per_request, in_process_cpu  # noqa: E402
from bench.open_loop import POST_STREAMS, Load, percentile_ms, summary  # noqa: E402

POST_P95_MS, CENSUS_P95_MS = 100.0, 300.0


def setup_django(quick: bool) -> None:
    """Django in this process against the bench database: migrated for real, or (``--quick``) the
    tables built from the models (seconds instead of a full migrate; the smoke run only)."""
    if not quick:
        bench.migrate()
    os.environ.update({k: v for k, v in bench.child_env().items() if k != "PYTHONPATH"})
    import django

    django.setup()
    if quick:
        from django.apps import apps
        from django.conf import settings
        from django.core.management import call_command

        settings.MIGRATION_MODULES = {a.label: None for a in apps.get_app_configs()}
        call_command("migrate", run_syncdb=True, verbosity=0)


def wait_until_answering(port: int, workers: int, timeout: float = 180.0) -> None:
    """Until every worker of a host can answer (a booting worker does not accept yet): as many
    concurrent liveness GETs as workers answer 200 together."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        statuses: list[int] = []

        def probe(statuses: list[int] = statuses) -> None:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", "/health/")
                statuses.append(conn.getresponse().status)
                conn.close()
            except (OSError, http.client.HTTPException):
                statuses.append(0)

        probes = [threading.Thread(target=probe) for _ in range(2 * workers)]
        for t in probes:
            t.start()
        for t in probes:
            t.join()
        if statuses.count(200) == len(probes):
            return
        time.sleep(1)
    raise RuntimeError(f"the host on port {port} did not answer within {timeout:.0f} s")


def step_report(load: Load, step: int, start: float, seconds: float, settle: float, rate: float) -> dict:
    sent = [s for s in load.results if s.step == step and s.scheduled >= start + settle]
    hosts = []
    for h in range(len(load.ports)):
        mine = [s for s in sent if s.host == h]
        posts = summary([s for s in mine if s.stream in POST_STREAMS])
        census = summary([s for s in mine if s.stream == "census"])
        ok = (
            posts["n"] > 0
            and posts["p95_ms"] <= POST_P95_MS
            and (census["n"] == 0 or census["p95_ms"] <= CENSUS_P95_MS)
            and posts["failed"] + census["failed"] == 0
        )
        hosts.append({"host": h, "post": posts, "census": census, "ok": ok})
    names = sorted({s.stream for s in sent})
    streams = {name: summary([s for s in sent if s.stream == name]) for name in names}
    lag = [s.started - s.scheduled for s in sent]
    return {
        "post_rate_per_s": rate,
        "post_rate_per_host": round(rate / len(load.ports), 1),
        "hosts": hosts,
        "streams": streams,
        "client_lag_p95_ms": percentile_ms(lag, 95),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def capacity(steps: list[dict], host: int) -> float | None:
    best = None
    for s in steps:
        if not s["hosts"][host]["ok"]:
            break
        best = s["post_rate_per_host"]
    return best


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--centres", type=int, default=50)
    parser.add_argument("--patients", type=int, default=50, help="active patients per centre")
    parser.add_argument("--history", type=int, default=12, help="q4h vitals already recorded per patient")
    parser.add_argument("--rates", default="5,10,20,30,40,60,80,100,130,160", help="network POST/s per step")
    parser.add_argument("--step-seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds of unmeasured load first")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds at each step's start not measured")
    parser.add_argument("--tablet-share", type=float, default=0.2, help="share of POSTs that are tablet sets")
    parser.add_argument("--census-interval", type=float, default=30.0)
    parser.add_argument("--inbox-interval", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers per host")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument(
        "--senders", type=int, default=32, help="client sender threads (each one connection per host)"
    )
    parser.add_argument("--cpu-rate", type=float, default=20.0, help="network POST/s of the CPU phases")
    parser.add_argument("--cpu-seconds", type=float, default=15.0)
    parser.add_argument("--cpu-requests", type=int, default=200, help="in-process requests per kind")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds for the whole run")
    parser.add_argument(
        "--all-steps", action="store_true", help="run every rate (within the budget), past the targets"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 centres, two short steps")
    args = parser.parse_args()
    if args.quick:
        args.centres, args.patients, args.history = 3, 6, 3
        args.rates, args.step_seconds, args.settle = "4,8", 3.0, 0.5
        args.census_interval = args.inbox_interval = 2.0
        args.cpu_rate, args.cpu_seconds, args.cpu_requests = 8.0, 2.0, 20
        args.workers, args.threads, args.senders, args.warmup = 1, 4, 8, 3.0
    args.rates_list = [float(r) for r in args.rates.split(",")]
    return args


def main() -> int:
    args = parse_args()
    began = time.perf_counter()
    bench.log(f"creating database {bench.DB_NAME} ...")
    bench.create_database()
    procs: list = []
    load = None
    try:
        setup_django(args.quick)
        network = network_seed.seed(args.centres, args.patients, args.history)
        bench.log(f"seeded {len(network.centres)} centres, {network.patients} active patients")
        ports = [bench.free_port(), bench.free_port()]
        procs = [bench.start_gunicorn(port, args.workers, args.threads, 1000) for port in ports]
        server = f"2 hosts x gunicorn gthread --workers {args.workers} --threads {args.threads}"
        bench.log(f"{server} on ports {ports}; client alternates between them; open loop")
        load = Load(network, ports, args.senders)
        # Warm-up, not measured: every worker boots, imports and caches on its first requests.
        for port in ports:
            wait_until_answering(port, args.workers)
        warm = time.perf_counter() + 0.2
        load.run(-1, load.schedule(warm, args.warmup, args.rates_list[0], args), drain=120)
        dropped = load.discard()
        bench.log(f"warm-up: {len([s for s in load.results if s.step == -1])} requests ({dropped} dropped)")
        steps = []
        for index, rate in enumerate(args.rates_list):
            reserve = args.step_seconds + 2 * args.cpu_seconds + 30
            if steps and time.perf_counter() - began + reserve > args.budget:
                bench.log(f"time budget: stopping before {rate:g}/s")
                break
            start = time.perf_counter() + 0.2
            load.run(index, load.schedule(start, args.step_seconds, rate, args), drain=10)
            report = step_report(load, index, start, args.step_seconds, args.settle, rate)
            steps.append(report)
            h = report["hosts"]
            bench.log(
                f"{rate:6g} POST/s ({report['post_rate_per_host']:g}/host): POST p95 "
                f"{h[0]['post']['p95_ms']} / {h[1]['post']['p95_ms']} ms, census p95 "
                f"{h[0]['census']['p95_ms']} / {h[1]['census']['p95_ms']} ms, network census p95 "
                f"{report['streams'].get('census_network', {}).get('p95_ms')} ms, inbox p95 "
                f"{report['streams'].get('inbox', {}).get('p95_ms')} ms, client lag p95 "
                f"{report['client_lag_p95_ms']} ms, load {report['load_average'][0]}"
                + ("" if all(x["ok"] for x in h) else "  [over target]")
            )
            report["dropped_after_step"] = load.discard()
            # Two steps in a row over target on both hosts: higher rates will not pass (one such
            # step alone may be another process's burst on a shared machine).
            failing = len(steps) >= 2 and not any(x["ok"] for s in steps[-2:] for x in s["hosts"])
            if failing and not args.all_steps:
                break
        masters = [p.pid for p in procs]
        base = len(steps)
        under_load = {
            name: cpu_per_request(load, masters, stream, args.cpu_rate, args.cpu_seconds, base + k)
            for k, (name, stream) in enumerate((("api", "post_device"), ("bare", "post_bare")))
        }
        for name, r in under_load.items():
            bench.log(
                f"CPU per POST at {args.cpu_rate:g}/s, {name}: web {r['web_cpu_ms_per_request']} ms + "
                f"database {r['db_cpu_ms_per_request']} ms (p95 {r['p95_ms']} ms, {r['n']} requests)"
            )
        in_process = in_process_cpu(network, args.cpu_requests)
        bench.log(f"CPU per POST in process: {in_process}")
    finally:
        if load is not None:
            load.close()
        for proc in procs:
            bench.stop(proc)
        from django.db import connections

        connections.close_all()
        bench.drop_database()
        import redis

        redis.Redis.from_url(bench.BROKER_URL).flushdb()  # the alert tasks nobody consumed
    hosts = [{"host": h, "sustained_post_per_s": capacity(steps, h)} for h in range(len(ports))]
    result = {
        "benchmark": "network_load",
        "open_loop": True,
        "server": server,
        "centres": len(network.centres),
        "active_patients": network.patients,
        "tablet_share": args.tablet_share,
        "poll_intervals_s": {"census": args.census_interval, "inbox": args.inbox_interval},
        "targets_ms": {"post_p95": POST_P95_MS, "census_p95": CENSUS_P95_MS},
        "hosts": hosts,
        "steps": steps,
        "cpu_per_post_under_load": {"rate_per_s": args.cpu_rate, **under_load},
        "cpu_per_post_in_process": in_process,
        "cpus": os.cpu_count(),
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "run_seconds": round(time.perf_counter() - began, 1),
    }
    for h in hosts:
        bench.log(f"host {h['host']}: sustains {h['sustained_post_per_s']} POST/s within the targets")
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
