"""The health checks as the chart and docker-compose.yml write them, run against the processes they
check: gunicorn under the production settings and a Celery worker, started with the chart's own command
and variables. A web pod is ready while PostgreSQL answers and not while it does not; a worker answers
the ping its liveness probe sends, by the node name it runs under."""

import contextlib
import http.client
import json
import re
import socket
import subprocess
import sys

import pytest
from django.conf import settings

from .chart import container, render
from .layout import DOTENV, ROOT, compose, compose_env
from .processes import BIN, base_env, free_port, port_open, running, wait_until

# django_db: the session sets the test database up, which the processes started here connect to.
pytestmark = [pytest.mark.integration, pytest.mark.django_db]

SERVICES = compose()["services"]
PING_TIMEOUT_VALUES = {
    "worker": {"livenessProbe": {"periodSeconds": 60, "timeoutSeconds": 10, "failureThreshold": 5}}
}


def chart_env(
    workload: dict, rendered, *, database_url: str, var_dir: str, static_root=None
) -> dict[str, str]:
    """The variables Kubernetes would give the container: its ConfigMap, and the Secret's keys with
    this machine's services (optional keys left out, as an operator may)."""
    (config_map,) = rendered.of_kind("ConfigMap")
    secrets = {
        "SECRET_KEY": "probe-test-" + "k" * 50,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    env = dict(config_map["data"])
    for entry in container(workload)["env"]:
        ref = entry["valueFrom"]["secretKeyRef"]
        if not ref.get("optional"):
            env[entry["name"]] = secrets[ref["key"]]
    env["CARTTRACK_VAR_DIR"] = var_dir  # the emptyDir mounted at CARTTRACK_VAR_DIR
    if static_root is not None:
        env["STATIC_ROOT"] = str(static_root)  # where the image keeps its collected static files
    return base_env(**env)


def database_url_of(db_settings: dict) -> str:
    assert db_settings["NAME"].startswith("test_"), "only ever the test database"
    host = db_settings["HOST"] or "127.0.0.1"
    return f"postgres://{db_settings['USER']}@{host}:{db_settings['PORT'] or 5432}/{db_settings['NAME']}"


def gunicorn_command(command: list[str], port: int) -> list[str]:
    """The chart's web command, bound to a free loopback port with one worker process."""
    replaced = [f"--bind=127.0.0.1:{port}" if a.startswith("--bind=") else a for a in command]
    return [("--workers=1" if a.startswith("--workers=") else a) for a in replaced]


@pytest.fixture(scope="module")
def web_servers(django_db_setup, tmp_path_factory):
    """Two gunicorns started as the chart starts web: one with the test database, one whose database
    does not answer. Yields {"up": port, "no database": port}."""
    from django.db import connection

    rendered = render()
    web = rendered.one("Deployment", "web")
    tmp = tmp_path_factory.mktemp("web")
    databases = {
        "up": database_url_of(connection.settings_dict),
        "no database": f"postgres://carttrack@127.0.0.1:{free_port()}/carttrack",
    }
    envs = {
        name: chart_env(web, rendered, database_url=url, var_dir=str(tmp), static_root=tmp / "static")
        for name, url in databases.items()
    }
    # The image collects the static files when it is built (Dockerfile); error pages need them.
    collect = [str(BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v", "0"]
    subprocess.run(collect, cwd=ROOT, env=envs["up"], check=True, capture_output=True, timeout=120)
    ports = {name: free_port() for name in databases}
    logs = {name: tmp / f"{name.replace(' ', '-')}.log" for name in databases}
    with contextlib.ExitStack() as stack:
        for name in databases:
            command = gunicorn_command(container(web)["command"], ports[name])
            proc = stack.enter_context(running(command, envs[name], logs[name]))
            wait_until(
                lambda p=ports[name], pr=proc: port_open(p) or pr.poll() is not None, 60, f"gunicorn {name}"
            )
            assert proc.poll() is None, logs[name].read_text()[-3000:]
        yield ports
    for log in logs.values():
        sys.stdout.write(f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}\n")


def get(port: int, path: str, headers: dict[str, str]) -> tuple[int, str]:
    """One request as a kubelet sends it: the given headers (Host among them), no redirect followed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        conn.close()


def probe_request(probe: dict) -> tuple[str, dict[str, str]]:
    get_ = probe["httpGet"]
    return get_["path"], {h["name"]: h["value"] for h in get_.get("httpHeaders", [])}


@pytest.mark.parametrize("probe_name", ["readinessProbe", "livenessProbe", "startupProbe"])
def test_the_chart_web_probes_pass_while_the_database_answers_and_fail_when_it_does_not(
    web_servers, probe_name
):
    path, headers = probe_request(container(render().one("Deployment", "web"))[probe_name])
    status, body = get(web_servers["up"], path, headers)
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    status, body = get(web_servers["no database"], path, headers)
    assert (status, json.loads(body)) == (503, {"status": "database unavailable"})


def test_a_probe_without_the_chart_headers_would_never_pass(web_servers):
    path, headers = probe_request(container(render().one("Deployment", "web"))["readinessProbe"])
    # What a kubelet sends by default: the pod's address as Host, plain HTTP.
    assert get(web_servers["up"], path, {"Host": f"10.1.2.3:{web_servers['up']}"})[0] == 400
    assert get(web_servers["up"], path, {"Host": headers["Host"]})[0] == 301


def run_compose_healthcheck(service: str, port: int) -> subprocess.CompletedProcess:
    """The service's compose health check command, its URL pointed at this machine's port."""
    test = SERVICES[service]["healthcheck"]["test"]
    assert test[0] == "CMD"
    command = [re.sub(r"^http://[^/]+", f"http://127.0.0.1:{port}", a) for a in test[1:]]
    env = base_env(**compose_env(service, DOTENV))
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30, check=False)


def test_the_compose_web_health_check_passes_and_fails_with_the_database(web_servers):
    assert run_compose_healthcheck("web", web_servers["up"]).returncode == 0
    failed = run_compose_healthcheck("web", web_servers["no database"])
    assert failed.returncode == 1 and "503" in failed.stderr


def test_the_compose_scheduler_check_reports_escalations_that_are_not_running(web_servers):
    # No auditor has run against the test database: /health/escalations says alerting is delayed.
    failed = run_compose_healthcheck("scheduler", web_servers["up"])
    assert failed.returncode == 1 and failed.stderr.startswith("503")


def test_a_worker_answers_its_liveness_ping_and_the_ping_fails_once_it_is_gone(django_db_setup, tmp_path):
    from django.db import connection

    rendered = render(PING_TIMEOUT_VALUES)
    worker = rendered.one("Deployment", "worker-critical")
    c = container(worker)
    env = chart_env(
        worker, rendered, database_url=database_url_of(connection.settings_dict), var_dir=str(tmp_path)
    )
    # In a pod, HOSTNAME is the pod's name, which is also what %h expands to.
    env["HOSTNAME"] = socket.gethostname()
    command = [("--concurrency=1" if a.startswith("--concurrency=") else a) for a in c["command"]]
    liveness = c["livenessProbe"]["exec"]["command"]

    def ping() -> subprocess.CompletedProcess:
        timeout = c["livenessProbe"]["timeoutSeconds"]
        return subprocess.run(
            liveness, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )

    with running(command, env, tmp_path / "worker.log") as proc:
        wait_until(
            lambda: proc.poll() is not None or ping().returncode == 0, 60, "the worker answering its ping"
        )
        assert proc.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
    gone = ping()
    assert gone.returncode != 0, gone.stdout
