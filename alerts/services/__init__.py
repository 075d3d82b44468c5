"""Writes of the alerts app (keyword-only, one transaction each), one module per responsibility.

The escalation engine in four moves:

1. :func:`~alerts.services.raising.alert_process_evaluation` (after an evaluation is committed) opens or
   upgrades the alert of a patient + syndrome episode, freezes the team's policy onto it and expands the
   policy into :class:`~alerts.models.EscalationStep` rows with due times (``policies``); then it
   dispatches what is due at once.
2. :func:`~alerts.services.dispatch.dispatch_due_steps` (the beat tick, ≤ 15 s, and the alert task)
   claims due steps with ``SELECT … FOR UPDATE SKIP LOCKED``, moves them ``pending → sending`` with a
   fencing token and commits; then sends them.
3. Each notification is inserted under a unique idempotency key and re-checked against the alert's
   status under the alert's row lock just before delivery (``delivery``), so an acknowledgement
   (``responses``) stops everything not yet handed to a channel.
4. :func:`~alerts.services.auditor.run_auditor` (every minute) re-kicks overdue and stuck steps, gives
   open alerts with nothing pending a step, raises operations alarms (``alarms``) and writes the
   heartbeat that ``/health/escalations`` reads.

Beside them: ``course`` (a closed course or a death closes its alerts), ``checks`` (overdue bedside
checks end to end), ``oncall`` (overrides and swaps), ``followup_alerts`` (alerts of the follow-up
app).  This package re-exports the public services so callers write ``services.alert_resolve(...)``.
"""

from .alarms import clear_alarm, raise_alarm
from .auditor import escalation_health, run_auditor
from .checks import check_task_record_missed, missed_check_record, overdue_checks_scan
from .course import alerts_close_with_course
from .dispatch import claim_due_steps, dispatch_due_steps, send_claimed_step, send_step
from .followup_alerts import alert_close_followup, alert_raise_followup
from .oncall import oncall_override_create, oncall_swap
from .policies import escalation_policy_save
from .raising import alert_process_evaluation, open_alert
from .responses import alert_acknowledge, alert_add_note, alert_resolve, notifications_mark_read

__all__ = [
    "alert_acknowledge",
    "alert_add_note",
    "alert_close_followup",
    "alert_process_evaluation",
    "alert_raise_followup",
    "alert_resolve",
    "alerts_close_with_course",
    "check_task_record_missed",
    "claim_due_steps",
    "clear_alarm",
    "dispatch_due_steps",
    "escalation_health",
    "escalation_policy_save",
    "missed_check_record",
    "notifications_mark_read",
    "oncall_override_create",
    "oncall_swap",
    "open_alert",
    "overdue_checks_scan",
    "raise_alarm",
    "run_auditor",
    "send_claimed_step",
    "send_step",
]
