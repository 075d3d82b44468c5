"""CAR-HEMATOTOX (HTX-1…HTX-5, C-2) and the EASIX family (EASIX-1…EASIX-4)."""

from __future__ import annotations

from dataclasses import dataclass

from .results import Driver

# CAR-HEMATOTOX cut-points, HTX-2 [Rejeski 2021] [HEMATOTOX implementations]; boundaries per C-2 and
# HTX-3 (inclusive lower band)
HT_PLT_HIGH = 175.0  # > 175 -> 0; 75–175 -> 1 (175 -> 1)
HT_PLT_LOW = 75.0  # < 75 -> 2 (75 -> 1)
HT_ANC = 1200.0  # < 1200 -> 1 (1200 -> 0)
HT_HGB = 9.0  # < 9.0 -> 1 (9.0 -> 0)
HT_CRP_MG_DL = 3.0  # ≥ 3.0 mg/dL -> 1
HT_FERRITIN_LOW = 650.0  # 650–2000 -> 1 (650 -> 1)
HT_FERRITIN_HIGH = 2000.0  # > 2000 -> 2 (2000 -> 1)
HT_HIGH_RISK_MIN = 2  # HTX-4 HT-high ≥ 2 [Rejeski 2021]
HEMATOTOX_REFERENCE_HOURS = -120.0  # pre-lymphodepletion, ~day −5 (HTX-1)
# EASIX-4 (project decision): display precision of EASIX-family values, to avoid float artefacts.
SCORE_DECIMALS = 4


@dataclass(frozen=True, slots=True)
class Hematotox:
    score: int
    risk: str
    points: tuple[tuple[str, float, int], ...]


def hematotox(platelets: float, anc: float, hgb: float, crp_mg_dl: float, ferritin: float) -> Hematotox:
    p_plt = 0 if platelets > HT_PLT_HIGH else (1 if platelets >= HT_PLT_LOW else 2)
    p_anc = 0 if anc >= HT_ANC else 1
    p_hgb = 0 if hgb >= HT_HGB else 1
    p_crp = 1 if crp_mg_dl >= HT_CRP_MG_DL else 0
    p_fer = 0 if ferritin < HT_FERRITIN_LOW else (1 if ferritin <= HT_FERRITIN_HIGH else 2)
    score = p_plt + p_anc + p_hgb + p_crp + p_fer
    points = (
        ("platelets_10e9_L", platelets, p_plt),
        ("anc_per_uL", anc, p_anc),
        ("hgb_g_dL", hgb, p_hgb),
        ("crp_mg_dL", crp_mg_dl, p_crp),
        ("ferritin_ng_mL", ferritin, p_fer),
    )
    return Hematotox(score, "high" if score >= HT_HIGH_RISK_MIN else "low", points)


def easix(ldh: float, creatinine_mg_dl: float, platelets: float) -> float | None:
    """EASIX = LDH (U/L) × creatinine (mg/dL) / platelets (10⁹/L) (EASIX-1 [Pennisi 2021])."""
    if platelets <= 0:
        return None
    return round(ldh * creatinine_mg_dl / platelets, SCORE_DECIMALS)


def m_easix(ldh: float, crp_mg_dl: float, platelets: float) -> float | None:
    """m-EASIX = LDH × CRP (mg/dL) / platelets (EASIX-2 [Pennisi 2021])."""
    if platelets <= 0:
        return None
    return round(ldh * crp_mg_dl / platelets, SCORE_DECIMALS)


def simplified_easix(ldh: float, platelets: float) -> float | None:
    """simplified EASIX = LDH / platelets (EASIX-3 [Pennisi 2021])."""
    if platelets <= 0:
        return None
    return round(ldh / platelets, SCORE_DECIMALS)


def pick_baseline(series: list[tuple[float, float, int | None]]) -> tuple[float, float, int | None] | None:
    """Pre-infusion value closest to day −5 (t ≤ 0)."""
    best: tuple[float, float, int | None] | None = None
    for item in series:
        if item[0] > 0:
            continue
        if best is None or abs(item[0] - HEMATOTOX_REFERENCE_HOURS) < abs(
            best[0] - HEMATOTOX_REFERENCE_HOURS
        ):
            best = item
    return best


def hematotox_from_series(
    series: dict[str, list[tuple[float, float, int | None]]],
) -> tuple[Hematotox | None, tuple[Driver, ...], tuple[str, ...]]:
    keys = ("platelets_10e9_L", "anc_per_uL", "hgb_g_dL", "crp_mg_dL", "ferritin_ng_mL")
    picked = {k: pick_baseline(series.get(k, [])) for k in keys}
    missing = tuple(k for k, v in picked.items() if v is None)
    if missing:
        return None, (), missing
    vals = {k: v[1] for k, v in picked.items() if v is not None}
    ht = hematotox(
        vals["platelets_10e9_L"],
        vals["anc_per_uL"],
        vals["hgb_g_dL"],
        vals["crp_mg_dL"],
        vals["ferritin_ng_mL"],
    )
    parts = ", ".join(f"{k} {v:g} -> {p}" for k, v, p in ht.points)
    first = next(v for v in picked.values() if v is not None)
    drv = Driver(
        "CAR-HEMATOTOX (HTX-4)", first[2], first[0], f"CAR-HEMATOTOX {ht.score} ({ht.risk}): {parts}"
    )
    return ht, (drv,), ()
