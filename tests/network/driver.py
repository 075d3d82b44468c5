"""The test process as the ``driver`` host of the topology: the tablets posting observations through the
balancer with an API token, the nurse's browser (signed in with the login form), the operator's view of
the database, and a watch on which host holds the dispatcher's advisory lock."""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import re
import threading
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from alerts.dispatcher import LOCK_KEY
from tests.alerts.receivers import WebhookReceiver

from .topology import Network, Processes, ip_of

STEADY_RATE = 2.0  # normal vitals per second, for the whole test
LB = f"http://{ip_of('lb')}:8000"
NORMAL = {"temp_c": 37.0, "hr": 80, "sbp": 120, "dbp": 75, "rr": 16, "spo2": 98, "o2_device": "room_air"}
NO_PROXY = urllib.request.ProxyHandler({})


def database() -> psycopg.Connection:
    return psycopg.connect(f"host={ip_of('db')} user=postgres dbname=carttrack", autocommit=True)


def request(
    opener,
    method: str,
    path: str,
    *,
    data: bytes | None = None,
    headers: dict | None = None,
    timeout: float = 30,
) -> tuple[int, str]:
    req = urllib.request.Request(LB + path, data=data, method=method, headers=headers or {})
    try:
        with opener.open(req, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:
        return 0, str(error)


@dataclass
class Cluster:
    net: Network
    procs: Processes
    ward: dict
    gateway: WebhookReceiver
    var_dir: Path
    db: psycopg.Connection
    api: urllib.request.OpenerDirector = field(default_factory=lambda: urllib.request.build_opener(NO_PROXY))

    def post_observation(self, infusion: int, payload: dict) -> tuple[int, str]:
        body = {
            "client_uuid": str(uuid.uuid4()),
            "infusion": infusion,
            "kind": "vitals",
            "observed_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
            "payload": payload,
        }
        status, _ = request(
            self.api,
            "POST",
            "/api/observations/",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.ward['token']}", "Content-Type": "application/json"},
        )
        return status, body["client_uuid"]

    def health(self) -> tuple[int, dict]:
        status, text = request(self.api, "GET", "/health/escalations")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, {"unreadable": text[:200]}

    def sql(self, query: str, *args) -> list[tuple]:
        return self.db.execute(query, args).fetchall()

    def one(self, query: str, *args):
        return self.sql(query, *args)[0][0]


class SteadyLoad(threading.Thread):
    """Normal vitals for one patient at ``STEADY_RATE`` through the balancer until stopped."""

    def __init__(self, cluster: Cluster):
        super().__init__(daemon=True)
        self.cluster = cluster
        self.stopping = threading.Event()
        self.results: list[tuple[float, int, str]] = []

    def run(self) -> None:
        start = time.monotonic()
        n = 0
        # Arrivals on a fixed clock (open loop): a slow answer does not lower the rate, the next one is due.
        while not self.stopping.wait(max(0.0, start + n / STEADY_RATE - time.monotonic())):
            status, client_uuid = self.cluster.post_observation(self.cluster.ward["steady"], NORMAL)
            self.results.append((time.time(), status, client_uuid))
            n += 1

    def stop(self) -> list[tuple[float, int, str]]:
        self.stopping.set()
        self.join(timeout=60)
        return self.results


class LockWatch(threading.Thread):
    """Samples, twice a second, which host's session holds the dispatcher's advisory lock."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stopping = threading.Event()
        self.samples: list[tuple[float, list[str]]] = []

    def run(self) -> None:
        with contextlib.suppress(psycopg.Error), database() as conn:  # the server stops at teardown
            while not self.stopping.wait(0.5):
                rows = conn.execute(
                    "SELECT host(a.client_addr) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.objid = %s AND l.granted",
                    [LOCK_KEY],
                ).fetchall()
                self.samples.append((time.time(), sorted(r[0] for r in rows)))

    def holders(self) -> list[str]:
        """The holders in order, each run of samples once (an empty list: nobody)."""
        runs: list[str] = []
        for _, hosts in self.samples:
            name = ",".join(hosts) or "nobody"
            if not runs or runs[-1] != name:
                runs.append(name)
        return runs


def nurse_session(cluster: Cluster) -> urllib.request.OpenerDirector:
    """The nurse signed in through the balancer with the login form (CSRF token and session cookie)."""
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(NO_PROXY, urllib.request.HTTPCookieProcessor(jar))
    status, page = request(browser, "GET", "/accounts/login/")
    assert status == 200, f"login page: {status} {page[:300]}"
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = {
        "username": cluster.ward["nurse"],
        "password": cluster.ward["password"],
        "csrfmiddlewaretoken": token,
    }
    status, page = request(
        browser,
        "POST",
        "/accounts/login/",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 200 and any(c.name == "sessionid" for c in jar), f"sign-in failed: {status} {page[:300]}"
    return browser


def banner(browser) -> str:
    status, text = request(
        browser, "GET", "/alerts/status/", headers={"HX-Request": "true", "X-Background-Poll": "1"}
    )
    assert status == 200, f"banner fragment answered {status}"
    return text


DIAGNOSTICS = {
    "steps (kind, status, sequence)": "SELECT kind, status, sequence, count(*) FROM alerts_escalationstep "
    "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    "alerts (status, generation)": "SELECT status, generation, count(*) FROM alerts_alert GROUP BY 1, 2",
    "operations alarms": "SELECT kind, count(*), min(message) FROM alerts_operationsalarm GROUP BY 1",
    "timeline events": "SELECT kind, count(*), min(text) FROM alerts_alertevent GROUP BY 1",
    "unprocessed evaluations": "SELECT count(*) FROM monitoring_gradeevaluation "
    "WHERE alerts_processed_at IS NULL",
}


def diagnostics(db: psycopg.Connection) -> str:
    """What the database holds at the end (printed with the logs, to read a failure)."""
    out = []
    for title, query in DIAGNOSTICS.items():
        try:
            out.append(f"{title}: {db.execute(query).fetchall()}")
        except psycopg.Error as error:
            out.append(f"{title}: {error}")
    return "\n".join(out)
