"""The nurse's entry forms, one module per kind of entry.  Each form turns what was typed into a
case-file payload (CASE-3) with explicit units, catches the slips a tired nurse makes (°F typed in a °C
field, impossible combinations) and maps the clinical core's field names back to its own fields for
error display.

- :mod:`.base`: the common part (``ObservationForm``, ``RecordedAtField``) and the shared field helpers
- :mod:`.vitals`: ``VitalsForm``
- :mod:`.neuro`: ``IceForm``, ``CapdForm`` and the ICANS domains they share
- :mod:`.labs`: ``LabForm``
- :mod:`.events`: ``MedicationForm``, ``EventForm``, ``FindingsForm``
- :mod:`.review`: ``AttributionForm``, ``ReasonForm``, ``MissedCheckForm`` (acting on what is recorded)

This module lists the entry forms by the key the tablet uses.
"""

from __future__ import annotations

from typing import Any

from .base import ObservationForm
from .events import EventForm, FindingsForm, MedicationForm
from .labs import LabForm
from .neuro import CapdForm, IceForm
from .vitals import VitalsForm

FORMS: dict[str, type[ObservationForm]] = {
    "vitals": VitalsForm,
    "ice": IceForm,
    "capd": CapdForm,
    "lab": LabForm,
    "medication": MedicationForm,
    "event": EventForm,
    "clinical_flag": FindingsForm,
}


def form_key_for(kind: str, payload: dict[str, Any]) -> str:
    """Which entry form edits a stored observation (neuro: ICE or CAPD by its content)."""
    if kind == "neuro":
        return "capd" if payload.get("capd_items") is not None else "ice"
    return kind
