"""The process layout every CAR-T Track deployment follows (docs/deployment.md), and readers of what
the settings, the Celery app and docker-compose.yml say, shared by the deployment tests."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
CHART_DIR = ROOT / "deploy" / "helm" / "carttrack"

# Each process by its name (a docker-compose service, a Helm component) and the command that makes it
# that process; the worker commands go on with the queues they consume.
PROCESSES: dict[str, tuple[str, ...]] = {
    "web": ("gunicorn", "config.wsgi:application"),
    "worker-critical": ("celery", "-A", "config", "worker", "-Q"),
    "worker-default": ("celery", "-A", "config", "worker", "-Q"),
    "scheduler": ("celery", "-A", "config", "beat"),
    "dispatcher": ("python", "manage.py", "alert_dispatcher"),
    "migrate": ("python", "manage.py", "migrate", "--noinput"),
}
WORKERS = ("worker-critical", "worker-default")
SINGLETONS = ("scheduler", "dispatcher")
CRITICAL_QUEUE = "critical"
# The queues of the target layout; any other queue a worker consumes must be one the app routes to.
TARGET_QUEUES = {CRITICAL_QUEUE, "default"}
# Only these processes get the read replica's URL: grading, alerting and migrations stay on the primary.
REPLICA_READERS = {"web", "worker-default"}
# Settings that carry secrets: the Secret (Helm) or .env (compose), never values.yaml or a ConfigMap.
SECRET_SETTINGS = {
    "SECRET_KEY",
    "DATABASE_URL",
    "DATABASE_REPLICA_URL",
    "CELERY_BROKER_URL",
    "CELERY_BROKER_SENTINEL_PASSWORD",
    "REDIS_URL",
    "EMAIL_HOST_PASSWORD",
    "ALERT_WEBHOOK_URL",
    "ALERT_WEBHOOK_SECRET",
}
# Settings the deployment passes before the code reads them, with the work that adds the reader.
# A test fails as soon as the settings read one of them: then delete its entry here.
PENDING_SETTINGS: dict[str, str] = {}
DISPATCHER_COMMAND = "alert_dispatcher"


def settings_env_names() -> set[str]:
    """Every environment variable a settings module reads."""
    names: set[str] = set()
    for path in (ROOT / "config" / "settings").glob("*.py"):
        text = path.read_text()
        names |= set(re.findall(r"""os\.environ(?:\.get)?[(\[]\s*["']([A-Z_][A-Z0-9_]*)["']""", text))
        names |= set(re.findall(r"""env_(?:bool|list|int)\(\s*["']([A-Z_][A-Z0-9_]*)["']""", text))
    return names


def known_env_names() -> set[str]:
    """What a deployment may set: what the settings read, what manage.py/wsgi/Celery read, what is pending."""
    return settings_env_names() | {"DJANGO_SETTINGS_MODULE"} | set(PENDING_SETTINGS)


def consumed_queues(command: list[str]) -> set[str]:
    """The queues a ``celery worker`` command consumes (its -Q argument)."""
    return set(command[command.index("-Q") + 1].split(","))


def runs_beat(command: list[str]) -> bool:
    """Whether a command starts a Celery beat: the beat command, or a worker with an embedded beat."""
    return "beat" in command or bool({"-B", "--beat"} & set(command))


def routed_queues() -> set[str]:
    """Every queue the app sends tasks to: each registered task's route, and queues named in the code."""
    from alerts.schedule import beat_schedule
    from config.celery import app

    app.loader.import_default_modules()
    queues = {
        app.amqp.router.route({}, name)["queue"].name for name in app.tasks if not name.startswith("celery.")
    }
    queues |= {e["options"]["queue"] for e in beat_schedule().values() if "queue" in e.get("options", {})}
    packages = [
        p for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name not in {"tests", "bench"}
    ]
    for path in (module for package in packages for module in package.rglob("*.py")):
        queues |= set(re.findall(r"""\bqueue\s*=\s*["']([\w.-]+)["']""", path.read_text()))
    return queues


def dispatcher_command_exists() -> bool:
    from django.core.management import get_commands

    return DISPATCHER_COMMAND in get_commands()


# --- docker-compose.yml ------------------------------------------------------------------------------
# The .env file a site writes: the three secrets compose refuses to start without.
DOTENV = {
    "SECRET_KEY": "s" * 50,
    "POSTGRES_PASSWORD": "pg-secret",
    "POSTGRES_REPLICATION_PASSWORD": "repl-secret",
}


def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


_VARIABLE = re.compile(r"\$\{(?P<name>[A-Z_][A-Z0-9_]*)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}")


def interpolate(value: str, dotenv: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error} against the variables of a .env file."""

    def substitute(match: re.Match) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if dotenv.get(name):
            return dotenv[name]
        if op == ":?":
            raise KeyError(f"{name}: {arg}")
        return arg if op == ":-" else ""

    return _VARIABLE.sub(substitute, value).replace("$$", "$")


def compose_env(service: str, dotenv: dict[str, str]) -> dict[str, str]:
    """The environment a compose service's container gets with this .env file."""
    env = compose()["services"][service].get("environment", {})
    return {name: interpolate(str(value), dotenv) for name, value in env.items()}
