"""The common part of the nurse's entry forms: the recorded-at field, the base form every entry form
extends (client UUID, time, confirmation of unusual values, mapping of the clinical core's field names)
and the small helpers the forms share to build number fields and payloads.

Hard physiological limits are checked by the clinical core (``carttrack.parse_observation`` inside
``observation_record``); soft limits (``carttrack.limits.soft_warnings``) ask for confirmation.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from django import forms
from django.utils import timezone

import carttrack

YES, NO, NA = "yes", "no", "na"
UNCHANGED = ""  # a blank choice: not re-assessed, the standing value stands


def _num(step: str = "1", mode: str = "numeric") -> forms.NumberInput:
    return forms.NumberInput(attrs={"step": step, "inputmode": mode})


def decimal_field(label: str, unit: str = "", **kw: Any) -> forms.FloatField:
    """An optional number with decimals (the tablet shows the decimal keypad); ``unit`` is its help text."""
    return forms.FloatField(label=label, required=False, widget=_num("any", "decimal"), help_text=unit, **kw)


def whole_field(label: str, unit: str = "") -> forms.FloatField:
    """An optional whole number (the tablet shows the numeric keypad); ``unit`` is its help text."""
    return forms.FloatField(label=label, required=False, widget=_num("1"), help_text=unit)


def put_entered(payload: dict[str, Any], key: str, value: Any) -> None:
    """Record ``value`` under ``key`` only if the nurse entered it (A-14); 38.0 is recorded as 38."""
    if value is not None and value != "":
        payload[key] = int(value) if isinstance(value, float) and value.is_integer() else value


class RecordedAtField(forms.DateTimeField):
    """The ward's wall time read through the clinical core's one rule (``carttrack.parse_timestamp``,
    INPUT-12): in the care team's zone (the view activates it), a time skipped or repeated by a
    daylight-saving change refused with the same message as on the API."""

    def to_python(self, value: Any):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value if timezone.is_aware(value) else self._read(value)
        return self._read(str(value).strip())

    def _read(self, value: Any) -> datetime:
        try:
            return carttrack.parse_timestamp(value, zone=timezone.get_current_timezone_name())
        except carttrack.ObservationError as exc:
            raise forms.ValidationError(exc.problem or str(exc), code="invalid") from None


class ObservationForm(forms.Form):
    """Common part: the client UUID (generated when the form is rendered), the time and the
    confirmation of unusual values."""

    KIND: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    SAVE_LABEL: ClassVar[str] = "Save"
    #: case-file / canonical field name -> this form's field (for errors from the clinical core)
    FIELD_MAP: ClassVar[dict[str, str]] = {}

    client_uuid = forms.UUIDField(widget=forms.HiddenInput)
    observed_at = RecordedAtField(
        label="Observed at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="When it was measured or given (ward time)",
    )
    confirm_unusual = forms.BooleanField(
        required=False, label="I checked: the unusual value is correct", widget=forms.CheckboxInput
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.KIND}_%s")
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("client_uuid", uuid.uuid4())
        initial.setdefault("observed_at", timezone.localtime().replace(second=0, microsecond=0))
        super().__init__(*args, **kwargs)
        self.soft_warnings: list[str] = []

    # -- mapping between the form and the payload ------------------------------------------------
    def payload(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def initial_from_payload(cls, payload: dict[str, Any]) -> dict[str, Any]:
        return {name: payload[name] for name in cls.base_fields if name in payload}

    def form_field_for(self, name: str) -> str | None:
        name = self.FIELD_MAP.get(name, name)
        return name if name in self.fields else None
