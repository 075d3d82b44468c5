"""Hosts of the multi-host test as Linux network namespaces on one bridge, and the processes they run.

``Network`` creates a namespace per host, each with one veth (``eth0``) into a bridge that lives in a
namespace of its own (so nothing of the topology touches the machine's own interfaces), plus one veth
into the test process's namespace: the test itself is the ``driver`` host (tablets, the nurse's browser,
the SMS gateway). All addresses are in ``SUBNET``.0/24; ``cut(host)`` sets the host's ``eth0`` down,
as a dead switch port would. ``Processes`` starts commands inside a host (``ip netns exec``), each in
its own process group with its own log, and kills every group on ``stop_all`` (called even on failure).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
PREFIX = "ctn-"  # every namespace and the driver's interface start with this (stale ones are removed)
SUBNET = "10.231.0"
DRIVER = f"{SUBNET}.1"
HOSTS = {"db": 10, "lb": 20, "web1": 21, "web2": 22, "worker1": 31, "worker2": 32, "sched": 40}


def ip_of(host: str) -> str:
    return DRIVER if host == "driver" else f"{SUBNET}.{HOSTS[host]}"


def postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    return found[-1].parent if found else None


def unavailable() -> str:
    """Why the topology cannot be built here ('' if it can)."""
    if os.geteuid() != 0:
        return "network namespaces need root (CI runs as root)"
    missing = [tool for tool in ("ip", "setpriv", "redis-server") if shutil.which(tool) is None]
    if missing:
        return f"missing {', '.join(missing)} (iproute2, util-linux, redis-server)"
    if postgres_bin() is None:
        return "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
    return ""


def run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=30)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def wait_until(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.25):
    """``predicate()``'s first true value within ``timeout`` seconds, else fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}")
        time.sleep(interval)


class Network:
    def __init__(self, hosts: dict[str, int] = HOSTS):
        self.hosts = hosts
        self.switch = f"{PREFIX}switch"

    def ns(self, host: str) -> str:
        return f"{PREFIX}{host}"

    def up(self) -> None:
        self.down()  # a run killed before its teardown may have left namespaces behind
        run("ip", "netns", "add", self.switch)
        run("ip", "-n", self.switch, "link", "add", "br0", "type", "bridge")
        run("ip", "-n", self.switch, "link", "set", "br0", "up")
        for host in self.hosts:
            ns = self.ns(host)
            run("ip", "netns", "add", ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
            run(
                "ip",
                "link",
                "add",
                f"p-{host}",
                "netns",
                self.switch,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                ns,
            )
            self._attach(f"p-{host}")
            run("ip", "-n", ns, "addr", "add", f"{ip_of(host)}/24", "dev", "eth0")
            run("ip", "-n", ns, "link", "set", "eth0", "up")
        run(
            "ip",
            "link",
            "add",
            f"{PREFIX}driver",
            "type",
            "veth",
            "peer",
            "name",
            "p-driver",
            "netns",
            self.switch,
        )
        self._attach("p-driver")
        run("ip", "addr", "add", f"{DRIVER}/24", "dev", f"{PREFIX}driver")
        run("ip", "link", "set", f"{PREFIX}driver", "up")

    def _attach(self, port: str) -> None:
        run("ip", "-n", self.switch, "link", "set", port, "master", "br0")
        run("ip", "-n", self.switch, "link", "set", port, "up")

    def down(self) -> None:
        """Delete every namespace of ours (their veths go with them) and the driver's interface."""
        names = [line.split()[0] for line in run("ip", "netns", "list").splitlines() if line.strip()]
        for name in names:
            if name.startswith(PREFIX):
                # Processes a killed earlier run left in its namespace (ours: nothing else runs there).
                for pid in run("ip", "netns", "pids", name).split():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), signal.SIGKILL)
                subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)
        subprocess.run(["ip", "link", "del", f"{PREFIX}driver"], capture_output=True, timeout=30)

    def cut(self, host: str) -> None:
        run("ip", "-n", self.ns(host), "link", "set", "eth0", "down")

    def restore(self, host: str) -> None:
        run("ip", "-n", self.ns(host), "link", "set", "eth0", "up")

    def on(self, host: str, command: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ns(host), *command]


