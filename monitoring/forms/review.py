"""The forms that act on what is already recorded or due: a physician's attribution of a finding to
another cause, the reason for a correction or a void, and why a due check was not done."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms


class AttributionForm(forms.Form):
    """A physician attributes a vitals observation's findings to another cause (A-9)."""

    client_uuid = forms.UUIDField(widget=forms.HiddenInput)
    findings = forms.MultipleChoiceField(
        label="Findings caused by something other than CRS",
        choices=[("fever", "Fever"), ("hypotension", "Hypotension"), ("hypoxia", "Hypoxia")],
        widget=forms.CheckboxSelectMultiple,
    )
    cause = forms.CharField(
        label="Other cause", max_length=120, help_text="e.g. pneumonia, sepsis, fluid overload"
    )
    reason = forms.CharField(
        label="Reason / evidence", widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "attr_%s")
        kwargs.setdefault("initial", {}).setdefault("client_uuid", uuid.uuid4())
        super().__init__(*args, **kwargs)

    def clean_cause(self) -> str:
        cause = self.cleaned_data["cause"].strip()
        if cause.lower() == "crs":
            raise forms.ValidationError("Name the other cause (not CRS).")
        return cause

    def payload(self, original: dict[str, Any]) -> dict[str, Any]:
        p = {k: v for k, v in original.items() if not k.endswith("attributed_to")}
        for finding in self.cleaned_data["findings"]:
            p[f"{finding}_attributed_to"] = self.cleaned_data["cause"]
        return p


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason", max_length=1000, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    client_uuid = forms.UUIDField(widget=forms.HiddenInput, required=False)


class MissedCheckForm(forms.Form):
    """Why a due check was not done (kept with the check; closes the nurse's task)."""

    due_at = forms.DateTimeField(widget=forms.HiddenInput)
    reason = forms.CharField(label="Why was it not done?", max_length=300)
