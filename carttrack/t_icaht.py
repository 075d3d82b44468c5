"""T-ICAHT: thrombocytopenia after immune effector cell therapy (ICAHT-12…ICAHT-14, 2025 proposal
[T-ICAHT 2025]; an optional module beside ICAHT).

Days, daily minima, interpolation (C-1), censoring, the early (day 0–30) and late (day 31–100)
windows and the joined runs (a recovery shorter than ``icaht_recovery_days`` joins two runs and its
days count) are those of ICAHT (``icaht.py``). Platelet thresholds are strict: "< 50 ×10⁹/L".
"""

from __future__ import annotations

from .icaht import daily_minima, day_of, interpolate, longest_run
from .results import NO_T_ICAHT, Driver, TIcahtResult
from .settings import DecisionSettings

EARLY_PLT = 50.0  # ICAHT-12 T-ICAHT early: PLT < 50 ×10⁹/L for 1–6 d = G1, ≥ 7 d = G2 [T-ICAHT 2025]
EARLY_G2_DAYS = 7  # ICAHT-12 T-ICAHT early: < 50 for ≥ 7 d = G2 [T-ICAHT 2025]
# ICAHT-12, ICAHT-13 T-ICAHT: PLT < 20 ×10⁹/L for 1–13 d = G3 (early and late) [T-ICAHT 2025]
SEVERE_PLT = 20.0
SEVERE_G4_DAYS = 14  # ICAHT-12, ICAHT-13 T-ICAHT: < 20 for ≥ 14 d = G4 (early and late) [T-ICAHT 2025]
LATE_G1_PLT = 100.0  # ICAHT-13 T-ICAHT late: < 100 on ≥ 1 d = G1 [T-ICAHT 2025]
LATE_G2_PLT = 50.0  # ICAHT-13 T-ICAHT late: < 50 on ≥ 1 d = G2 [T-ICAHT 2025]


def _severe_grade(days_below_20: int) -> int | None:
    if days_below_20 >= SEVERE_G4_DAYS:
        return 4
    if days_below_20 >= 1:
        return 3
    return None


def grade_t_icaht(
    platelets: list[tuple[float, float, int | None]],
    as_of_hours: float,
    censor_hours: float | None,
    settings: DecisionSettings,
) -> TIcahtResult:
    """platelets: (t_hours, platelets ×10⁹/L, observation index); values before day 0 are ignored."""
    s = settings
    daymin = daily_minima((t, v) for t, v, _ in platelets if t >= 0)
    if not daymin:
        return NO_T_ICAHT
    series, _interp = interpolate(daymin, s.icaht_max_interpolated_gap_days)
    as_of_day = day_of(as_of_hours)
    censor_day = day_of(censor_hours) if censor_hours is not None else None
    recovery = s.icaht_recovery_days
    drivers: list[Driver] = []

    # ---- early (day 0–30)
    early_end = s.icaht_early_end_day if censor_day is None else min(s.icaht_early_end_day, censor_day)
    early_closed = as_of_day >= s.icaht_early_end_day or (
        censor_day is not None and censor_day <= s.icaht_early_end_day
    )
    last_early = early_end if early_closed else min(early_end, as_of_day)
    early: int | None = None
    if any(0 <= d <= last_early for d in series):
        below_50, a50, b50, _ = longest_run(series, 0, last_early, EARLY_PLT, recovery, strict=True)
        below_20, a20, b20, _ = longest_run(series, 0, last_early, SEVERE_PLT, recovery, strict=True)
        early = _severe_grade(below_20) or (2 if below_50 >= EARLY_G2_DAYS else 1 if below_50 >= 1 else 0)
        status = "" if early_closed else " (provisional, window open)"
        if below_20:
            why = f"platelets < 20 ×10⁹/L for {below_20} days (days {a20}–{b20})"
        elif below_50:
            why = f"platelets < 50 ×10⁹/L for {below_50} days (days {a50}–{b50})"
        else:
            why = "no day with platelets < 50 ×10⁹/L"
        drivers.append(Driver("T-ICAHT early", None, None, f"early T-ICAHT grade {early}{status}: {why}"))

    # ---- late (day 31–100)
    late_first = s.icaht_early_end_day + 1
    late_end = s.icaht_late_end_day if censor_day is None else min(s.icaht_late_end_day, censor_day)
    late_closed = as_of_day >= s.icaht_late_end_day or censor_day is not None
    late_days = [d for d in daymin if late_first <= d <= late_end]
    late: int | None = None
    if late_days:
        nadir = min(daymin[d] for d in late_days)
        below_20, a20, b20, _ = longest_run(series, late_first, late_end, SEVERE_PLT, recovery, strict=True)
        severe = _severe_grade(below_20)
        if severe is not None:
            late, why = severe, f"platelets < 20 ×10⁹/L for {below_20} days (days {a20}–{b20})"
        else:
            late = 2 if nadir < LATE_G2_PLT else 1 if nadir < LATE_G1_PLT else 0
            why = f"nadir platelets {nadir:g} ×10⁹/L"
        status = "" if late_closed else " (provisional)"
        drivers.append(Driver("T-ICAHT late", None, None, f"late T-ICAHT grade {late}{status}: {why}"))

    return TIcahtResult(
        early=early,
        early_provisional=early is not None and not early_closed,
        late=late,
        late_provisional=late is not None and not late_closed,
        drivers=tuple(drivers),
    )
