"""The census read from a real streaming replica of this machine's PostgreSQL (127.0.0.1:5432), copied by
``pg_basebackup -R`` onto a loopback port of its own and served by a web process (gunicorn) that has
``DATABASE_REPLICA_URL``. The coordinator sees where the data came from and how far behind it is; a
replica that falls too far behind is not read; every write still goes to the primary."""

from __future__ import annotations

import contextlib
import glob
import http.client
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.test import Client

from tests import factories
from tests.deployment.processes import BIN, base_env, free_port, port_open, running, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]

AS_POSTGRES = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
PRIMARY = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REPLICATION_RULE = "host replication all 127.0.0.1/32 trust"
MAX_LAG = 4


def pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    assert found, "the PostgreSQL server binaries are not installed (postgresql package)"
    return Path(found[-1]).parent


def as_postgres(*command: str) -> str:
    done = subprocess.run([*AS_POSTGRES, *command], capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
    return done.stdout


def allow_local_replication() -> None:
    """The primary admits replication connections from loopback (trust, as for every local client)."""
    with psycopg.connect(**PRIMARY, dbname="postgres", autocommit=True) as conn:
        rules = conn.execute(
            "SELECT count(*) FROM pg_hba_file_rules WHERE 'replication' = ANY(database) AND type = 'host'"
        ).fetchone()[0]
        if rules:
            return
        hba_file = conn.execute("SHOW hba_file").fetchone()[0]
        with open(hba_file, "a") as hba:
            hba.write(f"\n# CAR-T Track tests: a streaming replica on loopback\n{REPLICATION_RULE}\n")
        conn.execute("SELECT pg_reload_conf()")


@dataclass
class Standby:
    port: int
    data: Path

    def stop(self) -> None:
        as_postgres(str(pg_bin() / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def query(self, sql: str) -> list[tuple]:
        dbname = connection.settings_dict["NAME"]
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=dbname) as conn:
            return conn.execute(sql).fetchall()


@pytest.fixture
def replica(transactional_db):
    """A hot standby of the 5432 cluster (the test database included), streaming."""
    allow_local_replication()
    binaries, port = pg_bin(), free_port()
    base = Path(tempfile.mkdtemp(prefix="carttrack-standby-"))
    data = base / "data"
    if AS_POSTGRES:
        shutil.chown(base, "postgres", "postgres")
    as_postgres(
        str(binaries / "pg_basebackup"), "-h", "127.0.0.1", "-p", "5432", "-U", "postgres",
        "-D", str(data), "--write-recovery-conf", "--wal-method=stream", "--checkpoint=fast",
    )  # fmt: skip
    # Debian keeps the configuration outside the data directory: the standby gets a minimal one.
    for name, text in {
        "postgresql.conf": "hot_standby = on\n",
        "pg_hba.conf": "local all all trust\nhost all all 127.0.0.1/32 trust\n",
        "pg_ident.conf": "",
    }.items():
        (data / name).write_text(text)
        if AS_POSTGRES:
            shutil.chown(data / name, "postgres", "postgres")
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1"
    log = str(base / "log")
    as_postgres(str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", log, "-w", "start")
    standby = Standby(port, data)
    try:
        yield standby
    finally:
        with contextlib.suppress(AssertionError):  # already stopped by the test
            standby.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def web(replica, tmp_path):
    """gunicorn under the test settings: primary = the test database, replica = the standby's copy of it."""
    db, port = connection.settings_dict, free_port()
    env = base_env(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{db['NAME']}",
        DATABASE_REPLICA_URL=f"postgres://postgres@127.0.0.1:{replica.port}/{db['NAME']}",
        DATABASE_REPLICA_MAX_LAG_SECONDS=str(MAX_LAG),
        DB_CONN_MAX_AGE="0",
        CELERY_BROKER_URL=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15"),
        CARTTRACK_VAR_DIR=str(tmp_path),
    )
    command = [str(BIN / "gunicorn"), "config.wsgi:application", f"--bind=127.0.0.1:{port}", "--workers=1"]
    with running(command, env, tmp_path / "web.log") as proc:
        wait_until(lambda: port_open(port) or proc.poll() is not None, 60, "gunicorn listening")
        assert proc.poll() is None, (tmp_path / "web.log").read_text()[-3000:]
        yield port


def census(port: int, session: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", "/census/", headers={"Cookie": f"sessionid={session}", "Host": "127.0.0.1"})
        response = conn.getresponse()
        body = response.read().decode()
        assert response.status == 200, body[:2000]
        return body
    finally:
        conn.close()


def lag_shown(page: str) -> float:
    """The lag the page states ("Read from the replica, 1.2 s behind the primary.")."""
    match = re.search(r"Read from the replica, ([0-9.]+) s behind the primary\.", page)
    assert match, "the census does not say how far behind the replica is"
    return float(match[1])


def test_census_reads_the_replica_shows_its_lag_and_reads_the_primary_when_it_falls_behind(
    replica, web, team, coordinator, product
):
    client = Client()
    client.force_login(coordinator)  # the session row is written to the primary
    session = client.cookies["sessionid"].value
    factories.make_infusion(factories.make_patient(team, family_name="Alder"), product, hours_ago=30)
    wait_until(lambda: replica.query("SELECT 1 FROM monitoring_patient"), 30, "the standby replays")

    page = census(web, session)
    assert "Alder" in page and "Read from the replica," in page and lag_shown(page) < MAX_LAG

    # Replay stops (the standby still receives): the replica is behind, the census says so.
    replica.query("SELECT pg_wal_replay_pause()")
    try:
        factories.make_infusion(factories.make_patient(team, family_name="Birch"), product, hours_ago=2)
        time.sleep(0.5)  # the lag is the time since the last replayed commit: at least this long now
        page = census(web, session)
        assert "Alder" in page and "Birch" not in page, "a census read from the replica misses the new row"
        assert "Read from the replica," in page and 0.5 <= lag_shown(page) < MAX_LAG

        # Further behind than DATABASE_REPLICA_MAX_LAG_SECONDS: the census reads the primary and says so.
        time.sleep(MAX_LAG + 1)
        page = census(web, session)
        assert "Birch" in page
        assert f"(more than {MAX_LAG} s): read from the primary instead." in page
        assert "dash-replica-fallback" in page
    finally:
        replica.query("SELECT pg_wal_replay_resume()")

    # Caught up again: back on the replica, with the new patient.
    wait_until(lambda: "Read from the replica," in census(web, session), 30, "the census on the replica")
    assert "Birch" in census(web, session)


def test_census_reads_the_primary_when_the_replica_is_stopped(replica, web, team, coordinator, product):
    client = Client()
    client.force_login(coordinator)
    session = client.cookies["sessionid"].value
    factories.make_infusion(factories.make_patient(team, family_name="Alder"), product, hours_ago=30)
    replica.stop()
    page = census(web, session)
    assert "Alder" in page
    assert "The read replica cannot be reached: read from the primary instead." in page
