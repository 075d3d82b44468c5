"""A web host in a separate process: ``python -m tests.integration.send_evaluation <evaluation id>``.

Hands one committed grade evaluation to the alert worker through the configured broker exactly as
``monitoring.handoff.grade_committed`` does (``enqueue_evaluation``, which raises if the broker refuses
it, so a broker failure cannot hide behind the in-process fallback), prints ``sent`` and keeps its
broker connection open until stdin closes, so the test can inspect the publishing channel.
"""

import sys

import django

django.setup()

from monitoring import handoff  # noqa: E402

handoff.alerting().enqueue_evaluation(int(sys.argv[1]))
print("sent", flush=True)
sys.stdin.read()
