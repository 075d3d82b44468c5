"""Signals other apps hook into (they sit above monitoring in the layers and must not be imported here).

``observation_saved`` is sent inside the saving transaction, with the infusion row still locked,
after the observation row and its grade evaluation are stored: a receiver's writes commit or roll
back with the observation. Arguments: ``infusion``, ``observation`` (the new row: a recording, an
amendment or an entered-in-error marker), ``parsed`` (the clinical core's parse of it, None for an
entered-in-error marker), ``evaluation`` (the grade evaluation just stored).
"""

from django.dispatch import Signal

observation_saved = Signal()

#: Sent by ``manage.py seed_demo`` after the ward is seeded (``teams``: name -> CareTeam, ``products``:
#: name -> Product, ``users``: role -> User, ``stdout``): apps above monitoring add their demo data.
demo_seeded = Signal()
