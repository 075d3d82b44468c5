"""``manage.py alert_dispatcher``: send escalation steps when they are due (alerts/dispatcher.py).

Run exactly one (the chart's and compose's ``dispatcher``); a second one waits on the advisory lock.
SIGTERM and SIGINT stop it after the current pass.
"""

import signal

from django.core.management.base import BaseCommand

from alerts import dispatcher


class Command(BaseCommand):
    help = "Send escalation steps when they are due, woken by PostgreSQL NOTIFY (the tick is the safety net)."

    def handle(self, *args, **options):
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        stats = dispatcher.DispatcherStats()
        dispatcher.run(should_stop=lambda: stopping, stats=stats)
        self.stdout.write(f"alert dispatcher stopped: {stats.claimed} steps claimed, {stats.wakeups} wakeups")
