"""Management suggestions (MGMT) by current grade and context, with computed doses and limits.

Suggestions follow the *current* grades (A-10). Codes are the stable ids of vocabulary.SUGGESTION_CODES.
A suggestion blocked by a limit is returned in `withheld` with the reason (tocilizumab ≤ 3 doses in
24 h and ≤ 4 per course, A-13; no tocilizumab for isolated ICANS, TOCI-4; no prophylactic G-CSF in
autoimmune disease, INF-8/MGMT-25)."""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from .dose_limits import tocilizumab_allowance
from .observations import PatientInfo
from .results import Suggestion, UrgentFinding
from .settings import DecisionSettings
from .vocabulary import SUGGESTION_CODES

DEXAMETHASONE_MG = 10.0  # MGMT-5, MGMT-6, MGMT-13, MGMT-14: dexamethasone 10 mg IV [Santomasso 2021]
MP_CRS_G4_MG = 500.0  # MGMT-7 methylprednisolone 500 mg IV q12h × 3 d, taper [Santomasso 2021] p5
MP_ICANS_G4_MG = 1000.0  # MGMT-15 high-dose methylprednisolone 1000 mg/day [PMC10573998]
LEVETIRACETAM_MG = 750.0  # MGMT-17 levetiracetam 750 mg q12h [Neelapu 2018]
NEUTROPENIA_ANC_BELOW = 500.0  # INF-2 fever in neutropenia ANC < 500/µL [Santomasso 2021] p4 [Brudno 2016]
G_CSF_LATE_DAY = 14  # INF-8 G-CSF if ANC < 500 beyond day +14 [Blood How I treat]
EARLY_WINDOW_HOURS = 31 * 24.0  # prophylactic G-CSF relevant during the early ICAHT window (day 0–30)
ICAHT_G_CSF_GRADE = 3  # INF-8 [ASH-SAP]: consider G-CSF for severe (grade ≥ 3) neutropenia

_ORDER = {code: i for i, code in enumerate(SUGGESTION_CODES)}


def tocilizumab_dose(weight_kg: float, s: DecisionSettings) -> tuple[float, str]:
    """A-12: actual body weight; 8 mg/kg, 12 mg/kg under 30 kg (setting), max 800 mg; no vial rounding."""
    per_kg = s.tocilizumab_mg_per_kg
    if s.tocilizumab_low_weight_rule and weight_kg < s.tocilizumab_low_weight_kg:
        per_kg = s.tocilizumab_low_weight_mg_per_kg
    raw = weight_kg * per_kg
    dose = round(min(raw, s.tocilizumab_max_dose_mg), 2)
    capped = " (capped at 800 mg)" if raw > s.tocilizumab_max_dose_mg else ""
    return (
        dose,
        f"{dose:g} mg IV over 1 h ({per_kg:g} mg/kg × {weight_kg:g} kg{capped}); "
        "repeat q8h if no improvement",
    )


@lru_cache(maxsize=4096)
def _suggestion(
    code: str,
    text: str,
    dose: float | None,
    dose_text: str | None,
    source: str,
    withheld: bool,
    reason: str | None,
) -> Suggestion:
    """Suggestions are immutable: identical ones are shared (keeps re-evaluation cheap)."""
    return Suggestion(code, text, dose, dose_text, source, withheld, reason)


class Context(NamedTuple):
    """Everything the suggestion rules read (immutable)."""

    patient: PatientInfo
    settings: DecisionSettings
    as_of: float
    autoimmune: bool
    crs: int | None
    crs_fever_hours: float
    raw_fever_now: bool
    hypotension: bool
    pressors_active: bool
    sepsis_alert: bool
    icans: int | None
    seizure_grade: int
    icp_grade: int
    icaht_early: int | None
    icaht_late: int | None
    latest_anc: float | None
    toci_times: tuple[float, ...]
    toci_in_episode: int
    steroid_times: tuple[float, ...]
    hematotox_high: bool | None
    iec_hs: bool
    licats: bool
    ivig_code: str | None
    seizure_risk_flag: bool
    deceased: bool = False
    urgent: tuple[UrgentFinding, ...] = ()


