"""The follow-up visit form, per disease (VISIT-4): the disease instrument (SLEDAI-2K with its
attribution and PGA; the myositis core set; the mRSS body map and EUSTAR-AI items), the complete
medication list with doses, and the follow-up labs with the reporting lab's cut-offs.

The form only reads what was typed; every range and rule is checked by the clinical core when the
view records the observation payloads (``monitoring.services.observations_write_all``: one parse of
each payload, all parts or none), so the tablet, the API and case files refuse the same input with
the same message.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms

from carttrack.followup.course import IVIG_DRUG
from carttrack.followup.groups import LUPUS_GROUPS, MYOSITIS_GROUPS, IndicationGroup
from carttrack.followup.myositis import TIS_MEASURES
from carttrack.followup.sledai import ATTRIBUTION_REQUIRED, SLEDAI_CODES, SLEDAI_WEIGHT, label
from carttrack.followup.ssc import MRSS_SITE_MAX, MRSS_SITES
from carttrack.followup.steroids import FOLLOWUP_DRUGS
from carttrack.followup.wording import first_upper
from carttrack.vocabulary import FOLLOWUP_LAB_LOINC, LAB_FIELDS
from monitoring.forms.base import RecordedAtField

MEDICATION_ROWS = 8
TRI_CHOICES = [("", "Not assessed"), ("yes", "Present"), ("no", "Absent")]
OPT_BOOL = [("", "Not recorded"), ("yes", "Yes"), ("no", "No")]
DOSE_UNITS = [("day", "mg/day"), ("week", "mg/week")]
CORE_SET_LABELS = {
    "physician_global": "Physician global activity (0–10)",
    "patient_global": "Patient global activity (0–10)",
    "mmt8": "MMT-8 (0–150)",
    "haq": "HAQ (0–3)",
    "enzyme_U_L": "Most abnormal muscle enzyme (U/L)",
    "extramuscular": "Extramuscular activity (0–10)",
}
# Lab values of a follow-up visit, and the reporting lab's limits entered beside them (D-3).
LAB_VALUES = tuple(FOLLOWUP_LAB_LOINC)
LAB_CUTOFFS = {
    "anti_dsdna_IU_mL": ("anti_dsdna_cutoff_IU_mL", "Lab's positive cut-off"),
    "c3_mg_dL": ("c3_lln_mg_dL", "Lab's lower limit"),
    "c4_mg_dL": ("c4_lln_mg_dL", "Lab's lower limit"),
}


def _tri(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def _num(value: Any) -> float | int | None:
    if value in (None, ""):
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


class VisitForm(forms.Form):
    """One follow-up visit of a course; the instrument fields follow the indication group."""

    # Generated when the form is shown: the same visit sent twice is stored once (a form without it,
    # e.g. from an old page, gets a fresh one and is stored as a new visit).
    client_uuid = forms.UUIDField(widget=forms.HiddenInput, required=False)
    # The ward's wall time read through the clinical core's one rule, as on the nurse's forms (INPUT-12).
    observed_at = RecordedAtField(
        label="Visit date and time",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: Any, group: IndicationGroup, regimen: list[dict] | None = None, **kwargs: Any):
        kwargs.setdefault("initial", {}).setdefault("client_uuid", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.group = group
        if group in LUPUS_GROUPS:
            self._sledai_fields()
        elif group in MYOSITIS_GROUPS:
            for measure in TIS_MEASURES:
                self.fields[f"cs_{measure}"] = forms.DecimalField(
                    label=CORE_SET_LABELS[measure], required=False, min_value=0
                )
            self.fields["cs_juvenile"] = forms.TypedChoiceField(
                label="Juvenile dermatomyositis", choices=OPT_BOOL, required=False
            )
        elif group is IndicationGroup.SSC:
            self._ssc_fields()
        self._medication_fields(regimen or [])
        for key in LAB_VALUES:
            name, loinc = FOLLOWUP_LAB_LOINC[key]
            self.fields[f"lab_{key}"] = forms.DecimalField(
                label=f"{name} ({LAB_FIELDS[key]})",
                help_text=f"LOINC {loinc}",
                required=False,
                min_value=0,
            )
            if key in LAB_CUTOFFS:
                cutoff, text = LAB_CUTOFFS[key]
                self.fields[f"lab_{cutoff}"] = forms.DecimalField(
                    label=f"{text} ({LAB_FIELDS[cutoff]})", required=False, min_value=0
                )

    # -- instrument fields ---------------------------------------------------------------------
    def _sledai_fields(self) -> None:
        for code in SLEDAI_CODES:
            self.fields[f"sledai_{code}"] = forms.ChoiceField(
                label=f"{first_upper(label(code))} ({SLEDAI_WEIGHT[code]})",
                choices=TRI_CHOICES,
                required=False,
                widget=forms.RadioSelect,
                initial="",
            )
            if code in ATTRIBUTION_REQUIRED:
                self.fields[f"attr_{code}"] = forms.BooleanField(
                    label="attributed to lupus (D-1: scores only then)", required=False
                )
        self.fields["pga"] = forms.DecimalField(
            label="Physician global assessment (0–3)",
            required=False,
            widget=forms.NumberInput(attrs={"type": "range", "min": 0, "max": 3, "step": 0.1}),
        )
        # A slider always sends a value: its value counts only when the physician ticks this (PGA-1).
        self.fields["pga_recorded"] = forms.BooleanField(
            label="Record this PGA (a slider left untouched is not a PGA)", required=False, initial=False
        )
        self.fields["hemolytic_anemia"] = forms.ChoiceField(
            label="Haemolytic anaemia", choices=OPT_BOOL, required=False
        )
        self.fields["gi_activity"] = forms.ChoiceField(
            label="Gastrointestinal activity", choices=OPT_BOOL, required=False
        )
        self.fields["window_days"] = forms.TypedChoiceField(
            label="Look-back window",
            choices=[("", "Site setting"), ("10", "10 days"), ("30", "30 days")],
            required=False,
            coerce=int,
            empty_value=None,
        )

    def _ssc_fields(self) -> None:
        for site in MRSS_SITES:
            self.fields[f"mrss_{site}"] = forms.TypedChoiceField(
                label=first_upper(site.replace("_", " ")),
                choices=[("", "–")] + [(str(i), str(i)) for i in range(MRSS_SITE_MAX + 1)],
                required=False,
                coerce=int,
                empty_value=None,
            )
        for item, text in (
            ("delta_skin", "Δ-skin: patient-reported skin worsening in the past month"),
            ("digital_ulcers", "Active digital ulcers"),
            ("tendon_friction_rubs", "Tendon friction rubs"),
        ):
            self.fields[f"ssc_{item}"] = forms.ChoiceField(label=text, choices=OPT_BOOL, required=False)
        for item, text in (
            ("crp_mg_L", "CRP (mg/L)"),
            ("dlco_pct_predicted", "DLCO (% predicted)"),
            ("fvc_pct_predicted", "FVC (% predicted)"),
        ):
            self.fields[f"ssc_{item}"] = forms.DecimalField(label=text, required=False, min_value=0)

    def _medication_fields(self, regimen: list[dict]) -> None:
        self.fields["meds_recorded"] = forms.BooleanField(
            label="The medication list below is the complete current list",
            required=False,
            initial=bool(regimen),
        )
        for i in range(MEDICATION_ROWS):
            current = regimen[i] if i < len(regimen) else {}
            dose = current.get("mg_per_day", current.get("mg_per_week"))
            self.fields[f"med_{i}_drug"] = forms.CharField(
                label="Drug",
                required=False,
                initial=current.get("drug", ""),
                widget=forms.TextInput(
                    attrs={"list": "followup-drugs", "autocomplete": "off", "aria-label": f"Drug {i + 1}"}
                ),
            )
            self.fields[f"med_{i}_dose"] = forms.DecimalField(
                label="Dose",
                required=False,
                min_value=0,
                initial=dose,
                widget=forms.NumberInput(attrs={"aria-label": f"Dose of drug {i + 1}", "step": "any"}),
            )
            self.fields[f"med_{i}_unit"] = forms.ChoiceField(
                label="Unit",
                choices=DOSE_UNITS,
                required=False,
                initial="week" if "mg_per_week" in current else "day",
                widget=forms.Select(attrs={"aria-label": f"Dose unit of drug {i + 1}"}),
            )
            self.fields[f"med_{i}_investigational"] = forms.BooleanField(
                label="Trial drug",
                required=False,
                initial=bool(current.get("investigational")),
                widget=forms.CheckboxInput(attrs={"aria-label": f"Drug {i + 1} is a trial drug"}),
            )
        # A one-off dose given at the visit (not a standing drug of the list): IVIG, in grams as it is
        # prescribed; stored as a `medication` of drug `ivig` in mg (BCELL-9: the IgG checks follow it).
        self.fields["ivig_g"] = forms.DecimalField(
            label="IVIG given at this visit (g)",
            help_text="A one-off dose; the IgG checks are then due every 4 weeks (BCELL-9)",
            required=False,
            min_value=0,
            widget=forms.NumberInput(attrs={"step": "any"}),
        )

    # -- groups of bound fields for the template -----------------------------------------------
    def sledai_rows(self) -> list[tuple[forms.BoundField, forms.BoundField | None]]:
        return [
            (self[f"sledai_{c}"], self[f"attr_{c}"] if c in ATTRIBUTION_REQUIRED else None)
            for c in SLEDAI_CODES
            if f"sledai_{c}" in self.fields
        ]

    def mrss_sites(self) -> list[forms.BoundField]:
        return [self[f"mrss_{s}"] for s in MRSS_SITES if f"mrss_{s}" in self.fields]

    def prefixed(self, prefix: str) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(prefix)]

    def medication_rows(self) -> list[dict[str, forms.BoundField]]:
        return [
            {part: self[f"med_{i}_{part}"] for part in ("drug", "dose", "unit", "investigational")}
            for i in range(MEDICATION_ROWS)
        ]

    @property
    def drug_names(self) -> tuple[str, ...]:
        return FOLLOWUP_DRUGS

    # -- payloads ----------------------------------------------------------------------------
    def part_uuid(self, kind: str) -> uuid.UUID:
        """The client UUID of one part of this visit: the same form sent twice stores it once."""
        if self.cleaned_data.get("client_uuid") is None:
            self.cleaned_data["client_uuid"] = uuid.uuid4()
        return uuid.uuid5(self.cleaned_data["client_uuid"], kind)

    def payloads(self) -> list[tuple[str, dict[str, Any]]]:
        """(kind, case-file payload) for each observation this visit records."""
        d = self.cleaned_data
        out: list[tuple[str, dict[str, Any]]] = []
        if self.group in LUPUS_GROUPS:
            items = {c: _tri(d.get(f"sledai_{c}", "")) for c in SLEDAI_CODES}
            payload: dict[str, Any] = {
                "items": items,
                "attributed_to_lupus": [c for c in ATTRIBUTION_REQUIRED if d.get(f"attr_{c}")],
            }
            if d.get("pga_recorded") and d.get("pga") is not None:
                payload["pga"] = _num(d["pga"])
            for key in ("hemolytic_anemia", "gi_activity"):
                if _tri(d.get(key, "")) is not None:
                    payload[key] = _tri(d[key])
            if d.get("window_days"):
                payload["window_days"] = d["window_days"]
            payload["attributed_to_lupus"] = sorted(payload["attributed_to_lupus"])
            out.append(("sledai", payload))
        elif self.group in MYOSITIS_GROUPS:
            payload = {m: _num(d.get(f"cs_{m}")) for m in TIS_MEASURES if d.get(f"cs_{m}") is not None}
            if _tri(d.get("cs_juvenile", "")) is not None:
                payload["juvenile"] = _tri(d["cs_juvenile"])
            if payload:
                out.append(("myositis_core_set", payload))
        elif self.group is IndicationGroup.SSC:
            payload = {}
            sites = {s: d.get(f"mrss_{s}") for s in MRSS_SITES}
            if any(v is not None for v in sites.values()):
                payload["mrss_sites"] = sites
            for item in ("delta_skin", "digital_ulcers", "tendon_friction_rubs"):
                if _tri(d.get(f"ssc_{item}", "")) is not None:
                    payload[item] = _tri(d[f"ssc_{item}"])
            for item in ("crp_mg_L", "dlco_pct_predicted", "fvc_pct_predicted"):
                if d.get(f"ssc_{item}") is not None:
                    payload[item] = _num(d[f"ssc_{item}"])
            if payload:
                out.append(("ssc_assessment", payload))
        if d.get("meds_recorded"):
            drugs = []
            for i in range(MEDICATION_ROWS):
                name = (d.get(f"med_{i}_drug") or "").strip()
                if not name:
                    continue
                drug: dict[str, Any] = {"drug": name}
                if d.get(f"med_{i}_dose") is not None:
                    unit = "mg_per_week" if d.get(f"med_{i}_unit") == "week" else "mg_per_day"
                    drug[unit] = _num(d[f"med_{i}_dose"])
                if d.get(f"med_{i}_investigational"):
                    drug["investigational"] = True
                drugs.append(drug)
            out.append(("medication_status", {"drugs": drugs}))
        if d.get("ivig_g") is not None:
            out.append(
                (
                    "medication",
                    {
                        "drug": IVIG_DRUG,
                        "dose_mg": _num(d["ivig_g"] * 1000),
                        "route": "iv",
                        "for_crs_icans": False,
                    },
                )
            )
        labs = {}
        for name in self.fields:
            if name.startswith("lab_") and d.get(name) is not None:
                labs[name[4:]] = _num(d[name])
        if labs:
            out.append(("lab", labs))
        return out
