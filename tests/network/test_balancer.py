"""The multi-host test's load balancer on loopback (no root needed): round robin over live backends, a
dead backend skipped without failing a request, and taken back once it answers its health check."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.alerts.receivers import free_port

from .balancer import Balancer, serve
from .topology import wait_until

pytestmark = pytest.mark.timeout(60)


class Backend:
    """An HTTP server answering every GET with its own name (and ``/health/`` with 200)."""

    def __init__(self, name: str, port: int):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.end_headers()
                self.wfile.write(name.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def balancer():
    ports = [free_port(), free_port()]
    balancer = Balancer([("127.0.0.1", p) for p in ports], check_interval=0.2, timeout=0.5)
    loop = asyncio.new_event_loop()
    started = asyncio.Event()
    listen = ("127.0.0.1", free_port())
    task = loop.create_task(serve(listen, balancer, started))

    def run() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(task)
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    wait_until(started.is_set, 10, "the balancer to listen")
    yield balancer, f"http://127.0.0.1:{listen[1]}/", ports
    loop.call_soon_threadsafe(task.cancel)
    thread.join(timeout=10)


def fetch(url: str) -> str:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=5) as response:
        return response.read().decode()


def test_round_robin_skips_a_dead_backend_and_takes_it_back(balancer):
    lb, url, (port_a, port_b) = balancer
    a = Backend("a", port_a)
    try:
        # b is not listening: every request is still answered, by a.
        assert [fetch(url) for _ in range(6)] == ["a"] * 6
        wait_until(lambda: lb.healthy[("127.0.0.1", port_b)] is False, 10, "the balancer to mark b down")
        b = Backend("b", port_b)
        try:
            wait_until(lambda: lb.healthy[("127.0.0.1", port_b)], 10, "the health check to take b back")
            assert sorted(fetch(url) for _ in range(6)) == ["a"] * 3 + ["b"] * 3
        finally:
            b.close()
    finally:
        a.close()
