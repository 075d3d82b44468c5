"""Typed follow-up observations (CASE-7), frozen and already validated.

Parsing (and every range) is in ``parsing.py``; this module holds the types only, so that
``carttrack.observations`` can add them to its ``Observation`` union without an import cycle.
Every type has ``t_hours`` (hours after this course's infusion; ≤ 0 is the baseline, of which the
latest of each kind is used), ``index`` (the observation's position or database id) and ``kind``.

Kinds:
- ``sledai``: one SLEDAI-2K assessment with PGA and the two extra LLDAS fields.
- ``medication_status``: the complete current regimen, replacing the previous one.
- ``myositis_core_set``: the six ACR/EULAR core-set measures (TIS).
- ``ssc_assessment``: mRSS and the revised EUSTAR activity index items, FVC.
The new lab fields and the ``flare_declared`` event are on ``carttrack.observations.Lab`` / ``Event``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .steroids import DrugClass, drug_class


@dataclass(frozen=True, slots=True)
class SledaiEntry:
    """`items`: the 24 descriptor codes in the SLEDAI-2K order with True / False / None (not assessed).
    `window_days` None = not recorded (the site setting applies, G-3)."""

    t_hours: float
    items: tuple[tuple[str, bool | None], ...]
    index: int | None = None
    attributed_to_lupus: tuple[str, ...] = ()
    licats: tuple[str, ...] = ()
    hemolytic_anemia: bool | None = None
    gi_activity: bool | None = None
    pga: float | None = None
    window_days: int | None = None

    kind = "sledai"

    def item(self, code: str) -> bool | None:
        for name, value in self.items:
            if name == code:
                return value
        return None


@dataclass(frozen=True, slots=True)
class DrugDose:
    """One drug of a regimen; at most one of mg_per_day / mg_per_week (both None = dose not recorded)."""

    drug: str
    mg_per_day: float | None = None
    mg_per_week: float | None = None
    investigational: bool = False

    @property
    def drug_class(self) -> DrugClass:
        cls = drug_class(self.drug, investigational=self.investigational)
        return cls if cls is not None else DrugClass.INVESTIGATIONAL

    @property
    def daily_mg(self) -> float | None:
        """mg per day (a weekly dose ÷ 7); None when no dose was recorded."""
        if self.mg_per_day is not None:
            return self.mg_per_day
        if self.mg_per_week is not None:
            return self.mg_per_week / 7.0
        return None

    @property
    def dose_text(self) -> str:
        if self.mg_per_day is not None:
            return f"{self.mg_per_day:g} mg/day"
        if self.mg_per_week is not None:
            return f"{self.mg_per_week:g} mg/week"
        return "dose not recorded"

    @property
    def label(self) -> str:
        return self.drug.replace("_", " ")


@dataclass(frozen=True, slots=True)
class MedicationStatus:
    t_hours: float
    drugs: tuple[DrugDose, ...]
    index: int | None = None

    kind = "medication_status"

    def dose_of(self, drug: str) -> DrugDose | None:
        for d in self.drugs:
            if d.drug == drug:
                return d
        return None


@dataclass(frozen=True, slots=True)
class MyositisCoreSet:
    """2016 ACR/EULAR core set; a measure not recorded is None. `juvenile` None = not stated."""

    t_hours: float
    index: int | None = None
    physician_global: float | None = None
    patient_global: float | None = None
    mmt8: float | None = None
    haq: float | None = None
    enzyme_U_L: float | None = None
    extramuscular: float | None = None
    juvenile: bool | None = None

    kind = "myositis_core_set"


@dataclass(frozen=True, slots=True)
class SscAssessment:
    """mRSS total (from the 17 sites when they were sent), EUSTAR-AI items (None = not recorded), FVC.
    CRP is in mg/dL (mg/L converted, the entered value kept in crp_entered_mg_L)."""

    t_hours: float
    index: int | None = None
    mrss: int | None = None
    mrss_sites: tuple[tuple[str, int], ...] | None = None
    delta_skin: bool | None = None
    digital_ulcers: bool | None = None
    tendon_friction_rubs: bool | None = None
    crp_mg_dL: float | None = None
    crp_entered_mg_L: float | None = None
    dlco_pct_predicted: float | None = None
    fvc_pct_predicted: float | None = None

    kind = "ssc_assessment"


FollowupObservation = SledaiEntry | MedicationStatus | MyositisCoreSet | SscAssessment
FOLLOWUP_KINDS: tuple[str, ...] = ("sledai", "medication_status", "myositis_core_set", "ssc_assessment")
