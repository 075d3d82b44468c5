#!/usr/bin/env bash
# Run every check CI runs: lint, import contract, deploy check, migrations, clinical cases, tests
# (PostgreSQL + Redis + RabbitMQ + real Celery workers + headless Chromium).  Exits non-zero on any failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ensure_venv

# --- services ------------------------------------------------------------------------------------
if command -v pg_ctlcluster >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  say "Starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
fi
if command -v redis-server >/dev/null 2>&1 && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  say "Starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi
rabbitmq_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }
if ! command -v rabbitmq-server >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  say "Installing RabbitMQ (Debian package) for the broker test"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
fi
if command -v rabbitmq-server >/dev/null 2>&1 && ! rabbitmq_up; then
  # tests/integration/test_rabbitmq_broker.py: the critical queue as a quorum queue (guest/guest on loopback)
  say "Starting RabbitMQ"
  RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 rabbitmq-server -detached
fi
for _ in $(seq 1 60); do
  pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && rabbitmq_up && break
  sleep 1
done
if command -v rabbitmqctl >/dev/null 2>&1; then rabbitmqctl -q await_startup; fi

# --- iproute2 for the multi-host test (tests/network: hosts as network namespaces, needs root) ---------
if ! command -v ip >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  say "Installing iproute2 (Debian package) for the multi-host test"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null
fi

# --- headless Chromium for the browser tests ------------------------------------------------------
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "Installing Chromium (Debian package) for the browser tests"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium is missing: install Debian's 'chromium' package (browser tests need /usr/bin/chromium)" >&2
    exit 1
  fi
fi

export DJANGO_SETTINGS_MODULE=config.settings.test
say "ruff"
ruff check .
ruff format --check carttrack
say "import contracts (carttrack free of Django, Celery and DRF; the layers; no app imports config)"
lint-imports
say "mypy --strict (clinical core)"
mypy
say "manage.py check --deploy (production settings)"
DJANGO_SETTINGS_MODULE=config.settings.production SECRET_KEY="ci-$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
  ALLOWED_HOSTS=carttrack.example.org python manage.py check --deploy --fail-level WARNING
say "migrations are complete"
python manage.py makemigrations --check --dry-run
say "OpenAPI schema is valid"
python manage.py spectacular --validate --fail-on-warn --file /dev/null
say "clinical cases (python -m carttrack.cases --check)"
python -m carttrack.cases --check tests/data/cases-public.json >/dev/null
say "pytest (with coverage: the report lists every module not fully covered, no threshold)"
python -m pytest -p no:cacheprovider --cov --cov-report=term "$@"
