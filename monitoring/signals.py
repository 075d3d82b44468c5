"""Signals the monitoring app sends for the layers above it (alerts listen; monitoring never imports
them).

``course_closed``: sent after the commit that closed an infusion's monitoring (``infusion_id``); the
alerting layer stops the escalation of that course's alerts and says who closed it and why (read from
the infusion's history).
"""

from __future__ import annotations

from django.dispatch import Signal

course_closed = Signal()