class Process:
    def __init__(
        self,
        name: str,
        command: list[str],
        env: dict[str, str],
        log: Path,
        *,
        cwd: Path = ROOT,
        stop_signal: int = signal.SIGTERM,
    ):
        self.name = name
        self.log_path = log
        self.stop_signal = stop_signal
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, signum: int | None = None) -> None:
        """Signal the process group, while its leader (whose pid is the group's id) is not yet reaped."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signum or self.stop_signal)

    def stop(self, sig: int | None = None, grace: float = 10) -> None:
        """Signal the whole process group; SIGKILL it if it is not gone within ``grace`` seconds."""
        self.signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=grace)
        self.signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


class Processes:
    def __init__(self, net: Network, log_dir: Path, env: dict[str, str]):
        self.net = net
        self.log_dir = log_dir
        self.env = env
        self.started: list[Process] = []

    def start(self, host: str, name: str, command: list[str], **options) -> Process:
        env = self.env | options.pop("env", {})
        proc = Process(name, self.net.on(host, command), env, self.log_dir / f"{name}.log", **options)
        self.started.append(proc)
        return proc

    def named(self, name: str) -> Process:
        return next(p for p in self.started if p.name == name)

    def stop_all(self, grace: float = 5) -> None:
        """Every process group at once (a cut-off host's processes never finish a clean shutdown)."""
        for proc in self.started:
            proc.signal()
        deadline = time.monotonic() + grace
        for proc in self.started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        for proc in self.started:
            proc.signal(signal.SIGKILL)
            proc.proc.wait(timeout=10)

    def tails(self, chars: int = 2500) -> str:
        return "".join(f"\n--- {p.name} (last {chars} chars)\n{p.log()[-chars:]}" for p in self.started)


def app_env(var_dir: Path, webhook_url: str, secret: str) -> dict[str, str]:
    """The environment of every CAR-T Track process of the topology (nothing inherited from pytest)."""
    db = ip_of("db")
    return {
        "PATH": f"{BIN}:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://postgres@{db}:5432/carttrack",
        "DB_CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": f"redis://{db}:6379/0",
        "CARTTRACK_VAR_DIR": str(var_dir),
        "ALLOWED_HOSTS": ",".join(ip_of(h) for h in ("lb", "web1", "web2")),
        "SITE_URL": "https://carttrack.test",
        "LOG_LEVEL": "INFO",
        "ALERT_WEBHOOK_URL": webhook_url,
        "ALERT_WEBHOOK_SECRET": secret,
        # Short limits so that an outage is seen, and repaired, within the test's few minutes.
        "ALERT_DELAY_SECONDS": "5",
        "ALERT_AUDITOR_SECONDS": "5",
        "ALERT_HEARTBEAT_MAX_AGE_SECONDS": "30",
        "ALERT_STEP_STUCK_SECONDS": "60",
        "ALERT_EVALUATION_GRACE_SECONDS": "30",
    }


#: docs/deployment.md 5, "Connections from hosts that vanish": the server drops a cut-off host's session
#: (and its locks, the dispatcher's advisory lock among them) within about 25 s.
SERVER_KEEPALIVES = {
    "tcp_keepalives_idle": "10",
    "tcp_keepalives_interval": "5",
    "tcp_keepalives_count": "3",
    "tcp_user_timeout": "20000",
}


def start_postgres(procs: Processes, data_dir: Path) -> Process:
    """initdb into ``data_dir`` (owned by the ``postgres`` user) and run the server on the db host."""
    pg = postgres_bin()
    as_postgres = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"]
    data_dir.parent.chmod(0o755)  # mkdtemp's 0700 keeps the postgres user out
    shutil.chown(data_dir, "postgres", "postgres")
    run(
        *as_postgres,
        str(pg / "initdb"),
        "-D",
        str(data_dir),
        "-U",
        "postgres",
        "--auth=trust",
        "--no-sync",
        "-E",
        "UTF8",
    )
    with open(data_dir / "pg_hba.conf", "a") as hba:
        hba.write(f"host all all {SUBNET}.0/24 trust\n")
    settings = {
        "listen_addresses": ip_of("db"),
        "unix_socket_directories": str(data_dir),
        "max_connections": "200",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        **SERVER_KEEPALIVES,
    }
    options = [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]
    return procs.start(
        "db",
        "postgres",
        [*as_postgres, str(pg / "postgres"), "-D", str(data_dir), *options],
        cwd=data_dir,
        stop_signal=signal.SIGINT,
    )


def start_redis(procs: Processes, data_dir: Path) -> Process:
    return procs.start(
        "db",
        "redis",
        [
            "redis-server",
            "--bind",
            ip_of("db"),
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no",
            "--dir",
            str(data_dir),
        ],
    )


def celery(*args: str) -> list[str]:
    return [str(BIN / "celery"), "-A", "config", *args, "--loglevel=INFO"]


def start_worker(procs: Processes, host: str) -> Process:
    return procs.start(
        host,
        host,
        celery(
            "worker",
            "-Q",
            "critical,default",
            "-n",
            f"{host}@topology",
            "--concurrency",
            "2",
            "--without-gossip",
            "--without-mingle",
        ),
    )


def start_beat(procs: Processes, host: str, var_dir: Path) -> Process:
    return procs.start(host, f"beat-{host}", celery("beat", "-s", str(var_dir / f"beat-{host}")))


def start_dispatcher(procs: Processes, host: str) -> Process:
    return procs.start(host, f"dispatcher-{host}", [str(BIN / "python"), "manage.py", "alert_dispatcher"])


def start_web(procs: Processes, host: str) -> Process:
    return procs.start(
        host,
        host,
        [
            str(BIN / "gunicorn"),
            "config.wsgi:application",
            "-b",
            f"{ip_of(host)}:8000",
            "-w",
            "2",
            "--timeout",
            "60",
            "--access-logfile",
            "-",
        ],
    )


def start_balancer(procs: Processes) -> Process:
    backends = [arg for host in ("web1", "web2") for arg in ("--backend", f"{ip_of(host)}:8000")]
    return procs.start(
        "lb",
        "balancer",
        [str(BIN / "python"), "-m", "tests.network.balancer", "--listen", f"{ip_of('lb')}:8000", *backends],
    )
