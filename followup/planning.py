"""A planned course: the eligibility work-up form (ELIG-1, ELIG-2, ELIG-4) and the drugs last given
for the pre-leukapheresis washout checklist (ELIG-3); what is still missing comes from the clinical
core (``carttrack.followup.eligibility`` and ``carttrack.followup.washout``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.db import transaction

from carttrack.followup.eligibility import (
    WORKUP_ITEMS,
    EligibilityStatus,
    PriorRegimen,
    eligibility_status,
)
from carttrack.followup.steroids import MG_EQUIVALENT_TO_PREDNISOLONE_5, normalise_drug_name
from carttrack.followup.washout import WashoutItem, still_missing, washout_checklist
from carttrack.followup.wording import first_upper
from monitoring.forms.base import RecordedAtField
from monitoring.models import Indication, Patient

from .models import PlannedCourse

HISTORY_ROWS = 5
LAST_GIVEN_ROWS = 6
RESPONSES = [
    ("", "Not recorded"),
    ("none", "No response"),
    ("worse", "Worse"),
    ("partial", "Partial"),
    ("complete", "Complete"),
]
ADHERENCE = [("", "Not recorded"), ("yes", "Adherent"), ("no", "Not adherent")]


class PlanForm(forms.Form):
    # Wall times of the care team's zone through the clinical core's one rule (INPUT-12).
    planned_leukapheresis_at = RecordedAtField(
        label="Planned leukapheresis",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    latent_infection = forms.BooleanField(label="Latent HBV, HCV or HIV found", required=False)

    def __init__(self, *args: Any, plan: PlannedCourse | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        workup = plan.workup if plan else {}
        if plan and plan.planned_leukapheresis_at:
            self.fields["planned_leukapheresis_at"].initial = plan.planned_leukapheresis_at
        self.fields["latent_infection"].initial = bool(workup.get("latent_infection"))
        for key, text in WORKUP_ITEMS:
            self.fields[f"w_{key}"] = forms.CharField(
                label=first_upper(text), required=False, initial=workup.get(key, ""), max_length=300
            )
        history = workup.get("history") or []
        for i in range(HISTORY_ROWS):
            row = history[i] if i < len(history) else {}
            self.fields[f"h_{i}_drug"] = forms.CharField(
                label="Drug or regimen", required=False, initial=row.get("drug", ""), max_length=80
            )
            self.fields[f"h_{i}_start"] = forms.DateField(
                label="From",
                required=False,
                initial=row.get("start"),
                widget=forms.DateInput(attrs={"type": "date"}),
            )
            self.fields[f"h_{i}_end"] = forms.DateField(
                label="To",
                required=False,
                initial=row.get("end"),
                widget=forms.DateInput(attrs={"type": "date"}),
            )
            self.fields[f"h_{i}_dose"] = forms.CharField(
                label="Dose", required=False, initial=row.get("dose", ""), max_length=80
            )
            self.fields[f"h_{i}_response"] = forms.ChoiceField(
                label="Response", choices=RESPONSES, required=False, initial=row.get("response") or ""
            )
            self.fields[f"h_{i}_adherent"] = forms.ChoiceField(
                label="Adherence",
                choices=ADHERENCE,
                required=False,
                initial={True: "yes", False: "no"}.get(row.get("adherent"), ""),
            )
            self.fields[f"h_{i}_induction"] = forms.BooleanField(
                label="Induction regimen", required=False, initial=bool(row.get("induction"))
            )
        last = list((plan.last_given if plan else {}).items())
        for i in range(LAST_GIVEN_ROWS):
            drug, info = last[i] if i < len(last) else ("", {})
            self.fields[f"l_{i}_drug"] = forms.CharField(
                label="Drug",
                required=False,
                initial=drug,
                max_length=80,
                widget=forms.TextInput(attrs={"list": "followup-drugs"}),
            )
            self.fields[f"l_{i}_at"] = RecordedAtField(
                label="Last dose",
                required=False,
                initial=info.get("at"),
                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            )
            self.fields[f"l_{i}_mg"] = forms.DecimalField(
                label="Current mg/day (glucocorticoids)",
                required=False,
                min_value=0,
                initial=info.get("mg_per_day"),
            )

        for name, field in self.fields.items():
            if name[:2] in ("h_", "l_"):
                row = int(name.split("_")[1]) + 1
                field.widget.attrs.setdefault("aria-label", f"{field.label} (row {row})")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for i in range(LAST_GIVEN_ROWS):
            drug = (data.get(f"l_{i}_drug") or "").strip()
            if drug and data.get(f"l_{i}_at") is None and data.get(f"l_{i}_mg") is None:
                self.add_error(f"l_{i}_at", f"{drug}: give the time of the last dose")
            if (
                data.get(f"l_{i}_mg") is not None
                and normalise_drug_name(drug) not in MG_EQUIVALENT_TO_PREDNISOLONE_5
            ):
                self.add_error(
                    f"l_{i}_mg",
                    "mg/day is asked for glucocorticoids only (one of: "
                    + ", ".join(MG_EQUIVALENT_TO_PREDNISOLONE_5)
                    + ")",
                )
        return data

    def rows(self, prefix: str, count: int, parts: tuple[str, ...]) -> list[dict[str, forms.BoundField]]:
        return [{p: self[f"{prefix}_{i}_{p}"] for p in parts} for i in range(count)]

    def history_rows(self):
        return self.rows(
            "h", HISTORY_ROWS, ("drug", "start", "end", "dose", "response", "adherent", "induction")
        )

    def last_given_rows(self):
        return self.rows("l", LAST_GIVEN_ROWS, ("drug", "at", "mg"))

    def workup_fields(self):
        return [self[f"w_{key}"] for key, _ in WORKUP_ITEMS]


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def plan_save(*, patient: Patient, data: dict[str, Any], plan: PlannedCourse | None) -> PlannedCourse:
    """Store the planned course's work-up and last doses (one transaction)."""
    workup: dict[str, Any] = {key: (data.get(f"w_{key}") or "").strip() for key, _ in WORKUP_ITEMS}
    workup["latent_infection"] = bool(data.get("latent_infection"))
    history = []
    for i in range(HISTORY_ROWS):
        drug = (data.get(f"h_{i}_drug") or "").strip()
        if drug:
            history.append(
                {
                    "drug": drug,
                    "start": _iso(data.get(f"h_{i}_start")),
                    "end": _iso(data.get(f"h_{i}_end")),
                    "dose": (data.get(f"h_{i}_dose") or "").strip(),
                    "response": data.get(f"h_{i}_response") or None,
                    "adherent": {"yes": True, "no": False}.get(data.get(f"h_{i}_adherent") or ""),
                    "induction": bool(data.get(f"h_{i}_induction")),
                }
            )
    workup["history"] = history
    last_given: dict[str, dict[str, Any]] = {}
    for i in range(LAST_GIVEN_ROWS):
        drug = (data.get(f"l_{i}_drug") or "").strip()
        if drug:
            mg = data.get(f"l_{i}_mg")
            last_given[drug] = {
                "at": _iso(data.get(f"l_{i}_at")),
                "mg_per_day": float(mg) if mg is not None else None,
            }
    with transaction.atomic(durable=True):
        if plan is None:
            plan = PlannedCourse(patient=patient, care_team_id=patient.care_team_id)
        plan.planned_leukapheresis_at = data.get("planned_leukapheresis_at")
        plan.workup = workup
        plan.last_given = last_given
        plan.save()
    return plan


