"""The streaming replica of docker-compose.yml, built by the repository's own scripts with this machine's
PostgreSQL binaries: a primary prepared by primary-init.sh (as the postgres image runs it on first start)
and a replica started by replica-entrypoint.sh, on loopback ports of their own. The replica copies the
primary, streams every later write through its slot, refuses writes, accepts the application's
DATABASE_REPLICA_URL credentials, and resumes streaming after a restart without copying again."""

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from .layout import DOTENV, ROOT, compose, compose_env
from .processes import free_port, running, stop, wait_until

pytestmark = pytest.mark.integration

SERVICES = compose()["services"]
SCRIPTS = ROOT / "deploy" / "compose" / "postgres"
AS_POSTGRES = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
USER, DATABASE = "carttrack", "carttrack"
PASSWORD, REPLICATION_PASSWORD = DOTENV["POSTGRES_PASSWORD"], DOTENV["POSTGRES_REPLICATION_PASSWORD"]


def server_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not found:
        if os.environ.get("CI"):
            pytest.fail("the replica test cannot run in CI: the PostgreSQL server binaries are not installed")
        pytest.skip("the PostgreSQL server binaries are not installed")
    return Path(found[-1]).parent


def compose_args(service: str) -> list[str]:
    """The -c settings compose gives the postgres server of a service."""
    command = SERVICES[service]["command"]
    return command[1:] if command[0] == "postgres" else command


