"""Where one observation POST spends its time: the real WSGI handler, in this process, no server.

    .venv/bin/python bench/profile_post.py [--requests 300] [--history 40] [--profile]

Creates its own PostgreSQL database (``bench_profile``), seeds like ``bench/observation_post.py``
(one nurse with an integration token, patients with a history of observations recorded through the
real service), then calls Django's WSGI handler directly with ``POST /api/observations/`` and with the
bare INSERT view, one request at a time, and prints the mean cost of each in milliseconds, the SQL
statements per request and, with ``--profile``, the cProfile functions that take the most time.
Last line: a JSON object.  The figures are CPU cost per request without HTTP parsing or queueing,
to find hot spots; the throughput figures come from ``bench/observation_post.py``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_DB_NAME", "bench_profile")

from bench import observation_post as bench  # noqa: E402


def wsgi_environ(method: str, path: str, raw: bytes, headers: dict, query: str = "") -> dict:
    """The WSGI environ of one request as a server would hand it to Django."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(raw)),
        "HTTP_HOST": "127.0.0.1",
        "wsgi.input": io.BytesIO(raw),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    for key, value in headers.items():
        environ["HTTP_" + key.upper().replace("-", "_")] = value
    return environ


def respond(handler, environ: dict) -> tuple[int, bytes]:
    """Call Django's WSGI handler; the status code and the body."""
    status_box: list[str] = []

    def start_response(status, response_headers, exc_info=None):
        status_box.append(status)

    response = handler(environ, start_response)
    content = b"".join(response)
    if hasattr(response, "close"):
        response.close()
    return int(status_box[0].split()[0]), content


def call(handler, path: str, body: dict, headers: dict) -> tuple[int, bytes]:
    return respond(handler, wsgi_environ("POST", path, json.dumps(body).encode(), headers))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--history", type=int, default=40)
    parser.add_argument("--patients", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="print the top cProfile functions")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()

    bench.create_database()
    try:
        bench.migrate()
        seeded = bench.seed(args.patients, args.history)
        from django.core.handlers.wsgi import WSGIHandler
        from django.db import connection
        from django.utils import timezone

        handler = WSGIHandler()
        rng = random.Random(3)
        infusions = seeded["infusions"]

        def api_body(i: int) -> dict:
            return {
                "client_uuid": str(uuid.uuid4()),
                "infusion": infusions[i % len(infusions)],
                "kind": "vitals",
                "observed_at": (timezone.now() - timedelta(seconds=rng.randint(1, 600))).isoformat(),
                "payload": bench.vitals_payload(rng),
            }

        api_headers = {"Authorization": f"Bearer {seeded['token']}"}
        phases = {
            "api": ("/api/observations/", api_body, api_headers),
            "bare": (
                "/bare/observations/",
                lambda i: {**api_body(i), "recorded_by": seeded["nurse_id"]},
                {},
            ),
        }
        results: dict[str, dict] = {}
        for name, (path, body_for, headers) in phases.items():
            for i in range(30):  # warm-up: imports, course cache, connection
                status, content = call(handler, path, body_for(i), headers)
                if status not in (200, 201):
                    raise SystemExit(f"{name}: HTTP {status}: {content[:500]!r}")
            counter = {"n": 0}

            def count(execute, sql, params, many, context, counter=counter):
                counter["n"] += 1
                return execute(sql, params, many, context)

            wrapper = connection.execute_wrapper(count)
            wrapper.__enter__()
            profiler = cProfile.Profile() if args.profile else None
            cpu0, wall0 = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            for i in range(args.requests):
                status, _ = call(handler, path, body_for(i), headers)
                assert status == 201, status
            if profiler:
                profiler.disable()
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            wrapper.__exit__(None, None, None)
            statements = counter["n"]
            results[name] = {
                "wall_ms": round(wall / args.requests * 1000, 3),
                "cpu_ms": round(cpu / args.requests * 1000, 3),
                "statements": round(statements / args.requests, 2),
            }
            print(f"{name}: {results[name]}", flush=True)
            if profiler:
                out = io.StringIO()
                stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
                stats.print_stats(args.top)
                print(out.getvalue())
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.top)
                print(out.getvalue())
        results["cpu_ratio"] = round(results["bare"]["cpu_ms"] / results["api"]["cpu_ms"], 3)
    finally:
        from django.db import connections

        connections.close_all()
        bench.drop_database()
    print(json.dumps({"benchmark": "profile_post", **results}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
