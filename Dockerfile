# CAR-T Track application image: every process (web, both worker pools, the scheduler, the
# dispatcher, migrate) runs it; docker-compose.yml and deploy/helm/carttrack pick the command.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv PATH="/opt/venv/bin:$PATH" \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    CARTTRACK_VAR_DIR=/app/var
RUN pip install --no-cache-dir "uv==0.13.9" \
    && groupadd --gid 10001 carttrack \
    && useradd --create-home --uid 10001 --gid 10001 carttrack
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v 0 \
    && mkdir -p /app/var && chown -R carttrack:carttrack /app/var
# Numeric, so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
EXPOSE 8000
# The root filesystem may be read-only: only /app/var (CARTTRACK_VAR_DIR) and /tmp are written.
CMD ["gunicorn", "config.wsgi:application", "--bind=0.0.0.0:8000", "--workers=3", "--threads=4", "--timeout=30", "--access-logfile=-", "--no-control-socket"]
