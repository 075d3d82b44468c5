"""Screens (not grades): IEC-HS (IECHS-3, C-3), LICATS (LICATS-4, D-5), IVIG policy (BCELL-2, C-4)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from .results import Driver
from .settings import DecisionSettings
from .vocabulary import LICATS_FLAGS

Series = Sequence[tuple[float, float, int | None]]

IEC_HS_FIBRINOGEN_BELOW = 150.0  # IECHS-3 fibrinogen < 150 mg/dL (C-3, [HLH-2004])
IEC_HS_TRANSAMINASE_ULN_FOLD = 5.0  # IECHS-3 AST/ALT > 5 × ULN (C-3)
CYTOPENIA_ANC_BELOW = 1000.0  # IECHS-3 HLH-2004 cytopenia ANC < 1000/µL [HLH-2004]
CYTOPENIA_PLT_BELOW = 100.0  # IECHS-3 HLH-2004 platelets < 100 ×10⁹/L [HLH-2004]
CYTOPENIA_HGB_BELOW = 9.0  # IECHS-3 HLH-2004 Hb < 9 g/dL [HLH-2004]
RATIO_EPS = 1e-9  # tolerance for ratio thresholds (1.2 vs 1.5 × 0.8 is +50 %, not a float artefact)
KIDNEY_BASELINE_UPCR = (
    0.5  # mg/mg; ≈ SLEDAI-2K proteinuria > 0.5 g/24 h (SLEDAI-1) marks kidney involvement (LICATS-4)
)


def _t(t: float) -> str:
    return f"t={t:+.1f} h"


def is_autoimmune(indication: str, settings: DecisionSettings) -> bool:
    return _matches_terms(indication.lower(), settings.autoimmune_terms)


@lru_cache(maxsize=1024)
def _matches_terms(text: str, terms: tuple[str, ...]) -> bool:
    return any(re.search(r"(?<![a-z])" + re.escape(term) + r"(?![a-z])", text) for term in terms)


def _latest_at(
    series: Series, t: float, window: float | None = None
) -> tuple[float, float, int | None] | None:
    best = None
    for item in series:
        if (
            item[0] <= t
            and (window is None or t - item[0] <= window)
            and (best is None or item[0] >= best[0])
        ):
            best = item
    return best


def _previous(series: Series, t: float) -> tuple[float, float, int | None] | None:
    best = None
    for item in series:
        if item[0] < t and (best is None or item[0] >= best[0]):
            best = item
    return best


def iec_hs_candidates(
    labs: dict[str, list[tuple[float, float, int | None]]],
    settings: DecisionSettings,
) -> tuple[tuple[float, Driver], ...]:
    """Lab part of the IEC-HS screen: ferritin ≥ 2-fold within 72 h plus ≥ 1 of new/worsening
    cytopenia, fibrinogen < 150 mg/dL, ALT/AST > 5 × ULN (IECHS-3, C-3).
    Returns (t of the later ferritin, driver) candidates; the caller applies the timing rule."""
    s = settings
    fer = sorted(labs.get("ferritin_ng_mL", []))
    out: list[tuple[float, Driver]] = []
    for j, (t2, v2, i2) in enumerate(fer):
        if t2 < 0:
            continue
        for i in range(j - 1, -1, -1):
            t1, v1, _ = fer[i]
            if t2 - t1 > s.iec_hs_window_hours:
                break
            if t1 >= t2 or v1 <= 0 or v2 / v1 < s.iec_hs_ferritin_fold - RATIO_EPS:
                continue
            found: list[str] = []
            fib = _latest_at(labs.get("fibrinogen_mg_dL", []), t2, s.iec_hs_window_hours)
            if fib is not None and fib[1] < IEC_HS_FIBRINOGEN_BELOW:
                found.append(f"fibrinogen {fib[1]:g} mg/dL")
            for enz in ("alt", "ast"):
                val = _latest_at(labs.get(f"{enz}_U_L", []), t2, s.iec_hs_window_hours)
                uln = _latest_at(labs.get(f"{enz}_uln_U_L", []), t2)
                if val is not None and uln is not None and val[1] > IEC_HS_TRANSAMINASE_ULN_FOLD * uln[1]:
                    found.append(f"{enz.upper()} {val[1]:g} U/L > 5 × ULN {uln[1]:g}")
            for key, thr, label in (
                ("anc_per_uL", CYTOPENIA_ANC_BELOW, "ANC"),
                ("platelets_10e9_L", CYTOPENIA_PLT_BELOW, "platelets"),
                ("hgb_g_dL", CYTOPENIA_HGB_BELOW, "Hb"),
            ):
                series = labs.get(key, [])
                cur = _latest_at(series, t2, s.iec_hs_window_hours)
                if cur is not None and cur[1] < thr:
                    prev = _previous(series, cur[0])
                    if prev is None or cur[1] < prev[1]:
                        found.append(f"new/worsening cytopenia: {label} {cur[1]:g}")
            if found:
                text = (
                    f"IEC-HS screen positive: ferritin {v1:g} -> {v2:g} ng/mL ({_t(t1)} -> {_t(t2)})"
                    f" with {', '.join(found)} — evaluate for IEC-HS/HLH-like syndrome"
                )
                out.append((t2, Driver("IEC-HS screen (IECHS-3, C-3)", i2, t2, text)))
                break
    return tuple(out)


def iec_hs_screen(
    candidates: tuple[tuple[float, Driver], ...],
    crs_active_at: Callable[[float], bool],
    settings: DecisionSettings,
) -> tuple[bool, tuple[Driver, ...]]:
    """Timing rule: the later ferritin after CRS resolved (no open episode) or ≥ day 7."""
    for t2, drv in candidates:
        if t2 >= settings.iec_hs_from_hours or not crs_active_at(t2):
            return True, (drv,)
    return False, ()


def licats_screen(
    labs: dict[str, list[tuple[float, float, int | None]]],
    flags: list[tuple[float, str, bool, int | None]],
    indication: str,
    settings: DecisionSettings,
) -> tuple[bool, tuple[Driver, ...]]:
    """Autoimmune patients only (caller checks). Organ signal day +3 to ~+60 during B-cell aplasia."""
    s = settings
    cd19 = labs.get("cd19_per_uL", [])

    def aplastic(t: float) -> tuple[float, float, int | None] | None:
        post = [c for c in cd19 if c[0] >= 0]
        if not post:
            return None
        near = min(post, key=lambda c: abs(c[0] - t))
        return near if near[1] < s.b_cell_aplasia_cd19_below_per_ul else None

    kidney = any(term in indication.lower() for term in s.kidney_involvement_terms)
    creat = labs.get("creatinine_mg_dL", [])
    upcr = labs.get("upcr_mg_mg", [])
    base_cr = _latest_at(creat, 0.0)
    base_up = _latest_at(upcr, 0.0)
    if base_up is not None and base_up[1] > KIDNEY_BASELINE_UPCR:
        kidney = True
    window = (s.licats_from_hours, s.licats_to_hours)
    if kidney:
        for t, v, idx in creat:
            if not window[0] <= t <= window[1] or base_cr is None or base_cr[1] <= 0:
                continue
            if v / base_cr[1] >= 1.0 + s.licats_creatinine_rise_fraction - RATIO_EPS:
                b = aplastic(t)
                if b is not None:
                    rise = (v / base_cr[1] - 1.0) * 100.0
                    return True, (
                        Driver(
                            "LICATS screen (LICATS-4)",
                            idx,
                            t,
                            f"possible LICATS (kidney): creatinine {v:g} mg/dL vs baseline {base_cr[1]:g} "
                            f"(+{rise:.0f} %), CD19 {b[1]:g}/µL, {_t(t)} — exclude infection, drug "
                            "toxicity, disease flare",
                        ),
                    )
        for t, v, idx in upcr:
            if not window[0] <= t <= window[1] or base_up is None:
                continue
            prev = _previous(upcr, t)
            if v > base_up[1] and (prev is None or v > prev[1]):
                b = aplastic(t)
                if b is not None:
                    return True, (
                        Driver(
                            "LICATS screen (LICATS-4)",
                            idx,
                            t,
                            f"possible LICATS (kidney): UPCR rising {base_up[1]:g} -> {v:g} mg/mg, "
                            f"CD19 {b[1]:g}/µL, {_t(t)} — exclude infection, drug toxicity, flare",
                        ),
                    )
    for t, name, value, idx in flags:
        if value and name in LICATS_FLAGS and window[0] <= t <= window[1]:
            b = aplastic(t)
            if b is not None:
                return True, (
                    Driver(
                        "LICATS screen (LICATS-4)",
                        idx,
                        t,
                        f"possible LICATS: {name.replace('_', ' ')}, CD19 {b[1]:g}/µL, {_t(t)}"
                        " — exclude infection, drug toxicity, disease flare",
                    ),
                )
    return False, ()


def ivig_policy(igg: Series, infection: bool, settings: DecisionSettings) -> tuple[str | None, Driver | None]:
    """C-4: 'ivig' when IgG ≤ 400 and a serious/recurrent infection; otherwise 'consider_ivig'."""
    if not igg:
        return None, None
    t, v, idx = max(igg, key=lambda x: x[0])
    if v > settings.ivig_igg_threshold_mg_dl:
        return None, None
    code = "ivig" if (infection or not settings.ivig_requires_infection) else "consider_ivig"
    why = "with serious/recurrent infection" if infection else "without recorded serious/recurrent infection"
    return code, Driver(
        "IVIG policy (BCELL-2, C-4)",
        idx,
        t,
        f"IgG {v:g} mg/dL ≤ {settings.ivig_igg_threshold_mg_dl:g} {why}, {_t(t)} -> {code}",
    )
