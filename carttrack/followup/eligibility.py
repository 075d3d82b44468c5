"""Eligibility work-up of a planned autoimmune course (ELIG-1, ELIG-2, ELIG-4): what is still
missing before the course can be planned, and whether lupus nephritis is refractory.

- ELIG-1 [Greco 2024]: pre-treatment activity (SLEDAI-2K, or BILAG where the centre scores it),
  organs involved, damage, every earlier regimen with its dates, dose, response and adherence,
  comorbidities and fitness.
- ELIG-2 [Refractory LN 2022]: refractory lupus nephritis = no change in, or worsening of,
  proteinuria and/or eGFR after 2 different standard-of-care induction regimens, each given for
  4–6 months to an adherent patient.
- ELIG-4 [Greco 2024] Tables 1, 6, 7: HBV, HCV and HIV screening (latent infection → antiviral
  prophylaxis), CNS involvement (→ anticonvulsant prophylaxis), irradiated blood products from 7 days
  before leukapheresis, no prophylactic G-CSF.
- INF-12 [Blood How I treat]; [ASH-SAP] Table 4: influenza and COVID-19 vaccines before apheresis
  (a note on every work-up; after the infusion the reminders of `reminders.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from .logic import Tri

# ELIG-2 [Refractory LN 2022]
REFRACTORY_LN_INDUCTION_REGIMENS = 2
INDUCTION_MIN_MONTHS = 4.0
DAYS_PER_MONTH = 365.25 / 12
# ELIG-1 and ELIG-4: the work-up items, in the order the screen lists them.
WORKUP_ITEMS: tuple[tuple[str, str], ...] = (
    ("pre_treatment_activity", "pre-treatment disease activity (SLEDAI-2K or BILAG)"),
    ("organs_involved", "organs involved"),
    ("damage", "damage already present"),
    ("comorbidities_fitness", "comorbidities and fitness"),
    ("hbv_hcv_hiv_screened", "HBV, HCV and HIV screening"),
    ("cns_involvement_assessed", "CNS involvement assessed (anticonvulsant prophylaxis if present)"),
    ("irradiated_blood_products_ordered", "irradiated blood products from 7 days before leukapheresis"),
    ("no_prophylactic_gcsf", "no prophylactic G-CSF planned"),
)
LATENT_INFECTION_NOTE = "latent HBV, HCV or HIV: antiviral prophylaxis required (ELIG-4)"
# INF-12: influenza and COVID-19 vaccines before apheresis (after the infusion: from month 3).
VACCINATION_NOTE = (
    "influenza and COVID-19 vaccines before leukapheresis; after the infusion not before month 3 (INF-12)"
)


@dataclass(frozen=True, slots=True)
class PriorRegimen:
    """One earlier drug or induction regimen (ELIG-1). `response` is "none", "worse", "partial" or
    "complete" (None = not recorded); `adherent` None = not recorded."""

    drug: str
    start: date | None
    end: date | None
    dose: str = ""
    response: str | None = None
    adherent: bool | None = None
    induction: bool = False

    @property
    def months(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).days / DAYS_PER_MONTH

    @property
    def incomplete(self) -> tuple[str, ...]:
        missing = [
            name
            for name, value in (
                ("start", self.start),
                ("end", self.end),
                ("dose", self.dose or None),
                ("response", self.response),
                ("adherence", self.adherent),
            )
            if value is None
        ]
        return tuple(missing)


@dataclass(frozen=True, slots=True)
class EligibilityStatus:
    missing: tuple[str, ...]
    refractory_ln: Tri  # None when it cannot be decided yet (or the course is not lupus nephritis)
    refractory_text: str
    notes: tuple[str, ...]


def refractory_ln(regimens: Sequence[PriorRegimen]) -> tuple[Tri, str]:
    """ELIG-2: at least 2 different induction regimens, each ≥ 4 months, adherent, without response."""
    induction = [r for r in regimens if r.induction]
    qualifying = {
        r.drug
        for r in induction
        if r.months is not None
        and r.months >= INDUCTION_MIN_MONTHS
        and r.adherent is True
        and r.response in ("none", "worse")
    }
    if len(qualifying) >= REFRACTORY_LN_INDUCTION_REGIMENS:
        return True, (
            f"refractory: {len(qualifying)} induction regimens ({', '.join(sorted(qualifying))})"
            " of ≥ 4 months, adherent, without response (ELIG-2)"
        )
    if not induction:
        return None, "not yet decided: record the induction regimens given (ELIG-2)"
    undecided = [r for r in induction if r.drug not in qualifying and r.incomplete]
    if undecided:
        return None, (
            "not yet decided: complete "
            + "; ".join(f"{r.drug} ({', '.join(r.incomplete)})" for r in undecided)
            + " (ELIG-2)"
        )
    return False, (
        f"not refractory by ELIG-2: {len(qualifying)} of {REFRACTORY_LN_INDUCTION_REGIMENS}"
        " induction regimens of ≥ 4 months, adherent, without response"
    )


def eligibility_status(
    items: dict[str, object], regimens: Sequence[PriorRegimen], *, lupus_nephritis: bool
) -> EligibilityStatus:
    """What is still missing (an item not answered; a regimen without its dates, dose, response or
    adherence; no regimen at all), and the refractory-LN verdict for a lupus-nephritis course."""
    missing = [label for key, label in WORKUP_ITEMS if items.get(key) in (None, "", False)]
    if not regimens:
        missing.append("treatment history (every earlier drug or induction regimen)")
    for r in regimens:
        if r.incomplete:
            missing.append(f"{r.drug}: {', '.join(r.incomplete)}")
    notes = ([LATENT_INFECTION_NOTE] if items.get("latent_infection") else []) + [VACCINATION_NOTE]
    if lupus_nephritis:
        verdict, text = refractory_ln(regimens)
        if verdict is None:
            missing.append("refractory lupus nephritis not yet decided")
    else:
        verdict, text = None, "not a lupus-nephritis course"
    return EligibilityStatus(tuple(missing), verdict, text, tuple(notes))