class Cluster:
    """A scratch directory owned by the postgres user, holding the primary, the replica and their sockets."""

    def __init__(self) -> None:
        self.bin = server_bin()
        self.base = Path(tempfile.mkdtemp(prefix="carttrack-replica-"))
        # The scripts as the compose file mounts them into the containers (readable by postgres).
        for script in ("primary-init.sh", "replica-entrypoint.sh"):
            shutil.copy(SCRIPTS / script, self.base / script)
        if AS_POSTGRES:
            shutil.chown(self.base, "postgres", "postgres")
        self.primary_port, self.replica_port = free_port(), free_port()

    def env(self, **extra: str) -> list[str]:
        values = {"PATH": f"{self.bin}:/usr/bin:/bin", "LANG": "C.UTF-8", **extra}
        return [*AS_POSTGRES, "env", "-i", *(f"{k}={v}" for k, v in values.items())]

    def run(self, *command: str, **extra: str) -> str:
        done = subprocess.run(
            [*self.env(**extra), *command],
            cwd=self.base,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
        return done.stdout

    def psql(self, port: int, sql: str, database: str = DATABASE) -> str:
        args = [
            "-h",
            str(self.base),
            "-p",
            str(port),
            "-U",
            USER,
            "-d",
            database,
            "-tAX",
            "-v",
            "ON_ERROR_STOP=1",
        ]
        return self.run("psql", *args, "-c", sql).strip()

    def server_options(self, port: int, service: str) -> list[str]:
        return [
            "-p",
            str(port),
            "-k",
            str(self.base),
            "-c",
            "listen_addresses=127.0.0.1",
            *compose_args(service),
        ]

    def start_primary(self) -> None:
        """What the postgres image does on its first start, then the primary as compose runs it."""
        data = self.base / "primary"
        (self.base / "pwfile").write_text(PASSWORD + "\n")
        if AS_POSTGRES:
            shutil.chown(self.base / "pwfile", "postgres", "postgres")
        self.run(
            "initdb", "-D", str(data), "-U", USER, "--pwfile", str(self.base / "pwfile"), "--auth-local=trust"
        )
        # The replica comes from another host: only the image's catch-all line for the network, which
        # admits no replication connection (that is primary-init.sh's job).
        (data / "pg_hba.conf").write_text("local all all trust\nhost all all all scram-sha-256\n")
        options = " ".join(self.server_options(self.primary_port, "postgres"))
        self.run(
            "pg_ctl", "-D", str(data), "-o", options, "-l", str(self.base / "primary.log"), "-w", "start"
        )
        self.psql(self.primary_port, f"CREATE DATABASE {DATABASE}", database="postgres")
        init = {"PGDATA": str(data), "PGHOST": str(self.base), "PGPORT": str(self.primary_port)}
        init |= {
            "POSTGRES_USER": USER,
            "POSTGRES_DB": DATABASE,
            "POSTGRES_REPLICATION_PASSWORD": REPLICATION_PASSWORD,
        }
        self.run("sh", str(self.base / "primary-init.sh"), **init)
        self.run("pg_ctl", "-D", str(data), "reload")

    def replica_command(self) -> list[str]:
        env = SERVICES["postgres-replica"]["environment"]
        values = {
            "PGDATA": str(self.base / "replica"),
            "PRIMARY_HOST": "127.0.0.1",
            "PRIMARY_PORT": str(self.primary_port),
            "POSTGRES_REPLICATION_PASSWORD": REPLICATION_PASSWORD,
        }
        assert set(values) <= set(env), "the compose service sets every variable the script needs"
        script = self.base / Path(SERVICES["postgres-replica"]["entrypoint"][-1]).name
        return [
            *self.env(**values),
            "sh",
            str(script),
            *self.server_options(self.replica_port, "postgres-replica"),
        ]

    def replica_ready(self) -> bool:
        probe = [*self.env(), "pg_isready", "-q", "-h", str(self.base), "-p", str(self.replica_port)]
        return subprocess.run(probe, check=False, timeout=10).returncode == 0

    def close(self) -> None:
        with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
            self.run("pg_ctl", "-D", str(self.base / "primary"), "-m", "immediate", "stop")
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def cluster():
    c = Cluster()
    try:
        c.start_primary()
        yield c
    finally:
        c.close()


def replica_url(cluster: Cluster) -> str:
    """The application's DATABASE_REPLICA_URL (docker-compose.yml), pointed at this replica."""
    url = urlsplit(compose_env("web", DOTENV)["DATABASE_REPLICA_URL"])
    return urlunsplit(url._replace(netloc=f"{url.username}:{url.password}@127.0.0.1:{cluster.replica_port}"))


def wait_for_row(url: str, value: int) -> None:
    def seen() -> bool:
        with psycopg.connect(url, connect_timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM ward_round WHERE n = %s", (value,)).fetchone()[0] == 1

    wait_until(seen, 30, f"row {value} streamed to the replica")


def test_the_replica_streams_from_the_primary_refuses_writes_and_survives_a_restart(cluster):
    cluster.psql(cluster.primary_port, "CREATE TABLE ward_round (n int); INSERT INTO ward_round VALUES (1)")
    log = cluster.base / "replica.log"
    with running(cluster.replica_command(), os.environ.copy(), log) as replica:
        wait_until(
            lambda: replica.poll() is not None or cluster.replica_ready(),
            60,
            "the replica accepting connections",
        )
        assert replica.poll() is None, log.read_text()[-3000:]
        assert cluster.psql(cluster.replica_port, "SELECT pg_is_in_recovery()") == "t"
        url = replica_url(cluster)
        wait_for_row(url, 1)  # copied by pg_basebackup
        cluster.psql(cluster.primary_port, "INSERT INTO ward_round VALUES (2)")
        wait_for_row(url, 2)  # streamed afterwards
        streaming = cluster.psql(cluster.primary_port, "SELECT state FROM pg_stat_replication")
        slot = cluster.psql(cluster.primary_port, "SELECT slot_name, active FROM pg_replication_slots")
        assert (streaming, slot) == ("streaming", "replica1|t")
        with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("INSERT INTO ward_round VALUES (3)")
        stop(replica)

    copied_at = (cluster.base / "replica" / "PG_VERSION").stat().st_mtime
    cluster.psql(cluster.primary_port, "INSERT INTO ward_round VALUES (4)")  # while the replica is down
    with running(cluster.replica_command(), os.environ.copy(), log) as replica:
        wait_until(
            lambda: replica.poll() is not None or cluster.replica_ready(), 60, "the replica restarting"
        )
        wait_for_row(replica_url(cluster), 4)  # kept for it by the slot
    assert (cluster.base / "replica" / "PG_VERSION").stat().st_mtime == copied_at, "copied only once"


def test_without_the_init_scripts_pg_hba_line_the_primary_admits_no_replica(cluster):
    hba = cluster.base / "primary" / "pg_hba.conf"
    lines = hba.read_text().splitlines()
    assert "host replication replicator all scram-sha-256" in lines
    hba.write_text("".join(f"{line}\n" for line in lines if " replication " not in line))
    cluster.run("pg_ctl", "-D", str(cluster.base / "primary"), "reload")
    log = cluster.base / "replica.log"
    with running(cluster.replica_command(), os.environ.copy(), log) as replica:
        wait_until(lambda: replica.poll() is not None, 60, "the replica giving up")
    assert replica.returncode != 0
    assert not (cluster.base / "replica" / "PG_VERSION").exists()
    assert "no pg_hba.conf entry for replication connection" in log.read_text()
