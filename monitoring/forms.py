"""The nurse's entry forms.  Each form turns what was typed into a case-file payload (CASE-3) with
explicit units, catches the slips a tired nurse makes (°F typed in a °C field, impossible
combinations) and maps the clinical core's field names back to its own fields for error display.

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
from carttrack import units, vocabulary

YES, NO, NA = "yes", "no", "na"
UNCHANGED = ""  # a blank choice: not re-assessed, the standing value stands
NO_PRESSORS = "none"  # the explicit "no vasopressors running" ([] in the payload)
ICE_CHOICES = [(YES, "Correct"), (NO, "Wrong"), (NA, "Not assessable")]

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
CONSCIOUSNESS_LABELS = {  # B-8: "alert" is normal, "awakens spontaneously" is grade 1
    "alert": "Alert — awake, normal",
    "awakens_spontaneously": "Drowsy — awakens spontaneously",
    "awakens_to_voice": "Awakens only to voice",
    "awakens_to_tactile": "Awakens only to touch",
    "unarousable": "Unarousable, or needs vigorous/repeated touch",
    "not_assessable": "Not assessable (sedated / intubated)",
}
SEIZURE_LABELS = {
    "none": "No seizure",
    "rapid_resolving_clinical": "Clinical seizure that resolved rapidly",
    "nonconvulsive_eeg_resolved": "Non-convulsive seizure on EEG, resolved with treatment",
    "prolonged_gt5min": "Prolonged seizure (> 5 min)",
    "repetitive_no_return": "Repeated seizures without return to baseline",
}
MOTOR_LABELS = {
    "none": "No focal weakness",
    "deep_focal_weakness": "Deep focal weakness (hemiparesis, paraparesis)",
}
ICP_LABELS = {
    "none": "None",
    "focal_local_edema": "Focal/local oedema on imaging",
    "diffuse_edema": "Diffuse cerebral oedema on imaging",
    "posturing": "Decerebrate/decorticate posturing",
    "cn_vi_palsy": "Cranial nerve VI palsy",
    "papilledema": "Papilloedema",
    "cushing_triad": "Cushing's triad",
}
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
CAPD_ITEMS = (  # CAPD-1: items 1–4 reverse-scored, 5–8 forward
    ("Does the child make eye contact with the caregiver?", True),
    ("Are the child's actions purposeful?", True),
    ("Is the child aware of their surroundings?", True),
    ("Does the child communicate needs and wants?", True),
    ("Is the child restless?", False),
    ("Is the child inconsolable?", False),
    ("Is the child underactive — very little movement while awake?", False),
    ("Does it take the child a long time to respond to interactions?", False),
)
FREQ = ("Never", "Rarely", "Sometimes", "Often", "Always")


def _capd_choices(reverse: bool) -> list[tuple[str, str]]:
    scores = (4, 3, 2, 1, 0) if reverse else (0, 1, 2, 3, 4)
    return [(str(s), f"{word} ({s})") for word, s in zip(FREQ, scores, strict=True)]


def _num(step: str = "1", mode: str = "numeric") -> forms.NumberInput:
    return forms.NumberInput(attrs={"step": step, "inputmode": mode})


def _decimal(label: str, unit: str = "", **kw: Any) -> forms.FloatField:
    return forms.FloatField(label=label, required=False, widget=_num("any", "decimal"), help_text=unit, **kw)


def _whole(label: str, unit: str = "") -> forms.FloatField:
    return forms.FloatField(label=label, required=False, widget=_num("1"), help_text=unit)


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


def _put(payload: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != "":
        payload[key] = int(value) if isinstance(value, float) and value.is_integer() else value


class VitalsForm(ObservationForm):
    KIND = "vitals"
    TITLE = "Vitals"
    SAVE_LABEL = "Save vitals"
    FIELD_MAP = {"temp_c": "temperature", "temp_f": "temperature"}

    temperature = _decimal("Temperature")
    temp_unit = forms.ChoiceField(
        label="Unit", choices=[("C", "°C"), ("F", "°F")], initial="C", widget=forms.RadioSelect
    )
    hr = _whole("Heart rate", "/min")
    sbp = _whole("Systolic BP", "mmHg")
    dbp = _whole("Diastolic BP", "mmHg")
    rr = _whole("Respiratory rate", "/min")
    spo2 = _whole("SpO₂", "%")
    o2_device = forms.ChoiceField(
        label="Oxygen",
        choices=[(UNCHANGED, "— not re-assessed (the standing value is kept)"), *O2_DEVICE_LABELS.items()],
        initial=UNCHANGED,
        required=False,
    )
    o2_flow_l_min = _decimal("Oxygen flow", "L/min")
    fio2 = _decimal("FiO₂", "% (21–100) or fraction")
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
            _put(p, key, d.get(key))
        _put(p, "o2_device", d.get("o2_device"))
        _put(p, "o2_flow_l_min", d.get("o2_flow_l_min"))
        _put(p, "fio2", d.get("fio2"))
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


class NeuroDomainsForm(ObservationForm):
    """The ICANS domains shared by the ICE and the CAPD forms."""

    KIND = "neuro"
    consciousness = forms.ChoiceField(
        label="Level of consciousness",
        choices=list(CONSCIOUSNESS_LABELS.items()),
        initial="alert",
        widget=forms.RadioSelect,
    )
    seizure = forms.ChoiceField(label="Seizure", choices=list(SEIZURE_LABELS.items()), initial="none")
    motor = forms.ChoiceField(label="Motor", choices=list(MOTOR_LABELS.items()), initial="none")
    icp_edema = forms.ChoiceField(
        label="Raised intracranial pressure / oedema", choices=list(ICP_LABELS.items()), initial="none"
    )
    sedated = forms.BooleanField(required=False, label="Sedated (sedating medication)")
    tremor = forms.BooleanField(required=False, label="Tremor — recorded, not graded as ICANS")
    myoclonus = forms.BooleanField(required=False, label="Myoclonus — recorded, not graded as ICANS")
    # B-9: not an ICANS grade but its own urgent alert (neuro consult, imaging); a recorded
    # haemorrhage stands until a record says it is absent, so "absent" is an explicit choice.
    intracranial_hemorrhage = forms.ChoiceField(
        label="Intracranial haemorrhage (urgent alert of its own, not graded as ICANS)",
        required=False,
        choices=[("", "Not assessed"), (YES, "Present"), (NO, "Absent / ruled out")],
        initial="",
        widget=forms.RadioSelect,
    )

    DOMAIN_FIELDS = ("consciousness", "seizure", "motor", "icp_edema")
    FLAG_FIELDS = ("sedated", "tremor", "myoclonus")

    def domains_payload(self) -> dict[str, Any]:
        d = self.cleaned_data
        p: dict[str, Any] = {k: d[k] for k in self.DOMAIN_FIELDS}
        for k in self.FLAG_FIELDS:
            if d.get(k):
                p[k] = True
        if d.get("intracranial_hemorrhage") in (YES, NO):
            p["intracranial_hemorrhage"] = d["intracranial_hemorrhage"] == YES
        return p

    @classmethod
    def initial_from_payload(cls, payload: dict[str, Any]) -> dict[str, Any]:
        initial = super().initial_from_payload(payload)
        ich = payload.get("intracranial_hemorrhage")
        initial["intracranial_hemorrhage"] = "" if ich is None else (YES if ich else NO)
        return initial


class IceForm(NeuroDomainsForm):
    """ICE (age ≥ 12 y, ICE-4): each question a big Correct / Wrong / Not assessable toggle (B-1)."""

    TITLE = "Neuro check (ICE)"
    SAVE_LABEL = "Save neuro check"
    field_order = ["observed_at", "ice_status"]
    ICE_QUESTIONS = (
        ("orientation_year", "orientation", "Orientation: knows the year"),
        ("orientation_month", "orientation", "Orientation: knows the month"),
        ("orientation_city", "orientation", "Orientation: knows the city"),
        ("orientation_hospital", "orientation", "Orientation: knows the hospital"),
        ("naming_1", "naming", "Names object 1 (e.g. clock)"),
        ("naming_2", "naming", "Names object 2 (e.g. pen)"),
        ("naming_3", "naming", "Names object 3 (e.g. button)"),
        ("commands", "commands", "Follows a simple command (e.g. “show me 2 fingers”)"),
        ("writing", "writing", "Writes a standard sentence"),
        ("attention", "attention", "Counts backwards from 100 by 10"),
    )
    FIELD_MAP = {"ice": "ice_status", "ice.orientation": "orientation_year", "ice.naming": "naming_1"}

    ice_status = forms.ChoiceField(
        label="ICE assessment",
        choices=[
            ("performed", "Performed"),
            ("unarousable", "Unarousable: cannot perform (scores 0)"),
            ("not_performed", "Not performed"),
        ],
        initial="performed",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, _domain, label in self.ICE_QUESTIONS:
            self.fields[name] = forms.ChoiceField(
                label=label, choices=ICE_CHOICES, required=False, widget=forms.RadioSelect
            )
        self.order_fields(
            ["client_uuid", "observed_at", "ice_status"] + [n for n, _d, _l in self.ICE_QUESTIONS]
        )

    def question_fields(self):
        return [self[name] for name, _d, _l in self.ICE_QUESTIONS]

    def domain_fields(self):
        return [self[n] for n in self.DOMAIN_FIELDS]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        status = data.get("ice_status")
        answered = [n for n, _d, _l in self.ICE_QUESTIONS if data.get(n)]
        if status == "performed":
            for name, _d, _l in self.ICE_QUESTIONS:
                if not data.get(name):
                    self.add_error(name, "Answer Correct, Wrong or Not assessable.")
            if data.get("consciousness") == "unarousable":
                self.add_error(
                    "ice_status",
                    "An unarousable patient cannot answer the ICE questions: "
                    "choose “Unarousable: cannot perform”.",
                )
        elif answered:
            self.add_error(
                "ice_status", "ICE answers were entered but the assessment is marked as not performed."
            )
        if status == "unarousable" and data.get("consciousness") not in ("unarousable", None):
            self.add_error(
                "consciousness",
                "ICE was marked “unarousable” but the level of consciousness is "
                f"“{CONSCIOUSNESS_LABELS.get(data.get('consciousness'), '')}”.",
            )
        return data

    def payload(self) -> dict[str, Any]:
        d = self.cleaned_data
        p = self.domains_payload()
        status = d["ice_status"]
        if status == "performed":
            ice: dict[str, int | None] = {}
            for _n, domain, _l in self.ICE_QUESTIONS:
                ice.setdefault(domain, 0)
            for name, domain, _l in self.ICE_QUESTIONS:
                answer = d.get(name)
                if answer == NA or ice[domain] is None:
                    ice[domain] = None
                elif answer == YES:
                    ice[domain] += 1
            p["ice"] = ice
        elif status == "unarousable":
            p["ice"] = {"orientation": 0, "naming": 0, "commands": 0, "writing": 0, "attention": 0}
        else:
            p["ice"] = None
        return p

    @classmethod
    def initial_from_payload(cls, payload: dict[str, Any]) -> dict[str, Any]:
        initial = super().initial_from_payload(payload)
        ice = payload.get("ice")
        if ice is None:
            initial["ice_status"] = "not_performed"
            return initial
        initial["ice_status"] = "performed"
        counts: dict[str, int] = {}
        for name, domain, _l in cls.ICE_QUESTIONS:
            score = ice.get(domain)
            if score is None:
                initial[name] = NA
            else:
                counts[domain] = counts.get(domain, 0) + 1
                initial[name] = YES if counts[domain] <= score else NO
        return initial


class CapdForm(NeuroDomainsForm):
    """CAPD (children < 12 y or developmental delay; CAPD-1, ICE-4): 8 items 0–4 over the shift (B-5)."""

    TITLE = "Neuro check (CAPD)"
    SAVE_LABEL = "Save CAPD"
    FIELD_MAP = {"capd_items": "capd_status"}

    capd_status = forms.ChoiceField(
        label="CAPD assessment",
        choices=[("performed", "Performed"), ("not_performed", "Not performed / unable to perform")],
        initial="performed",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i, (question, reverse) in enumerate(CAPD_ITEMS, start=1):
            self.fields[f"capd_{i}"] = forms.ChoiceField(
                label=f"{i}. {question}",
                choices=_capd_choices(reverse),
                required=False,
                widget=forms.RadioSelect,
            )
        self.fields["observed_at"].help_text = "End of the shift the CAPD covers (B-5)"
        self.order_fields(["client_uuid", "observed_at", "capd_status"] + [f"capd_{i}" for i in range(1, 9)])

    def question_fields(self):
        return [self[f"capd_{i}"] for i in range(1, 9)]

    def domain_fields(self):
        return [self[n] for n in self.DOMAIN_FIELDS]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("capd_status") == "performed":
            for i in range(1, 9):
                if data.get(f"capd_{i}") in (None, ""):
                    self.add_error(f"capd_{i}", "Choose how often (Never … Always).")
        return data

    def payload(self) -> dict[str, Any]:
        d = self.cleaned_data
        p = self.domains_payload()
        p["capd_items"] = (
            [int(d[f"capd_{i}"]) for i in range(1, 9)] if d["capd_status"] == "performed" else None
        )
        return p

    @classmethod
    def initial_from_payload(cls, payload: dict[str, Any]) -> dict[str, Any]:
        initial = super().initial_from_payload(payload)
        items = payload.get("capd_items")
        initial["capd_status"] = "performed" if items else "not_performed"
        for i, v in enumerate(items or [], start=1):
            initial[f"capd_{i}"] = str(v)
        return initial


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

    anc_per_uL = _whole("ANC", "/µL (e.g. 450, not 0.45)")
    platelets_10e9_L = _decimal("Platelets", "×10⁹/L")
    hgb_g_dL = _decimal("Haemoglobin", "g/dL")
    crp = _decimal("CRP")
    crp_unit = forms.ChoiceField(
        label="CRP unit",
        choices=[("mg_L", "mg/L"), ("mg_dL", "mg/dL")],
        initial="mg_L",
        widget=forms.RadioSelect,
    )
    ferritin_ng_mL = _decimal("Ferritin", "ng/mL")
    il6_pg_mL = _decimal("IL-6", "pg/mL (rises after tocilizumab)")
    fibrinogen_mg_dL = _decimal("Fibrinogen", "mg/dL")
    ldh_U_L = _decimal("LDH", "U/L")
    alt_U_L = _decimal("ALT", "U/L")
    ast_U_L = _decimal("AST", "U/L")
    creatinine = _decimal("Creatinine")
    creatinine_unit = forms.ChoiceField(
        label="Creatinine unit",
        choices=[("mg_dL", "mg/dL"), ("umol_L", "µmol/L")],
        initial="mg_dL",
        widget=forms.RadioSelect,
    )
    igg_mg_dL = _decimal("IgG", "mg/dL")
    cd19_per_uL = _decimal("CD19 B cells", "/µL")
    upcr_mg_mg = _decimal("Urine protein/creatinine", "mg/mg")

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
            _put(p, key, d.get(key))
        if d.get("crp") is not None:
            _put(p, f"crp_{d.get('crp_unit') or 'mg_L'}", d["crp"])
        if d.get("creatinine") is not None:
            _put(p, f"creatinine_{d.get('creatinine_unit') or 'mg_dL'}", d["creatinine"])
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


class MedicationForm(ObservationForm):
    KIND = "medication"
    TITLE = "Medication given"
    SAVE_LABEL = "Save medication"

    drug = forms.ChoiceField(
        label="Drug", choices=[("", "— choose —")] + [(d, d.replace("_", " ")) for d in vocabulary.DRUGS]
    )
    dose_mg = _decimal("Dose", "mg")
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
        _put(p, "dose_mg", d.get("dose_mg"))
        p["for_crs_icans"] = bool(d.get("for_crs_icans"))
        _put(p, "route", d.get("route"))
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
        _put(p, "attributed_to", d.get("attributed_to"))
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
