"""Test settings: PostgreSQL and Redis by default (as CI has them), fast password hashing."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Each concurrent test run (CI, or engineers sharing one machine) can pick its own test database.
DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get("CARTTRACK_TEST_DB", "test_carttrack")  # noqa: F405

# Two-factor is exercised by tests/security (which switch it on); other tests sign in with a password only.
TWO_FACTOR_REQUIRED = False
