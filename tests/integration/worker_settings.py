"""Settings for worker subprocesses in the integration tests: config.settings.test plus a real SMTP
email backend (the test settings pin the in-memory backend, which another process cannot observe)."""

import os

from config.settings.test import *  # noqa: F403

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
