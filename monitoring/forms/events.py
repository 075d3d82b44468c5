"""The entry forms for what happened to the patient rather than what was measured: a medication given,
an event (diagnosis, ICU, discharge, death with its cause) and the clinical findings (infection
history, CNS involvement, the LICATS organ signals)."""

from __future__ import annotations

from typing import Any

from django import forms

from carttrack import vocabulary

from .base import ObservationForm, decimal_field, put_entered

EVENT_LABELS = {
    "crs_diagnosed": "CRS diagnosed (physician)",
    "icans_diagnosed": "ICANS diagnosed (physician)",
    "death": "Death (physician)",
    "icu_admission": "ICU admission",
    "discharge": "Discharge",
    "progression": "Disease progression",
    "next_therapy": "Next therapy started",
}
ATTRIBUTION_CHOICES = [
    ("", "—"),
    ("crs", "CRS"),
    ("icans", "ICANS"),
    ("infection", "Infection / sepsis"),
    ("disease", "Underlying disease / progression"),
    ("other", "Other cause"),
]


class MedicationForm(ObservationForm):
    KIND = "medication"
    TITLE = "Medication given"
    SAVE_LABEL = "Save medication"

    drug = forms.ChoiceField(
        label="Drug", choices=[("", "— choose —")] + [(d, d.replace("_", " ")) for d in vocabulary.DRUGS]
    )
    dose_mg = decimal_field("Dose", "mg")
    for_crs_icans = forms.BooleanField(
        required=False, initial=True, label="Given for CRS/ICANS (untick e.g. for lupus maintenance steroids)"
    )
    route = forms.ChoiceField(
        label="Route",
        required=False,
        choices=[
            ("", "—"),
            ("iv", "IV"),
            ("po", "Oral"),
            ("sc", "Subcutaneous"),
            ("im", "IM"),
            ("it", "Intrathecal"),
        ],
    )

    def payload(self) -> dict[str, Any]:
        d = self.cleaned_data
        p: dict[str, Any] = {"drug": d["drug"]}
        put_entered(p, "dose_mg", d.get("dose_mg"))
        p["for_crs_icans"] = bool(d.get("for_crs_icans"))
        put_entered(p, "route", d.get("route"))
        return p


class EventForm(ObservationForm):
    KIND = "event"
    TITLE = "Event"
    SAVE_LABEL = "Save event"

    event = forms.ChoiceField(
        label="Event",
        choices=[("", "— choose —")]
        + [(e, EVENT_LABELS.get(e, e.replace("_", " "))) for e in vocabulary.EVENTS],
    )
    attributed_to = forms.ChoiceField(
        label="Attributed to (death: principal cause)", required=False, choices=ATTRIBUTION_CHOICES
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("event") == "death" and not data.get("attributed_to"):
            self.add_error(
                "attributed_to", "Record the principal cause of death (grade 5 only if CRS/ICANS)."
            )
        return data

    def payload(self) -> dict[str, Any]:
        d = self.cleaned_data
        p: dict[str, Any] = {"event": d["event"]}
        put_entered(p, "attributed_to", d.get("attributed_to"))
        return p


FINDING_LABELS = {
    "recurrent_sinopulmonary_infections": "Recurrent sinopulmonary infections",
    "recurrent_infections": "Recurrent infections",
    "serious_infection": "Serious infection",
    "cns_involvement": "CNS involvement by the disease",
    "prior_seizures": "Seizures before CAR-T",
    "new_inflammatory_rash": "New inflammatory rash",
    "mucosal_lesions": "Mucosal lesions",
    "arthritis_or_enthesitis": "Arthritis or enthesitis",
    "troponin_rise": "Troponin rise",
    "unexplained_dyspnea": "Dyspnoea not explained by pneumonia or PE",
    "diarrhea_or_abdominal_pain": "Diarrhoea or abdominal pain",
}
FINDING_CHOICES = [("", "— not assessed"), ("present", "Present"), ("absent", "Absent / resolved")]


class FindingsForm(ObservationForm):
    """Clinical findings (case-file ``clinical_flag``): infection history, CNS involvement and, for
    autoimmune patients, the organ signals of the LICATS screen (LICATS-4: new or worse in an
    organ the disease affected before CAR-T). Each finding is present, absent or not assessed."""

    KIND = "clinical_flag"
    TITLE = "Clinical findings"
    SAVE_LABEL = "Save findings"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        licats_hint = "Autoimmune disease: in an organ affected before CAR-T (LICATS)"
        for name in vocabulary.CLINICAL_FLAGS:
            self.fields[name] = forms.ChoiceField(
                label=FINDING_LABELS.get(name, name.replace("_", " ").capitalize()),
                required=False,
                choices=FINDING_CHOICES,
                help_text=licats_hint if name in vocabulary.LICATS_FLAGS else "",
            )
        # the confirmation box stays last, after the findings
        self.fields["confirm_unusual"] = self.fields.pop("confirm_unusual")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not any(data.get(name) for name in vocabulary.CLINICAL_FLAGS):
            raise forms.ValidationError("Mark at least one finding present or absent.")
        return data

    def payload(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {name: d[name] == "present" for name in vocabulary.CLINICAL_FLAGS if d.get(name)}

    @classmethod
    def initial_from_payload(cls, payload: dict[str, Any]) -> dict[str, Any]:
        return {name: "present" if value else "absent" for name, value in payload.items()}
