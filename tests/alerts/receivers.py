"""Local receivers for the delivery channels: a webhook HTTP server and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from alerts.channels import verify


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebhookReceiver:
    """Records every request; ``delay_first`` stalls the first request (to kill a worker mid-send).
    Deduplicates by ``Idempotency-Key`` as a real gateway would (``unique_keys``)."""

    def __init__(
        self, secret: str, *, delay_first: float = 0.0, fail_first: int = 0, host: str = "127.0.0.1"
    ):
        self.secret = secret
        self.requests: list[dict] = []
        self.bad_signatures = 0
        self.delay_first = delay_first
        self.fail_first = fail_first
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                ok = verify(
                    receiver.secret,
                    self.headers.get("X-CarTTrack-Timestamp", ""),
                    body,
                    self.headers.get("X-CarTTrack-Signature", ""),
                )
                with receiver.lock:
                    n = len(receiver.requests)
                    receiver.requests.append(
                        {
                            "body": json.loads(body),
                            "key": self.headers.get("Idempotency-Key"),
                            "ok": ok,
                            "at": time.time(),
                            "from": self.client_address[0],
                        }
                    )
                    if not ok:
                        receiver.bad_signatures += 1
                if n == 0 and receiver.delay_first:
                    time.sleep(receiver.delay_first)
                status = 500 if n < receiver.fail_first else (200 if ok else 401)
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @property
    def unique_keys(self) -> set[str]:
        return {r["key"] for r in self.requests}


class SmtpReceiver:
    """aiosmtpd on a free localhost port, recording Message-IDs."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list = []
        receiver = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                from email import message_from_bytes

                receiver.messages.append(message_from_bytes(envelope.content))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    @property
    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]