@dataclass
class PlanStatus:
    eligibility: EligibilityStatus
    washout: tuple[WashoutItem, ...]
    washout_missing: tuple[WashoutItem, ...]
    washout_note: str

    @property
    def missing(self) -> list[str]:
        """Every item still missing, as the planned-course page lists them (ELIG-5 refuses on these)."""
        return [
            *(f"Work-up: {m}" for m in self.eligibility.missing),
            *(f"Washout: {w.text}" for w in self.washout_missing),
            *([self.washout_note] if self.washout_note else []),
        ]


def _regimens(history: list[dict]) -> list[PriorRegimen]:
    return [
        PriorRegimen(
            drug=row["drug"],
            start=date.fromisoformat(row["start"]) if row.get("start") else None,
            end=date.fromisoformat(row["end"]) if row.get("end") else None,
            dose=row.get("dose") or "",
            response=row.get("response"),
            adherent=row.get("adherent"),
            induction=bool(row.get("induction")),
        )
        for row in history
    ]


def plan_status(plan: PlannedCourse, patient: Patient) -> PlanStatus:
    eligibility = eligibility_status(
        plan.workup,
        _regimens(plan.workup.get("history") or []),
        lupus_nephritis=patient.indication == Indication.LUPUS_NEPHRITIS,
    )
    if plan.planned_leukapheresis_at is None:
        return PlanStatus(eligibility, (), (), "Set the planned leukapheresis date to check the washout.")
    tz = ZoneInfo(patient.care_team.time_zone)  # the checklist's times are shown in the team's zone
    last = {
        d: datetime.fromisoformat(i["at"]).astimezone(tz) for d, i in plan.last_given.items() if i.get("at")
    }
    steroid_doses = {
        d: i["mg_per_day"] for d, i in plan.last_given.items() if i.get("mg_per_day") is not None
    }
    items = washout_checklist(plan.planned_leukapheresis_at.astimezone(tz), last, steroid_doses or None)
    return PlanStatus(eligibility, items, still_missing(items), "")