class _Builder:
    def __init__(self) -> None:
        self.active: dict[str, Suggestion] = {}
        self.withheld: dict[str, Suggestion] = {}

    def add(
        self, code: str, text: str, source: str, dose: float | None = None, dose_text: str | None = None
    ) -> None:
        old = self.active.get(code)
        if old is not None and (old.dose_mg or 0.0) >= (dose or 0.0):
            return
        self.active[code] = _suggestion(code, text, dose, dose_text, source, False, None)

    def withhold(
        self,
        code: str,
        text: str,
        source: str,
        reason: str,
        dose: float | None = None,
        dose_text: str | None = None,
    ) -> None:
        if code not in self.withheld:
            self.withheld[code] = _suggestion(code, text, dose, dose_text, source, True, reason)

    def result(self) -> tuple[tuple[Suggestion, ...], tuple[Suggestion, ...]]:
        for code in self.active:
            self.withheld.pop(code, None)
        act = tuple(sorted(self.active.values(), key=lambda x: _ORDER.get(x.code, 99)))
        wh = tuple(sorted(self.withheld.values(), key=lambda x: _ORDER.get(x.code, 99)))
        return act, wh


def build(c: Context) -> tuple[tuple[Suggestion, ...], tuple[Suggestion, ...]]:
    s = c.settings
    b = _Builder()
    if c.deceased:  # a recorded death ends the course; nothing is suggested
        return (), ()
    crs = c.crs or 0
    icans = c.icans or 0
    asco_crs = "MGMT-3…MGMT-10 [Santomasso 2021]"
    asco_icans = "MGMT-11…MGMT-16 [Santomasso 2021]"
    dose, dose_txt = tocilizumab_dose(c.patient.weight_kg, s)
    allowance = tocilizumab_allowance(c.toci_times, c.as_of, s)
    if allowance.next_not_before_t is not None:
        dose_txt += f"; next dose not before t={allowance.next_not_before_t:+.1f} h (8-h interval)"
    limit = allowance.blocked_reason

    # ---------------------------------------------------------------- CRS
    if crs >= 1:
        b.add("supportive_care", "Supportive care: IV hydration, symptomatic treatment", asco_crs)
        b.add(
            "antipyretic",
            "Antipyretic (acetaminophen); avoid NSAIDs/steroids prophylactically",
            "MGMT-21 [Brudno 2016]",
        )
        b.add("iv_fluids", "IV hydration / fluid bolus for hypotension", asco_crs)
        b.add(
            "infection_workup",
            "Blood and urine cultures, chest X-ray; CBC, CMP, CRP, ferritin, coagulation",
            asco_crs,
        )
    if crs == 1 and c.crs_fever_hours > s.persistent_fever_hours:
        if limit is None:
            b.add(
                "consider_tocilizumab",
                "Fever > 3 days: manage as grade 2, consider tocilizumab",
                asco_crs,
                dose,
                dose_txt,
            )
        else:
            b.withhold("consider_tocilizumab", "Consider tocilizumab", asco_crs, limit, dose, dose_txt)
    want_toci = crs >= 2 or (icans >= 1 and crs >= 1)
    if want_toci:
        src = "TOCI-1, TOCI-3, A-12/A-13 [Santomasso 2021] [Kymriah label]"
        if limit is None:
            b.add("tocilizumab", "Tocilizumab 8 mg/kg IV (12 mg/kg < 30 kg), max 800 mg", src, dose, dose_txt)
        else:
            b.withhold("tocilizumab", "Tocilizumab", src, limit, dose, dose_txt)
            b.add(
                "alternative_immunosuppression",
                "Tocilizumab limit reached: escalate steroids / alternative (anakinra, siltuximab, ...)",
                "TOCI-3, A-13 [Santomasso 2021]",
            )
    if crs >= 2:
        b.add("telemetry_pulse_oximetry", "Continuous telemetry and pulse oximetry", asco_crs)
        b.add("notify_physician_urgent", f"CRS grade {crs}: urgent physician review", "ALERT-1")
        if crs == 2 and (c.toci_in_episode >= 1 or limit is not None):
            b.add(
                "dexamethasone",
                "Persistent grade 2 CRS after tocilizumab: dexamethasone",
                asco_crs,
                DEXAMETHASONE_MG,
                "10 mg IV q12–24h",
            )
    if crs >= 3:
        b.add("icu_transfer", f"CRS grade {crs}: ICU admission", "MGMT-20 [Santomasso 2021] p5")
        b.add("echocardiogram", "Echocardiogram and haemodynamic monitoring", asco_crs)
        if crs == 3 and limit is None:
            b.add(
                "dexamethasone",
                "Dexamethasone 10 mg IV q6h, rapid taper on improvement",
                asco_crs,
                DEXAMETHASONE_MG,
                "10 mg IV q6h",
            )
        else:
            b.add(
                "high_dose_methylprednisolone",
                "High-dose methylprednisolone"
                + (" (refractory grade 3: manage as grade 4)" if crs == 3 else ""),
                asco_crs,
                MP_CRS_G4_MG,
                "500 mg IV q12h × 3 d -> 250 mg q12h × 2 d -> 125 mg q12h × 2 d -> 60 mg q12h until CRS ≤ G1",
            )
    if c.pressors_active or (crs >= 3 and c.hypotension):
        b.add(
            "vasopressor_support",
            "Vasopressor support (norepinephrine first line)",
            "MGMT-10 [Santomasso 2021] [Brudno 2016]",
        )
    if c.sepsis_alert:
        b.add(
            "sepsis_evaluation",
            "Not CRS by ASTCT criteria (no fever): evaluate sepsis / other cause",
            "CRS-19, A-3",
        )
        b.add("infection_workup", "Blood cultures, source search", "CRS-19, INF-2")
        b.add("notify_physician_urgent", "Hypotension/hypoxia without fever: urgent review", "ALERT-6, A-3")
        if c.hypotension:
            b.add("iv_fluids", "Fluid bolus for hypotension", "MGMT-21 [Brudno 2016]")
    # ---------------------------------------------------------------- neutropenic fever
    if c.raw_fever_now and c.latest_anc is not None and c.latest_anc < NEUTROPENIA_ANC_BELOW:
        src = "INF-2 [Santomasso 2021] p4 [Brudno 2016]"
        b.add(
            "neutropenic_fever_antibiotics",
            "Fever with ANC < 500/µL: cultures + immediate broad-spectrum "
            "antibiotics per febrile-neutropenia policy",
            src,
        )
        b.add("infection_workup", "Blood cultures, source search", src)
        if not c.autoimmune:
            b.add("g_csf_consider", "Neutropenic fever: consider G-CSF (not GM-CSF)", asco_crs)
    # ---------------------------------------------------------------- ICANS
    if icans >= 1:
        b.add("aspiration_precautions", "Aspiration precautions, head of bed elevated", asco_icans)
        b.add("neuro_consult", "Neurology consultation; ICE/CAPD at least twice daily", asco_icans)
        b.add("supportive_care", "Supportive care", asco_icans)
        if crs == 0:
            b.withhold(
                "tocilizumab",
                "Tocilizumab",
                "TOCI-4 [Santomasso 2021] p6–7",
                "not indicated for isolated ICANS (no concurrent CRS)",
                dose,
                dose_txt,
            )
    if icans >= 2:
        b.add("neuroimaging", "MRI brain (CT if MRI unavailable)", asco_icans)
        b.add("eeg", "EEG", asco_icans)
        b.add("notify_physician_urgent", f"ICANS grade {icans}: urgent physician review", "ALERT-1")
        if (
            icans == 2
            and crs == 0
            and any(p in c.patient.product.lower() for p in s.high_risk_icans_products)
        ):
            b.add(
                "dexamethasone",
                "High-risk product, ICANS grade 2: consider dexamethasone",
                asco_icans,
                DEXAMETHASONE_MG,
                "10 mg IV × 2 doses, repeat q6–12h if no improvement",
            )
        if icans == 2 and crs >= 2:
            b.add(
                "consider_icu_transfer",
                "ICANS grade 2 with CRS ≥ 2: consider ICU",
                "MGMT-20 [Santomasso 2021] p7",
            )
    if icans >= 3:
        b.add("icu_transfer", f"ICANS grade {icans}: ICU admission", "MGMT-20 [Santomasso 2021] p7")
        b.add("lumbar_puncture", "Lumbar puncture", asco_icans)
        if icans == 3:
            b.add(
                "dexamethasone",
                "Dexamethasone 10 mg IV q6–12h (or methylprednisolone 1 mg/kg q12h)",
                asco_icans,
                DEXAMETHASONE_MG,
                "10 mg IV q6–12h",
            )
    if icans >= 4:
        b.add(
            "high_dose_methylprednisolone",
            "High-dose methylprednisolone",
            "MGMT-15 [PMC10573998]",
            MP_ICANS_G4_MG,
            "1000 mg IV per day",
        )
    if c.seizure_grade >= 3:
        b.add(
            "antiseizure_treatment",
            "Seizure: benzodiazepine + levetiracetam (± further antiseizure drugs)",
            "MGMT-15 [Neelapu 2018]",
            LEVETIRACETAM_MG,
            "levetiracetam 750 mg IV q12h",
        )
    if c.icp_grade >= 4:
        b.add(
            "raised_icp_management",
            "Cerebral oedema: hyperosmolar therapy, hyperventilation, neurosurgery",
            "MGMT-15 [PMC10573998]",
        )
    if c.seizure_risk_flag:
        b.add(
            "seizure_prophylaxis_levetiracetam",
            "Seizure prophylaxis (CNS involvement / prior seizures)",
            "MGMT-17 [Neelapu 2018] [Greco 2024]",
            LEVETIRACETAM_MG,
            "750 mg PO/IV q12h",
        )
    # ---------------------------------------------------------------- steroids
    steroid_recent = any(0 <= c.as_of - t <= s.steroid_watch_hours for t in c.steroid_times)
    steroid_suggested = "dexamethasone" in b.active or "high_dose_methylprednisolone" in b.active
    if steroid_recent or steroid_suggested:
        b.add(
            "antifungal_prophylaxis",
            "On steroids: strongly consider antifungal prophylaxis",
            "MGMT-22, INF-7 [Santomasso 2021]",
        )
    if steroid_recent:
        b.add(
            "steroid_taper_plan",
            "Steroid taper plan; watch for ICANS flare during taper",
            "MGMT-22 [Santomasso 2021] p9",
        )
    # ---------------------------------------------------------------- ICAHT / G-CSF
    early, late = c.icaht_early or 0, c.icaht_late or 0
    anc_low = c.latest_anc is not None and c.latest_anc < NEUTROPENIA_ANC_BELOW
    if (
        early >= ICAHT_G_CSF_GRADE
        or late >= ICAHT_G_CSF_GRADE
        or (anc_low and c.as_of >= G_CSF_LATE_DAY * 24.0)
    ):
        b.add(
            "g_csf_consider",
            "Severe/prolonged neutropenia: consider therapeutic G-CSF",
            "INF-8 [ASH-SAP] [Blood How I treat]",
        )
    if anc_low or early >= 4:
        b.add(
            "antifungal_prophylaxis",
            "ANC < 500/µL: antifungal prophylaxis (mould-active if > 28 days)",
            "INF-7 [Blood How I treat]",
        )
    if c.hematotox_high and c.as_of < EARLY_WINDOW_HOURS:
        src = "INF-8, MGMT-25 [Rejeski 2023] [Greco 2024]"
        if c.autoimmune:
            b.withhold(
                "prophylactic_g_csf",
                "Prophylactic G-CSF",
                src,
                "not recommended in autoimmune disease (possible flare); CAR-HEMATOTOX not validated there",
            )
        else:
            b.add("prophylactic_g_csf", "CAR-HEMATOTOX high: prophylactic G-CSF 5 µg/kg from day +2", src)
    # ---------------------------------------------------------------- screens
    if c.iec_hs:
        b.add("iec_hs_evaluation", "Evaluate for IEC-HS / HLH-like syndrome", "IECHS-3, C-3")
        b.add("notify_physician_urgent", "IEC-HS screen positive: urgent review", "ALERT-8")
    if c.licats:
        b.add(
            "licats_evaluation",
            "Possible LICATS: evaluate (exclude infection, drug toxicity, flare)",
            "LICATS-4, D-5",
        )
        b.add("infection_workup", "Exclude infection", "LICATS-4")
    if c.ivig_code == "ivig":
        b.add(
            "ivig",
            "IgG ≤ 400 mg/dL with serious/recurrent infection: IVIG 0.4–0.5 g/kg",
            "BCELL-2, C-4",
            None,
            f"{0.4 * c.patient.weight_kg:g}–{0.5 * c.patient.weight_kg:g} g",
        )
    elif c.ivig_code == "consider_ivig":
        b.add("consider_ivig", "IgG ≤ 400 mg/dL: consider IVIG", "BCELL-2, C-4")
    # ---------------------------------------------------------------- urgent findings (A-15, B-9)
    for finding in c.urgent:
        for code in finding.suggestions:
            b.add(code, f"{finding.text}: {_FINDING_ACTION[code]}", finding.source)
    quiet = not c.sepsis_alert and not c.urgent
    if crs == 0 and icans == 0 and quiet:
        b.add(
            "continue_monitoring",
            "Continue monitoring (vitals q4h, ICE/CAPD twice daily)",
            "MGMT-23, MON-4, MON-6",
        )
    elif c.crs is None and c.icans is None and quiet:
        b.add("continue_monitoring", "Continue monitoring", "MGMT-23")
    return b.result()


_FINDING_ACTION = {
    "notify_physician_urgent": "urgent physician review",
    "neuro_consult": "neurology consultation",
    "neuroimaging": "neuroimaging (CT/MRI brain)",
}
