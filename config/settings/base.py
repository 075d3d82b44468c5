"""Settings read from environment variables.

With nothing set, CAR-T Track runs on SQLite with a broker that needs no server (kombu's
filesystem transport under ``var/broker``), so a fresh clone works with one command.  Set
``DATABASE_URL`` and ``CELERY_BROKER_URL`` (or ``REDIS_URL``) for PostgreSQL and Redis.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from csp.constants import UNSAFE_INLINE as CSP_UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from . import broker

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("CARTTRACK_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        return int(raw) if raw else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from exc


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    # Development only: production settings refuse to start without SECRET_KEY.
    SECRET_KEY = "dev-insecure-carttrack-key-change-me-" + "x" * 20
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = os.environ.get("SITE_URL", "http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "simple_history",
    "accounts",
    "monitoring",
    "alerts",
    "followup",
    "audit",
    "dashboards",
    "demo",
    "interop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.RequestSizeLimitMiddleware",
    "config.middleware.UnreadableCookieMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.RequestRolesMiddleware",
    "accounts.middleware.IdleTimeoutMiddleware",
    "accounts.middleware.SignInForHtmxMiddleware",
    "accounts.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "audit.middleware.AccessLogMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out sign-in into the locked-out page
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.sign_in",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'carttrack.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web process, the worker and the scheduler share one file.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            # IMMEDIATE takes the write lock at BEGIN, so concurrent writers wait (busy timeout)
            # instead of failing with "database is locked" when a read lock cannot be upgraded.
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;",
        }
    )

# Dashboards, exports and analytics read from a streaming replica when one is given; everything else
# (grading, alerting, writes, read-modify-write) uses the primary (monitoring/replica.py).
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
    # An unreachable replica must not hold a census for long: the page reads the primary instead.
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["monitoring.replica.ReplicaRouter"]
# A replica further behind than this is not read (the page says so and reads the primary).
DATABASE_REPLICA_MAX_LAG_SECONDS = env_int("DATABASE_REPLICA_MAX_LAG_SECONDS", 30)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "monitoring:my_patients"
LOGOUT_REDIRECT_URL = "accounts:login"

# --- Security: sign-in, sessions, two-factor, headers (docs/security.md) -------------------------
AUTHENTICATION_BACKENDS = [
    "accounts.backends.LockoutBackend",  # django-axes: lock username + IP after repeated failures
    "django.contrib.auth.backends.ModelBackend",
]
# Proxies in front of the app that append to X-Forwarded-For (0: trust REMOTE_ADDR only).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # ward tablets share one IP: never IP alone
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
if TRUSTED_PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
SESSION_IDLE_TIMEOUT_MINUTES = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 15)
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE_SECONDS", 12 * 3600)  # one shift at most
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
TWO_FACTOR_REQUIRED = env_bool("TWO_FACTOR_REQUIRED", True)  # physicians, coordinators, admins
OTP_TOTP_ISSUER = "CAR-T Track"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF],
        "style-src": [CSP_SELF, CSP_UNSAFE_INLINE],  # Plotly sets inline styles
        "img-src": [CSP_SELF, "data:"],
        "connect-src": [CSP_SELF],
        "font-src": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
        "form-action": [CSP_SELF],
        "base-uri": [CSP_SELF],
        "object-src": [CSP_NONE],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "dashboards.staticfiles.PlotlyFinder",  # plotly/plotly.min.js from the installed plotly package
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Celery -----------------------------------------------------------------------------------
# Embedded default: kombu's filesystem transport (no server).  The escalation timers are database
# rows claimed by the beat tick, so nothing clinical depends on broker persistence.  Queues, routes and
# transport options per broker (Redis, Redis Sentinel, RabbitMQ quorum queues): config/settings/broker.py.
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL") or "filesystem://"
_broker = broker.broker_settings(
    CELERY_BROKER_URL,
    broker_dir=BROKER_DIR,
    sentinel_master=os.environ.get("CELERY_BROKER_SENTINEL_MASTER", ""),
    sentinel_password=os.environ.get("CELERY_BROKER_SENTINEL_PASSWORD", ""),
)
CELERY_BROKER_TRANSPORT_OPTIONS = _broker.transport_options
CELERY_TASK_QUEUES = _broker.queues
CELERY_TASK_DEFAULT_QUEUE = broker.DEFAULT_QUEUE
CELERY_TASK_DEFAULT_QUEUE_TYPE = _broker.default_queue_type
CELERY_TASK_DEFAULT_EXCHANGE_TYPE = _broker.default_exchange_type
CELERY_TASK_ROUTES = broker.TASK_ROUTES
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The beat schedule itself is defined next to the tasks (alerts/schedule.py) and loaded in
# config/celery.py so that the scheduler and the docker-compose test share one source.

# --- REST API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so an unauthenticated or bad-token request is 401 with "WWW-Authenticate: Bearer".
        "accounts.tokens.ApiTokenAuthentication",  # Authorization: Bearer ctk_… (the one token system)
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "config.pagination.BoundedLimitOffsetPagination",  # limit 1–500, offset ≥ 0
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CAR-T Track API",
    "DESCRIPTION": "Patients, infusions, observations, grades and alerts of CAR-T Track.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Email (escalation channel) -----------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "carttrack@localhost")

# --- Logging: no patient data in logs (ids only) -----------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_patient_ids": {"()": "audit.logging.RedactPatientIdentifiers"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_patient_ids"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

VAR_DIR.mkdir(parents=True, exist_ok=True)
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _folder in ("queue", "processed"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)

# --- Alerting (escalation chain) ---------------------------------------------------------------
# SMS/pager go through a signed HTTPS webhook (HMAC-SHA256 over "<timestamp>.<body>").
ALERT_WEBHOOK_URL = os.environ.get("ALERT_WEBHOOK_URL", "")
ALERT_WEBHOOK_SECRET = os.environ.get("ALERT_WEBHOOK_SECRET", "")
ALERT_WEBHOOK_TIMEOUT = env_int("ALERT_WEBHOOK_TIMEOUT", 10)
# "webhook" (production) or "outbox": SMS/pager messages are written to ALERT_OUTBOX_DIR and the log
# instead (the demo ward, a developer's machine: delivered locally, never a false "delivery failed").
ALERT_GATEWAY = os.environ.get("ALERT_GATEWAY", "webhook")
if ALERT_GATEWAY not in ("webhook", "outbox"):
    raise ImproperlyConfigured(f"ALERT_GATEWAY={ALERT_GATEWAY!r}: use 'webhook' or 'outbox'")
ALERT_OUTBOX_DIR = Path(os.environ.get("ALERT_OUTBOX_DIR", VAR_DIR / "outbox"))
ALERT_TICK_SECONDS = env_int("ALERT_TICK_SECONDS", 10)  # the beat tick that claims due steps (≤ 15 s)
# Threads of the alert dispatcher that send due steps themselves (0: hand every step to the critical pool).
ALERT_DISPATCHER_THREADS = env_int("ALERT_DISPATCHER_THREADS", 4)
if not 0 <= ALERT_DISPATCHER_THREADS <= 32:
    raise ImproperlyConfigured(f"ALERT_DISPATCHER_THREADS must be 0 to 32, not {ALERT_DISPATCHER_THREADS}")
ALERT_STEP_STUCK_SECONDS = env_int("ALERT_STEP_STUCK_SECONDS", 60)  # "sending" longer than this: re-kick
# Alerting is "delayed" (health 503, clinicians' banner) when a step is overdue, or a grade has waited for its
# alert processing, by more than this many seconds (docs/escalation.md, "Outages").
ALERT_DELAY_SECONDS = env_int("ALERT_DELAY_SECONDS", 60)
ALERT_AUDITOR_SECONDS = env_int("ALERT_AUDITOR_SECONDS", 60)
# The follow-up scan: visit windows that closed undocumented, checks that fell due (VISIT-3, VISIT-8).
FOLLOWUP_SCAN_SECONDS = env_int("FOLLOWUP_SCAN_SECONDS", 60)
# A grade evaluation not handled by the alert task within this many seconds is processed by the
# auditor (lost broker message); evaluations older than the sweep window are left alone.
ALERT_EVALUATION_GRACE_SECONDS = env_int("ALERT_EVALUATION_GRACE_SECONDS", 30)
ALERT_EVALUATION_SWEEP_HOURS = env_int("ALERT_EVALUATION_SWEEP_HOURS", 24)
ALERT_HEARTBEAT_MAX_AGE_SECONDS = env_int("ALERT_HEARTBEAT_MAX_AGE_SECONDS", 180)
