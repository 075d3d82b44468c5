"""Container health check: GET one of CAR-T Track's health URLs the way the proxy in front sends it.

    python deploy/healthcheck.py http://127.0.0.1:8000/health/

Exits 0 on HTTP 200 and 1 otherwise (503, a redirect, no answer). The request carries the first
ALLOWED_HOSTS entry as its Host header, since Django refuses any other host, and
X-Forwarded-Proto: https, since the production settings redirect plain HTTP to HTTPS; the
Kubernetes probes in deploy/helm send the same two headers.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 3.0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect means the request was not answered as a health check: report it, do not follow it."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def check(url: str, allowed_hosts: str) -> tuple[bool, str]:
    if urlsplit(url).scheme not in {"http", "https"}:
        return False, f"not an http(s) URL: {url}"
    headers = {"X-Forwarded-Proto": "https"}
    host = allowed_hosts.split(",")[0].strip()
    if host:
        headers["Host"] = host
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 (scheme checked above)
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            body = response.read(500).decode(errors="replace")
            return response.status == 200, f"{response.status} {body}"
    except urllib.error.HTTPError as exc:
        return False, f"{exc.code} {exc.read(500).decode(errors='replace')}"
    except OSError as exc:
        return False, f"no answer: {exc}"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python deploy/healthcheck.py URL", file=sys.stderr)
        return 2
    healthy, detail = check(argv[1], os.environ.get("ALLOWED_HOSTS", ""))
    print(detail, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
