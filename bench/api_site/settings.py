"""Bench settings: the production-like base settings plus the bare comparison view's URLs.

The benchmark sets ``DATABASE_URL`` (its own throw-away database) and ``CELERY_BROKER_URL``.
"""

from config.settings.base import *  # noqa: F403

DEBUG = False
ROOT_URLCONF = "bench.api_site.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
