"""The capacity bench's load generator is open loop: arrivals keep their schedule when the server
falls behind, and the wait shows in the latencies (measured from the scheduled time)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from bench import network_load, open_loop
from bench.network_seed import Centre, Network

SERVICE_SECONDS = 0.1  # each tiny server answers one request at a time, 10 per second


class SlowHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        time.sleep(SERVICE_SECONDS)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.send_header("Connection", "close")  # one request per connection: the queue is the backlog
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


class OneAtATimeServer(HTTPServer):
    request_queue_size = 64


@pytest.fixture
def two_hosts():
    servers = [OneAtATimeServer(("127.0.0.1", 0), SlowHandler) for _ in range(2)]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for t in threads:
        t.start()
    yield [s.server_address[1] for s in servers]
    for s in servers:
        s.shutdown()
        s.server_close()


def network() -> Network:
    centre = Centre(
        team_id=1,
        infusions=[1],
        nurse_id=1,
        tablet_token="t",
        device_token="d",
        coordinator_cookie="sessionid=c",
        physician_cookies=["sessionid=p0", "sessionid=p1"],
    )
    return Network(centres=[centre], network_cookie="sessionid=n")


def drive(ports, senders: int):
    """40 requests/s for 0.5 s over two hosts that each serve 10/s: the servers fall behind."""
    load = open_loop.Load(network(), ports, senders=senders)
    try:
        start = time.perf_counter() + 0.1
        load.run(0, [(start + i * 0.025, "inbox", i % 2) for i in range(20)], drain=10)
    finally:
        load.close()
    sent = sorted(load.results, key=lambda s: s.scheduled)
    assert len(sent) == 20 and all(s.status == 200 for s in sent)
    return sent


def test_requests_leave_on_schedule_whatever_the_answers(two_hosts):
    sent = drive(two_hosts, senders=16)
    assert {s.host for s in sent[::2]} == {0} and {s.host for s in sent[1::2]} == {1}  # round robin
    # Every request left the client at its time, not after the previous answer ...
    assert max(s.started - s.scheduled for s in sent) < 0.1
    # ... so the later ones waited in the servers' queues, and that wait is in their latency:
    # a host's tenth request, scheduled at 0.45 s, is answered at about 10 x 0.1 s.
    stats = open_loop.summary(sent)
    assert stats["max_ms"] >= 500 and stats["p50_ms"] >= 200
    assert min(s.done - s.scheduled for s in sent) < 0.2


def test_a_saturated_client_still_counts_the_wait_from_the_scheduled_time(two_hosts):
    # Two senders for 20 requests: the client itself queues (coordinated omission, if latency
    # were timed from the moment of sending: every request would look like 0.1 s).
    sent = drive(two_hosts, senders=2)
    assert max(s.done - s.started for s in sent) < 0.3
    stats = open_loop.summary(sent)
    assert stats["max_ms"] >= 400 and stats["p95_ms"] >= 350


def test_a_host_capacity_is_the_last_step_before_the_first_failure():
    def step(rate, ok0, ok1):
        return {"post_rate_per_host": rate, "hosts": [{"ok": ok0}, {"ok": ok1}]}

    steps = [step(5, True, True), step(10, True, False), step(20, False, True), step(40, True, True)]
    assert network_load.capacity(steps, 0) == 10
    assert network_load.capacity(steps, 1) == 5
