"""Unit conversions to the canonical unit set (UNIT-1…UNIT-11). Exact, no rounding before comparison (A-1).

Canonical units: temperature °C, CRP mg/dL, creatinine mg/dL, ANC cells/µL, platelets ×10⁹/L,
haemoglobin g/dL, ferritin ng/mL, fibrinogen mg/dL, IgG mg/dL.
"""

from __future__ import annotations

CREATININE_UMOL_PER_MG_DL = 88.4  # UNIT-4: mg/dL × 88.4 = µmol/L [UCUM]
CRP_MG_L_PER_MG_DL = 10.0  # UNIT-3: mg/dL × 10 = mg/L [UCUM]
CREATININE_MG_PER_MMOL = 113.12  # UNIT-10: UPCR mg/mg = mg/mmol ÷ 113.12 (exactly this division) [UCUM]


F_TO_C_DIGITS = 9  # only binary floating-point noise is removed (100.4 °F is exactly 38.0 °C), A-1


def f_to_c(temp_f: float) -> float:
    """°C = (°F − 32) × 5/9 (UNIT-1); not rounded to 0.1 (A-1), only float noise below 1e-9 removed."""
    return round((temp_f - 32.0) * 5.0 / 9.0, F_TO_C_DIGITS)


def c_to_f(temp_c: float) -> float:
    return temp_c * 9.0 / 5.0 + 32.0


def crp_mg_l_to_mg_dl(value: float) -> float:
    return value / CRP_MG_L_PER_MG_DL


def crp_mg_dl_to_mg_l(value: float) -> float:
    return value * CRP_MG_L_PER_MG_DL


def creatinine_umol_l_to_mg_dl(value: float) -> float:
    return value / CREATININE_UMOL_PER_MG_DL


def creatinine_mg_dl_to_umol_l(value: float) -> float:
    return value * CREATININE_UMOL_PER_MG_DL


def upcr_mg_mmol_to_mg_mg(value: float) -> float:
    """UPCR mg/mmol -> mg/mg (= g/g), UNIT-10."""
    return value / CREATININE_MG_PER_MMOL
