"""The Celery application.  Tasks take ids, are JSON-serialised and acknowledged late."""

import os

from celery import Celery

from alerts.schedule import beat_schedule

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("carttrack")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _install_beat_schedule(sender: Celery, **_: object) -> None:
    """Load the periodic tasks from the one place that defines them."""
    sender.conf.beat_schedule = beat_schedule()
