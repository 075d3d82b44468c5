"""Hard physiological limits (impossible values -> ObservationError) and soft limits (plausible but
suspicious values -> SoftWarning). Hard limits are wide on purpose: they reject typing errors, not
sick patients."""

from __future__ import annotations

from dataclasses import dataclass

from .units import f_to_c


@dataclass(frozen=True, slots=True)
class Limit:
    field: str
    low: float
    high: float
    unit: str

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    @property
    def text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
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

# Follow-up fields (FOLLOWUP.md; carttrack/followup/parsing.py and the new lab fields). A course is
# followed to year 15 (FOLLOWUP §1, CIBMTR track [V: F10]): the time limits here replace the ones above.
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
    Limit("pga", 0.0, 3.0, ""),
    Limit("mg_per_day", 0.0, 5000.0, "mg/day"),
    Limit("mg_per_week", 0.0, 35000.0, "mg/week"),
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
