"""The neuro checks: the ICANS domains shared by both forms, the ICE form (age ≥ 12 y) and the CAPD
form (children < 12 y or developmental delay), each turned into the case-file ``neuro`` payload."""

from __future__ import annotations

from typing import Any

from django import forms

from .base import NA, NO, YES, ObservationForm

ICE_CHOICES = [(YES, "Correct"), (NO, "Wrong"), (NA, "Not assessable")]
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
