"""A tiny round-robin TCP load balancer for the multi-host test (``python -m tests.network.balancer``).

Each client connection goes to the next healthy backend; a backend is checked every ``check_interval``
seconds with ``GET /health/`` and skipped while it does not answer 200, and a backend that refuses or
times out a connection is marked down at once and the next one is tried. Every connection is logged
with the backend that served it (``served <client> by <host:port>``), so a test can count who served.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys

log = logging.getLogger("balancer")

Address = tuple[str, int]


def parse_address(text: str) -> Address:
    host, _, port = text.rpartition(":")
    return host, int(port)


class Balancer:
    def __init__(self, backends: list[Address], *, check_interval: float = 0.5, timeout: float = 1.0):
        self.backends = backends
        self.healthy = dict.fromkeys(backends, True)
        self.check_interval = check_interval
        self.timeout = timeout
        self.next = 0
        self.served: dict[Address, int] = dict.fromkeys(backends, 0)

    def mark(self, backend: Address, ok: bool) -> None:
        if self.healthy[backend] != ok:
            log.info("backend %s:%s is %s", *backend, "up" if ok else "down")
        self.healthy[backend] = ok

    async def probe(self, backend: Address) -> bool:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(*backend), self.timeout)
        except (OSError, TimeoutError):
            return False
        try:
            writer.write(f"GET /health/ HTTP/1.0\r\nHost: {backend[0]}\r\n\r\n".encode())
            await writer.drain()
            status = await asyncio.wait_for(reader.readline(), self.timeout * 3)
            return b" 200 " in status
        except (OSError, TimeoutError):
            return False
        finally:
            writer.close()

    async def check_forever(self) -> None:
        while True:
            results = await asyncio.gather(*(self.probe(b) for b in self.backends))
            for backend, ok in zip(self.backends, results, strict=True):
                self.mark(backend, ok)
            await asyncio.sleep(self.check_interval)

    def candidates(self) -> list[Address]:
        """Every backend once, healthy ones first, starting at the round-robin position."""
        start = self.next
        self.next = (self.next + 1) % len(self.backends)
        ordered = self.backends[start:] + self.backends[:start]
        return [b for b in ordered if self.healthy[b]] + [b for b in ordered if not self.healthy[b]]

    async def handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        peer = client_writer.get_extra_info("peername")
        for backend in self.candidates():
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(*backend), self.timeout)
            except (OSError, TimeoutError):
                self.mark(backend, False)
                continue
            self.served[backend] += 1
            log.info("served %s by %s:%s", peer[0] if peer else "?", *backend)
            await asyncio.gather(pipe(client_reader, writer), pipe(reader, client_writer))
            return
        log.warning("no backend answered for %s", peer)
        client_writer.close()


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            writer.close()


async def serve(listen: Address, balancer: Balancer, started: asyncio.Event | None = None) -> None:
    server = await asyncio.start_server(balancer.handle, *listen)
    checker = asyncio.create_task(balancer.check_forever())
    log.info("balancing %s:%s over %s", *listen, ", ".join(f"{h}:{p}" for h, p in balancer.backends))
    if started is not None:
        started.set()
    try:
        async with server:
            await server.serve_forever()
    finally:
        checker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await checker


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listen", required=True, type=parse_address)
    parser.add_argument("--backend", action="append", required=True, type=parse_address)
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(message)s")
    asyncio.run(serve(args.listen, Balancer(args.backend)))


if __name__ == "__main__":
    main()
