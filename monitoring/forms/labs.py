"""The labs entry form: blood counts, inflammation markers and chemistry, with the CRP and creatinine
units chosen by the nurse (an impossible CRP in mg/dL is caught)."""

from __future__ import annotations

from typing import Any

from django import forms

from .base import ObservationForm, decimal_field, put_entered, whole_field


class LabForm(ObservationForm):
    KIND = "lab"
    TITLE = "Labs"
    SAVE_LABEL = "Save labs"
    FIELD_MAP = {
        "crp_mg_L": "crp",
        "crp_mg_dL": "crp",
        "creatinine_mg_dL": "creatinine",
        "creatinine_umol_L": "creatinine",
    }

    anc_per_uL = whole_field("ANC", "/µL (e.g. 450, not 0.45)")
    platelets_10e9_L = decimal_field("Platelets", "×10⁹/L")
    hgb_g_dL = decimal_field("Haemoglobin", "g/dL")
    crp = decimal_field("CRP")
    crp_unit = forms.ChoiceField(
        label="CRP unit",
        choices=[("mg_L", "mg/L"), ("mg_dL", "mg/dL")],
        initial="mg_L",
        widget=forms.RadioSelect,
    )
    ferritin_ng_mL = decimal_field("Ferritin", "ng/mL")
    il6_pg_mL = decimal_field("IL-6", "pg/mL (rises after tocilizumab)")
    fibrinogen_mg_dL = decimal_field("Fibrinogen", "mg/dL")
    ldh_U_L = decimal_field("LDH", "U/L")
    alt_U_L = decimal_field("ALT", "U/L")
    ast_U_L = decimal_field("AST", "U/L")
    creatinine = decimal_field("Creatinine")
    creatinine_unit = forms.ChoiceField(
        label="Creatinine unit",
        choices=[("mg_dL", "mg/dL"), ("umol_L", "µmol/L")],
        initial="mg_dL",
        widget=forms.RadioSelect,
    )
    igg_mg_dL = decimal_field("IgG", "mg/dL")
    cd19_per_uL = decimal_field("CD19 B cells", "/µL")
    upcr_mg_mg = decimal_field("Urine protein/creatinine", "mg/mg")

    SIMPLE = (
        "anc_per_uL",
        "platelets_10e9_L",
        "hgb_g_dL",
        "ferritin_ng_mL",
        "il6_pg_mL",
        "fibrinogen_mg_dL",
        "ldh_U_L",
        "alt_U_L",
        "ast_U_L",
        "igg_mg_dL",
        "cd19_per_uL",
        "upcr_mg_mg",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors and not any(data.get(k) is not None for k in (*self.SIMPLE, "crp", "creatinine")):
            raise forms.ValidationError("Enter at least one lab value.")
        crp, unit = data.get("crp"), data.get("crp_unit")
        if crp is not None and unit == "mg_dL" and crp > 100:
            self.add_error(
                "crp", f"CRP {crp:g} mg/dL is impossible; did you mean {crp:g} mg/L? Switch the unit."
            )
        return data

    def payload(self) -> dict[str, Any]:
        d = self.cleaned_data
        p: dict[str, Any] = {}
        for key in self.SIMPLE:
            put_entered(p, key, d.get(key))
        if d.get("crp") is not None:
            put_entered(p, f"crp_{d.get('crp_unit') or 'mg_L'}", d["crp"])
        if d.get("creatinine") is not None:
            put_entered(p, f"creatinine_{d.get('creatinine_unit') or 'mg_dL'}", d["creatinine"])
        return p

    @classmethod
    def initial_from_payload(cls, payload: dict[str, Any]) -> dict[str, Any]:
        initial = super().initial_from_payload(payload)
        for key, field, unit in (
            ("crp_mg_L", "crp", "mg_L"),
            ("crp_mg_dL", "crp", "mg_dL"),
            ("creatinine_mg_dL", "creatinine", "mg_dL"),
            ("creatinine_umol_L", "creatinine", "umol_L"),
        ):
            if payload.get(key) is not None:
                initial[field] = payload[key]
                initial[f"{field}_unit"] = unit
        return initial
