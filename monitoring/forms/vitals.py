"""The vitals entry form: temperature (°C or °F, with the unit slips caught), heart rate, blood
pressure, breathing, oxygen and the CRS treatments (fluid bolus, vasopressors) — only what was entered."""

from __future__ import annotations

from typing import Any

from django import forms

from carttrack import units, vocabulary

from .base import UNCHANGED, ObservationForm, decimal_field, put_entered, whole_field

NO_PRESSORS = "none"  # the explicit "no vasopressors running" ([] in the payload)

O2_DEVICE_LABELS = {
    "room_air": "Room air",
    "blow_by": "Blow-by",
    "nasal_cannula": "Nasal cannula",
    "hfnc": "High-flow nasal cannula (HFNC)",
    "simple_face_mask": "Simple face mask",
    "venturi": "Venturi mask",
    "non_rebreather": "Non-rebreather mask",
    "cpap": "CPAP",
    "bipap": "BiPAP",
    "niv_other": "Other non-invasive ventilation",
    "invasive_mv": "Invasive mechanical ventilation",
}


class VitalsForm(ObservationForm):
    KIND = "vitals"
    TITLE = "Vitals"
    SAVE_LABEL = "Save vitals"
    FIELD_MAP = {"temp_c": "temperature", "temp_f": "temperature"}

    temperature = decimal_field("Temperature")
    temp_unit = forms.ChoiceField(
        label="Unit", choices=[("C", "°C"), ("F", "°F")], initial="C", widget=forms.RadioSelect
    )
    hr = whole_field("Heart rate", "/min")
    sbp = whole_field("Systolic BP", "mmHg")
    dbp = whole_field("Diastolic BP", "mmHg")
    rr = whole_field("Respiratory rate", "/min")
    spo2 = whole_field("SpO₂", "%")
    o2_device = forms.ChoiceField(
        label="Oxygen",
        choices=[(UNCHANGED, "— not re-assessed (the standing value is kept)"), *O2_DEVICE_LABELS.items()],
        initial=UNCHANGED,
        required=False,
    )
    o2_flow_l_min = decimal_field("Oxygen flow", "L/min")
    fio2 = decimal_field("FiO₂", "% (21–100) or fraction")
    o2_for_comfort_only = forms.BooleanField(
        required=False, label="Oxygen for comfort only (not for low SpO₂)"
    )
    fluid_bolus_for_hypotension = forms.BooleanField(
        required=False, label="Fluid bolus given for low blood pressure"
    )
    vasopressors = forms.MultipleChoiceField(
        required=False,
        label="Vasopressors / inotropes running",
        help_text="none ticked: not re-assessed (the standing value is kept)",
        choices=[(NO_PRESSORS, "No vasopressors running")]
        + [(k, k.replace("_", " ").replace("ii", "II")) for k in vocabulary.VASOPRESSORS],
        widget=forms.CheckboxSelectMultiple,
    )

    #: The standing CRS values (A-14) shown above the form: set by the view from the latest
    #: evaluation (label, text, age, stale).
    standing: list[dict[str, Any]]

    def __init__(self, *args: Any, standing: list[dict[str, Any]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.standing = standing or []

    @property
    def fahrenheit_suspected(self) -> bool:
        return self.is_bound and self.has_error("temperature", "fahrenheit_in_celsius")

    def clean(self) -> dict[str, Any]:
        # The cross-field rules (diastolic below systolic, flow and FiO2 only with a device, the flow
        # within the device's range, SpO2 as a percentage, at least one recorded value) are the
        # clinical core's (carttrack/input_rules.py), applied by the view through the same
        # validation as the API. Only the unit slips of this form's own temperature field are here.
        data = super().clean()
        temp, unit = data.get("temperature"), data.get("temp_unit")
        if temp is not None and unit == "C" and 77.0 <= temp <= 113.0:
            self.add_error(
                "temperature",
                forms.ValidationError(
                    f"{temp:g} looks like °F (= {units.f_to_c(temp):.1f} °C). "
                    "Convert it, or switch the unit to °F.",
                    code="fahrenheit_in_celsius",
                ),
            )
        if temp is not None and unit == "F" and 25.0 <= temp <= 45.0:
            self.add_error(
                "temperature",
                forms.ValidationError(
                    f"{temp:g} looks like °C, not °F. Switch the unit to °C.", code="celsius_in_fahrenheit"
                ),
            )
        pressors = data.get("vasopressors") or []
        if NO_PRESSORS in pressors and len(pressors) > 1:
            self.add_error("vasopressors", "Tick “No vasopressors running” or the drugs running, not both.")
        return data

    def payload(self) -> dict[str, Any]:
        """Only what the nurse entered (A-14): a blank field is not recorded, never normal."""
        d = self.cleaned_data
        p: dict[str, Any] = {}
        if d.get("temperature") is not None:
            p["temp_f" if d.get("temp_unit") == "F" else "temp_c"] = d["temperature"]
        for key in ("hr", "sbp", "dbp", "rr", "spo2"):
            put_entered(p, key, d.get(key))
        put_entered(p, "o2_device", d.get("o2_device"))
        put_entered(p, "o2_flow_l_min", d.get("o2_flow_l_min"))
        put_entered(p, "fio2", d.get("fio2"))
        if d.get("o2_for_comfort_only"):
            p["o2_for_comfort_only"] = True
        if d.get("fluid_bolus_for_hypotension"):
            p["fluid_bolus_for_hypotension"] = True
        pressors = list(d.get("vasopressors") or [])
        if pressors == [NO_PRESSORS]:
            p["vasopressors"] = []
        elif pressors:
            p["vasopressors"] = pressors
        return p

    @classmethod
    def initial_from_payload(cls, payload: dict[str, Any]) -> dict[str, Any]:
        initial = super().initial_from_payload(payload)
        if payload.get("vasopressors") == []:
            initial["vasopressors"] = [NO_PRESSORS]
        if payload.get("temp_f") is not None:
            initial.update(temperature=payload["temp_f"], temp_unit="F")
        elif payload.get("temp_c") is not None:
            initial.update(temperature=payload["temp_c"], temp_unit="C")
        return initial
