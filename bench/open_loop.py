"""The open-loop driver of ``bench/network_load.py``: requests released at their scheduled time to
a pool of senders (nobody waits for an answer to send), latency timed from the scheduled time."""

from __future__ import annotations

import http.client
import json
import queue
import random
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from bench import network_seed
from bench import observation_post as bench

POST_STREAMS = ("post_tablet", "post_device")


@dataclass
class Sent:
    stream: str
    host: int
    step: int
    scheduled: float
    started: float
    done: float
    status: int


class Load:
    """The open-loop driver: a dispatcher releases each request at its scheduled time to a pool of
    sender threads (one keep-alive connection per host each); nobody waits for an answer to send."""

    def __init__(self, network: network_seed.Network, ports: list[int], senders: int, seed: int = 1):
        self.network, self.ports = network, ports
        self.rng = random.Random(seed)
        self.queue: queue.Queue = queue.Queue()
        self.results: list[Sent] = []
        self.lock = threading.Lock()
        self.counter = 0
        self.origin = time.perf_counter()
        polls = len(network.centres) * 3 + 1
        self.phase = [self.rng.uniform(0, 1) for _ in range(polls)]
        self.threads = [threading.Thread(target=self._sender, daemon=True) for _ in range(senders)]
        for t in self.threads:
            t.start()

    # --- what each stream sends -------------------------------------------------------------
    def _request(self, stream: str, who: int, rng: random.Random) -> tuple[str, str, dict, bytes | None]:
        from django.utils import timezone

        centres = self.network.centres
        if stream in POST_STREAMS or stream == "post_bare":
            centre = centres[who % len(centres)]
            body = {
                "client_uuid": str(uuid.uuid4()),
                "infusion": rng.choice(centre.infusions),
                "kind": "vitals",
                "observed_at": (timezone.now() - timedelta(seconds=rng.randint(1, 60))).isoformat(),
                "payload": network_seed.vitals_payload(rng)
                if stream == "post_tablet"
                else network_seed.device_fragment(rng),
            }
            headers = {"Content-Type": "application/json"}
            if stream == "post_bare":
                body["recorded_by"] = centre.nurse_id
                return "POST", "/bare/observations/", headers, json.dumps(body).encode()
            token = centre.tablet_token if stream == "post_tablet" else centre.device_token
            headers["Authorization"] = f"Bearer {token}"
            return "POST", "/api/observations/", headers, json.dumps(body).encode()
        poll = {"HX-Request": "true", "X-Background-Poll": "1"}
        if stream == "census":
            return "GET", "/census/?partial=rows", {**poll, "Cookie": centres[who].coordinator_cookie}, None
        if stream == "census_network":
            return "GET", "/census/?partial=rows", {**poll, "Cookie": self.network.network_cookie}, None
        cookie = centres[who // 2].physician_cookies[who % 2]
        return "GET", "/alerts/inbox/items/", {**poll, "Cookie": cookie}, None

    def _send(self, conns: dict, host: int, request, rng) -> int:
        method, path, headers, body = request
        for attempt in (1, 2):  # a keep-alive connection the server closed: reconnect once
            conn = conns.get(host) or http.client.HTTPConnection("127.0.0.1", self.ports[host], timeout=60)
            conns[host] = conn
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                return resp.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conns.pop(host, None)
                if attempt == 2:
                    return 0
        return 0

    def _sender(self) -> None:
        conns: dict[int, http.client.HTTPConnection] = {}
        rng = random.Random(threading.get_ident())
        while True:
            item = self.queue.get()
            if item is None:
                return
            step, scheduled, stream, who, host = item
            started = time.perf_counter()
            try:
                status = self._send(conns, host, self._request(stream, who, rng), rng)
            except Exception as exc:  # a sender must never die: the request counts as failed
                bench.log(f"{stream}: {type(exc).__name__}: {exc}")
                status = -1
            sent = Sent(stream, host, step, scheduled, started, time.perf_counter(), status)
            with self.lock:
                self.results.append(sent)
            self.queue.task_done()

    # --- the schedule ---------------------------------------------------------------------------
    def schedule(self, start: float, seconds: float, post_rate: float, args, post_only: str = "") -> list:
        """(time, stream, who) of every arrival in [start, start + seconds)."""
        events = []
        t = start
        n_centres = len(self.network.centres)
        while post_rate > 0:
            t += self.rng.expovariate(post_rate)
            if t >= start + seconds:
                break
            stream = post_only or ("post_tablet" if self.rng.random() < args.tablet_share else "post_device")
            events.append((t, stream, self.rng.randrange(n_centres)))
        if not post_only:
            periodic = [("census", c, args.census_interval) for c in range(n_centres)]
            periodic += [("inbox", p, args.inbox_interval) for p in range(2 * n_centres)]
            periodic.append(("census_network", 0, args.census_interval))
            for index, (stream, who, interval) in enumerate(periodic):
                first = self.origin + self.phase[index] * interval
                k = max(0, int((start - first) // interval))
                while (at := first + k * interval) < start + seconds:
                    if at >= start:
                        events.append((at, stream, who))
                    k += 1
        return sorted(events)

    def run(self, step: int, events: list, drain: float) -> None:
        for at, stream, who in events:
            delay = at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self.queue.put((step, at, stream, who, self.counter % len(self.ports)))
            self.counter += 1
        deadline = time.perf_counter() + drain
        while self.queue.unfinished_tasks and time.perf_counter() < deadline:
            time.sleep(0.05)

    def discard(self) -> int:
        """Drop the requests still waiting in the client (after an overloaded step), then wait for
        the ones in flight, so the next phase starts from an empty queue."""
        dropped = 0
        while True:
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                dropped += 1
            self.queue.task_done()
        deadline = time.perf_counter() + 120
        while self.queue.unfinished_tasks and time.perf_counter() < deadline:
            time.sleep(0.05)
        return dropped

    def close(self) -> None:
        for _ in self.threads:
            self.queue.put(None)


def percentile_ms(values: list[float], p: float) -> float | None:
    return round(bench.percentile(values, p) * 1000, 1) if values else None


def summary(sent: list[Sent]) -> dict:
    latencies = [s.done - s.scheduled for s in sent]
    return {
        "n": len(sent),
        "p50_ms": percentile_ms(latencies, 50),
        "p95_ms": percentile_ms(latencies, 95),
        "p99_ms": percentile_ms(latencies, 99),
        "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
        "failed": sum(1 for s in sent if not 200 <= s.status < 300),
    }
