#!/usr/bin/env bash
# Install and run CAR-T Track with demo data: web server, Celery worker and scheduler.
# Embedded defaults: SQLite (var/carttrack.sqlite3) and a broker that needs no server (var/broker).
# Set DATABASE_URL / CELERY_BROKER_URL to run against PostgreSQL / Redis instead.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ensure_venv --no-dev

export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.base}"
PORT="${PORT:-8000}"
HOST="${HOST:-127.0.0.1}"
# Links in the printed logins and in notifications point at this server, on this port.
export SITE_URL="${SITE_URL:-http://$HOST:$PORT}"
# No SMS/pager gateway on a demo machine: messages go to var/outbox/ and the worker log instead of
# failing (set ALERT_WEBHOOK_URL and ALERT_WEBHOOK_SECRET to use a real gateway).
if [[ -z "${ALERT_WEBHOOK_URL:-}" ]]; then export ALERT_GATEWAY="${ALERT_GATEWAY:-outbox}"; fi

say "Preparing the database and static files"
python manage.py migrate --noinput
python manage.py collectstatic --noinput -v 0
python manage.py seed_demo

say "Starting the Celery worker with its scheduler (beat)"
mkdir -p var
celery -A config worker --beat --loglevel=INFO --concurrency=2 \
  --schedule var/celerybeat-schedule >var/worker.log 2>&1 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null; wait $WORKER 2>/dev/null' EXIT INT TERM

say "CAR-T Track is running on http://$HOST:$PORT/  (worker log: var/worker.log; Ctrl-C stops everything)"
gunicorn config.wsgi:application --bind "$HOST:$PORT" --workers 2 --threads 4 --access-logfile - &
WEB=$!
trap 'kill $WEB $WORKER 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
wait $WEB
