"""The Celery beat schedule: the one place that defines periodic tasks."""

BEAT_SCHEDULE: dict[str, dict] = {}
