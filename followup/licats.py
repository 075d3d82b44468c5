"""The physician marks SLEDAI-2K descriptors of a recorded visit as part of a LICATS episode (D-5,
LICATS-5, SLEDAI-10): a marked descriptor does not score unless a flare is declared.

The mark is a correction of the SLEDAI-2K observation through ``monitoring.services.observation_amend``
(the path the API's correction takes): a new row with the ``licats`` list that supersedes the old one,
with the physician's name and reason, the course re-evaluated; the old row stays in the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django import forms

from carttrack.followup.inputs import SledaiEntry
from carttrack.followup.sledai import SLEDAI_CODES, label
from carttrack.followup.wording import first_upper
from monitoring.models import Infusion, Observation


@dataclass
class SledaiVisit:
    """A post-infusion SLEDAI-2K entry with descriptors present: what the physician may mark."""

    observation_id: int
    at: datetime
    present: tuple[str, ...]  # descriptor codes, SLEDAI-2K order
    licats: tuple[str, ...]

    @property
    def present_labels(self) -> list[str]:
        return [label(c) for c in self.present]

    @property
    def licats_labels(self) -> list[str]:
        return [label(c) for c in self.licats]


def sledai_visits(infusion: Infusion, parsed: list) -> list[SledaiVisit]:
    """The course's current post-infusion SLEDAI-2K entries with a descriptor present, newest first."""
    out = []
    for obs in parsed:
        if not isinstance(obs, SledaiEntry) or obs.t_hours <= 0 or obs.index is None:
            continue
        present = tuple(c for c in SLEDAI_CODES if obs.item(c) is True)
        if present:
            at = infusion.infused_at + timedelta(hours=obs.t_hours)
            out.append(SledaiVisit(obs.index, at, present, tuple(c for c in present if c in obs.licats)))
    return out[::-1]


class LicatsForm(forms.Form):
    descriptors = forms.MultipleChoiceField(
        label="Part of a LICATS episode (not scored unless a flare is declared)",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reason = forms.CharField(
        label="Why (your clinical reasoning; kept with the correction)",
        max_length=300,
        error_messages={"required": "Give the reason: it is kept with the correction."},
    )

    def __init__(self, *args: Any, visit: SledaiVisit, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("descriptors", list(visit.licats))
        super().__init__(*args, **kwargs)
        self.visit = visit
        self.fields["descriptors"].choices = [(c, first_upper(label(c))) for c in visit.present]

    def payload(self, original: Observation) -> dict[str, Any]:
        """The SLEDAI-2K payload with the marked descriptors as its ``licats`` list."""
        payload = {k: v for k, v in original.payload.items() if k != "licats"}
        chosen = [c for c in SLEDAI_CODES if c in self.cleaned_data["descriptors"]]
        if chosen:
            payload["licats"] = chosen
        return payload

    def correction_reason(self) -> str:
        chosen = [label(c) for c in SLEDAI_CODES if c in self.cleaned_data["descriptors"]]
        marked = ", ".join(chosen) if chosen else "no descriptor"
        return f"LICATS episode (D-5): {marked}. {self.cleaned_data['reason'].strip()}"
