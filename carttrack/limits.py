"""Hard physiological limits (impossible values -> ObservationError) and soft limits (plausible but
suspicious values -> SoftWarning). Hard limits are wide on purpose: they reject typing errors, not
sick patients. Per-device oxygen flow ranges and per-drug dose ranges narrow a field's hard limit
for one device or drug (cross-field rules, input_rules.py)."""

from __future__ import annotations

from dataclasses import dataclass

from .units import f_to_c
from .vocabulary import O2Device


@dataclass(frozen=True, slots=True)
class Limit:
    field: str
    low: float
    high: float
    unit: str
    low_open: bool = False  # the low end itself is excluded ("more than 0")

    def contains(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        return above and value <= self.high

    @property
    def text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if self.low_open:
            return f"more than {_fmt(self.low)} and at most {_fmt(self.high)}{unit}"
        return f"{_fmt(self.low)}–{_fmt(self.high)}{unit}"


@dataclass(frozen=True, slots=True)
class SoftWarning:
    field: str
    value: float
    message: str


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


_HARD: tuple[Limit, ...] = (
    Limit("t_hours", -8760.0, 87600.0, "h"),
    Limit("age_years", 0.0, 120.0, "years"),
    Limit("weight_kg", 0.3, 400.0, "kg"),
    Limit("home_o2_l_min", 0.0, 15.0, "L/min"),
    Limit("baseline_sbp", 30.0, 300.0, "mmHg"),
    Limit("temp_c", 25.0, 45.0, "°C"),
    Limit("temp_f", 77.0, 113.0, "°F"),
    Limit("hr", 20.0, 300.0, "/min"),
    Limit("sbp", 30.0, 300.0, "mmHg"),
    Limit("dbp", 10.0, 250.0, "mmHg"),
    Limit("map", 15.0, 250.0, "mmHg"),
    Limit("rr", 0.0, 120.0, "/min"),
    Limit("spo2", 0.0, 100.0, "%"),
    Limit("o2_flow_l_min", 0.0, 80.0, "L/min"),
    Limit("fio2", 0.21, 1.0, "(fraction; 21–100 % also accepted)"),
    Limit("dose_mg", 0.0, 100000.0, "mg"),
    Limit("anc_per_uL", 0.0, 200000.0, "/µL"),
    Limit("platelets_10e9_L", 0.0, 3000.0, "×10⁹/L"),
    Limit("hgb_g_dL", 1.0, 25.0, "g/dL"),
    Limit("crp_mg_L", 0.0, 1000.0, "mg/L"),
    Limit("crp_mg_dL", 0.0, 100.0, "mg/dL"),
    Limit("ferritin_ng_mL", 0.0, 2000000.0, "ng/mL"),
    Limit("il6_pg_mL", 0.0, 1000000.0, "pg/mL"),
    Limit("fibrinogen_mg_dL", 0.0, 2000.0, "mg/dL"),
    Limit("ldh_U_L", 0.0, 100000.0, "U/L"),
    Limit("alt_U_L", 0.0, 50000.0, "U/L"),
    Limit("alt_uln_U_L", 1.0, 1000.0, "U/L"),
    Limit("ast_U_L", 0.0, 50000.0, "U/L"),
    Limit("ast_uln_U_L", 1.0, 1000.0, "U/L"),
    Limit("creatinine_mg_dL", 0.0, 30.0, "mg/dL"),
    Limit("creatinine_umol_L", 0.0, 2652.0, "µmol/L"),
    Limit("igg_mg_dL", 0.0, 10000.0, "mg/dL"),
    Limit("cd19_per_uL", 0.0, 100000.0, "/µL"),
    Limit("upcr_mg_mg", 0.0, 50.0, "mg/mg"),
    Limit("last_follow_up_hours", -8760.0, 87600.0, "h"),
    Limit("death_hours", -8760.0, 87600.0, "h"),
    Limit("progression_hours", -8760.0, 87600.0, "h"),
    Limit("next_therapy_hours", -8760.0, 87600.0, "h"),
)
HARD_LIMITS: dict[str, Limit] = {lim.field: lim for lim in _HARD}

# ---- oxygen flow each device can deliver (L/min); a flow outside it is a slip or the wrong device
FLOWMETER_MAX_L_MIN = 15.0  # standard wall/cylinder O2 flowmeters are graduated to 15 L/min
HFNC_MIN_L_MIN = 1.0  # heated high flow in neonates starts at 1–2 L/min
HFNC_MAX_L_MIN = 70.0  # heated high-flow generators deliver up to 60–70 L/min (AIRVO 2: 2–60 L/min)
SIMPLE_FACE_MASK_MIN_L_MIN = 5.0  # below 5 L/min a simple mask is not washed out (CO2 rebreathing)
VENTURI_MIN_L_MIN = 2.0  # Venturi entrainment valves are specified from 2 L/min (24 %) up to 15 L/min
NON_REBREATHER_MIN_L_MIN = 10.0  # the reservoir bag needs 10–15 L/min to stay filled
# Nasal cannula and blow-by: any flow above 0 up to the flowmeter's scale. ASTCT reads a cannula
# above 6 L/min as high flow (CRS-7 [Lee 2019]; INPUT-8), so 7–15 L/min on a cannula is graded 3, not refused;
# 60 L/min is an HFNC setting and is refused on a cannula.
O2_FLOW_LIMITS: dict[O2Device, Limit] = {
    O2Device.BLOW_BY: Limit("o2_flow_l_min", 0.0, FLOWMETER_MAX_L_MIN, "L/min", low_open=True),
    O2Device.NASAL_CANNULA: Limit("o2_flow_l_min", 0.0, FLOWMETER_MAX_L_MIN, "L/min", low_open=True),
    O2Device.HFNC: Limit("o2_flow_l_min", HFNC_MIN_L_MIN, HFNC_MAX_L_MIN, "L/min"),
    O2Device.SIMPLE_FACE_MASK: Limit(
        "o2_flow_l_min", SIMPLE_FACE_MASK_MIN_L_MIN, FLOWMETER_MAX_L_MIN, "L/min"
    ),
    O2Device.VENTURI: Limit("o2_flow_l_min", VENTURI_MIN_L_MIN, FLOWMETER_MAX_L_MIN, "L/min"),
    O2Device.NON_REBREATHER: Limit("o2_flow_l_min", NON_REBREATHER_MIN_L_MIN, FLOWMETER_MAX_L_MIN, "L/min"),
}
# Positive-pressure devices: an entrained/bias flow may be charted; it does not grade (CRS-16), so
# only the field's hard limit applies.

# ---- largest plausible single dose per drug (mg); a larger number is a slip (an extra zero, µg as mg)
TOCILIZUMAB_MAX_DOSE_MG = 800.0  # TOCI-1: at most 800 mg per dose [Santomasso 2021] [Kymriah label]
# INPUT-11 dexamethasone: the largest CAR-T dose is 20 mg q6h (MGMT-8 [PMC10573998]); 40 mg single
# doses are in common use elsewhere (myeloma pulses), so 40 mg is the ceiling.
DEXAMETHASONE_MAX_DOSE_MG = 40.0
# INPUT-11 methylprednisolone: refractory grade 4 CRS, 1000 mg IV per dose (MGMT-7 [Santomasso 2021] p5).
METHYLPREDNISOLONE_MAX_DOSE_MG = 1000.0
# INPUT-11 anakinra (project decision; MGMT-19: no verified dose): published paediatric CAR-T series
# give at most 100 mg per dose, and adult high-dose regimens (≤ 10 mg/kg/day, divided) stay below
# 400 mg per dose.
ANAKINRA_MAX_DOSE_MG = 400.0
# INPUT-11 siltuximab: 11 mg/kg IV (MGMT-18 [Neelapu 2018]) for a patient of up to 200 kg.
SILTUXIMAB_MAX_DOSE_MG = 2200.0
ACETAMINOPHEN_MAX_DOSE_MG = 1000.0  # adult single-dose maximum of the label (1 g)
IBUPROFEN_MAX_DOSE_MG = 800.0  # prescription single-dose maximum of the label
# INPUT-11 levetiracetam: status-epilepticus loading 60 mg/kg up to 4500 mg [Kapur 2019] (ESETT);
# prophylaxis is 750 mg q12h (MGMT-17 [Neelapu 2018]).
LEVETIRACETAM_MAX_DOSE_MG = 4500.0
# INPUT-11 IVIG: replacement is 400–500 mg/kg (BCELL-2 [ASH-SAP]); 0.5 g/kg for a patient of up to
# 200 kg is 100 g, the field's hard limit. Doses are recorded in mg (the visit form takes grams).
IVIG_MAX_DOSE_MG = 100000.0


def _dose(high: float) -> Limit:
    return Limit("dose_mg", 0.0, high, "mg", low_open=True)


DOSE_LIMITS: dict[str, Limit] = {
    "tocilizumab": _dose(TOCILIZUMAB_MAX_DOSE_MG),
    "dexamethasone": _dose(DEXAMETHASONE_MAX_DOSE_MG),
    "methylprednisolone": _dose(METHYLPREDNISOLONE_MAX_DOSE_MG),
    "anakinra": _dose(ANAKINRA_MAX_DOSE_MG),
    "siltuximab": _dose(SILTUXIMAB_MAX_DOSE_MG),
    "acetaminophen": _dose(ACETAMINOPHEN_MAX_DOSE_MG),
    "paracetamol": _dose(ACETAMINOPHEN_MAX_DOSE_MG),
    "ibuprofen": _dose(IBUPROFEN_MAX_DOSE_MG),
    "levetiracetam": _dose(LEVETIRACETAM_MAX_DOSE_MG),
    "ivig": _dose(IVIG_MAX_DOSE_MG),
}

# Follow-up fields (CASE-7; carttrack/followup/parsing.py and the new lab fields). A course is
# followed to year 15 (VISIT-2, the CIBMTR 15-year track [CIBMTR manual]): the time limits here replace
# the ones above.
_FOLLOWUP_HARD: tuple[Limit, ...] = (
    Limit("t_hours", -8760.0, 140256.0, "h"),
    Limit("last_follow_up_hours", -8760.0, 140256.0, "h"),
    Limit("death_hours", -8760.0, 140256.0, "h"),
    Limit("progression_hours", -8760.0, 140256.0, "h"),
    Limit("next_therapy_hours", -8760.0, 140256.0, "h"),
    Limit("upcr_mg_mmol", 0.0, 5656.0, "mg/mmol"),
    Limit("egfr_mL_min", 0.0, 250.0, "mL/min/1.73 m²"),
    Limit("anti_dsdna_IU_mL", 0.0, 100000.0, "IU/mL"),
    Limit("anti_dsdna_cutoff_IU_mL", 0.001, 100000.0, "IU/mL"),
    Limit("c3_mg_dL", 0.0, 1000.0, "mg/dL"),
    Limit("c3_lln_mg_dL", 1.0, 1000.0, "mg/dL"),
    Limit("c4_mg_dL", 0.0, 500.0, "mg/dL"),
    Limit("c4_lln_mg_dL", 0.1, 500.0, "mg/dL"),
    Limit("cd4_per_uL", 0.0, 100000.0, "/µL"),
    Limit("protein_g_24h", 0.0, 50.0, "g/24 h"),
    Limit("naive_b_cells_pct", 0.0, 100.0, "% of CD19 B cells"),
    Limit("pga", 0.0, 3.0, ""),  # PGA-1
    Limit("mg_per_day", 0.0, 5000.0, "mg/day"),
    Limit("mg_per_week", 0.0, 35000.0, "mg/week"),
    # TIS-5: the myositis core-set ranges [Aggarwal 2017]
    Limit("physician_global", 0.0, 10.0, ""),
    Limit("patient_global", 0.0, 10.0, ""),
    Limit("mmt8", 0.0, 150.0, ""),
    Limit("haq", 0.0, 3.0, ""),
    Limit("enzyme_U_L", 0.0, 1000000.0, "U/L"),
    Limit("extramuscular", 0.0, 10.0, ""),
    Limit("dlco_pct_predicted", 0.0, 200.0, "% predicted"),
    Limit("fvc_pct_predicted", 0.0, 200.0, "% predicted"),
)
HARD_LIMITS.update({lim.field: lim for lim in _FOLLOWUP_HARD})

SOFT_LIMITS: dict[str, Limit] = {
    lim.field: lim
    for lim in (
        Limit("temp_c", 34.0, 41.5, "°C"),
        Limit("hr", 35.0, 220.0, "/min"),
        Limit("sbp", 50.0, 250.0, "mmHg"),
        Limit("spo2", 70.0, 100.0, "%"),
        Limit("o2_flow_l_min", 0.0, 60.0, "L/min"),
        Limit("anc_per_uL", 0.0, 50000.0, "/µL"),
        Limit("platelets_10e9_L", 0.0, 1500.0, "×10⁹/L"),
        Limit("crp_mg_dL", 0.0, 60.0, "mg/dL"),
        Limit("creatinine_mg_dL", 0.0, 15.0, "mg/dL"),
    )
}


def hard_limit_hint(field: str, value: float) -> str:
    """Extra text for a hard-limit error that explains a likely unit or decimal slip."""
    if field == "temp_c":
        if 77.0 <= value <= 113.0:
            return f"; {_fmt(value)} looks like °F = {f_to_c(value):.1f} °C (use temp_f)"
        if 2.5 <= value <= 4.5:
            return f"; {_fmt(value)} looks like a decimal slip — did you mean {_fmt(round(value * 10, 1))}?"
    if field == "temp_f" and 25.0 <= value <= 45.0:
        return f"; {_fmt(value)} looks like °C (use temp_c)"
    if field == "fio2" and 1.0 < value < 21.0:
        return "; give FiO2 as a fraction 0.21–1.0 or a percentage 21–100"
    return ""


def soft_warnings(obs: object) -> tuple[SoftWarning, ...]:
    """Plausible-but-suspicious values of a parsed observation (never raises)."""
    out: list[SoftWarning] = []
    for field, lim in SOFT_LIMITS.items():
        value = getattr(obs, field, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not lim.contains(value):
            out.append(
                SoftWarning(field, float(value), f"{field} {_fmt(value)} is outside the usual {lim.text}")
            )
    anc = getattr(obs, "anc_per_uL", None)
    if isinstance(anc, float) and 0.0 < anc < 50.0 and not anc.is_integer():
        out.append(SoftWarning("anc_per_uL", anc, f"{_fmt(anc)} looks like ×10⁹/L = {anc * 1000:.0f}/µL"))
    o2_flow = getattr(obs, "o2_flow_l_min", None)
    device = getattr(obs, "o2_device", None)
    if (
        device is not None
        and getattr(device, "value", None) == "hfnc"
        and o2_flow is not None
        and o2_flow <= 6.0
    ):
        out.append(
            SoftWarning("o2_flow_l_min", o2_flow, "HFNC at ≤ 6 L/min graded by device as grade 3 (A-8)")
        )
    return tuple(out)
