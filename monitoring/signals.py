"""Signals other apps hook into (they sit above monitoring in the layers and must not be imported here).

Why a signal here, where grades go to alerting through ``monitoring.handoff``: follow-up is an
additional reader of every save (zero or more may listen; the toxicity weeks work without it), and
it must act inside the saving transaction. ``send`` (not ``send_robust``) lets a receiver's error
propagate, so a failed follow-up evaluation rolls the save back and shows, never passes silently.

``observation_saved`` is sent inside the saving transaction, with the infusion row still locked,
after the observation row and its grade evaluation are stored: a receiver's writes commit or roll
back with the observation. Arguments: ``infusion``, ``observation`` (the new row: a recording, an
amendment or an entered-in-error marker), ``parsed`` (the clinical core's parse of it, None for an
entered-in-error marker), ``evaluation`` (the grade evaluation just stored).
"""

from django.dispatch import Signal

observation_saved = Signal()
