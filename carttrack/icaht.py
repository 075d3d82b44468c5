"""ICAHT, EHA/EBMT (ICAHT-1…ICAHT-11 [Rejeski 2023]; C-1, C-6).

Day n = floor(t_hours / 24) (day 0 = first 24 h after infusion). Lowest ANC per day; linear
interpolation across gaps of ≤ 7 missing days (interpolated days reported). Early window day 0–30,
late window day 31–100, each closed earlier by censoring (death, progression, next therapy, last
follow-up). Without follow-up the case is judged as of its last observation and a window that has not
reached its end is open: its grade is provisional and "never recovered" (grade 4) is not assigned.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

from .results import Driver, IcahtResult
from .settings import DecisionSettings

SEVERE_ANC = 500.0  # ICAHT-3 ANC ≤ 500/µL, inclusive ([Liang ICAHT code], C-1)
PROFOUND_ANC = 100.0  # ICAHT-3 ANC ≤ 100/µL, inclusive ([Liang ICAHT code], C-1)
EARLY_G1_DAYS = 1  # ICAHT-4 ≤500 for 1–6 d [Rejeski 2023]
EARLY_G2_DAYS = 7  # ICAHT-4 ≤500 for 7–13 d
EARLY_G3_DAYS = 14  # ICAHT-4 ≤500 for 14–30 d
EARLY_G4_DAYS = 31  # ICAHT-4 ≤500 never recovers (≥ 31 d)
PROFOUND_G3_DAYS = 7  # ICAHT-4 ≤100 for 7–13 d = G3
PROFOUND_G4_DAYS = 14  # ICAHT-4 ≤100 for ≥ 14 d = G4
NEVER_RECOVERED_ONSET_MAX_DAY = 3  # ICAHT-6: onset day 0–3 and never recovers = G4 [Liang ICAHT code]
LATE_G1_ANC = 1500.0  # ICAHT-10 late ≤ 1500 [Liang ICAHT code]
LATE_G2_ANC = 1000.0  # ≤ 1000
LATE_G3_ANC = 500.0  # ≤ 500
LATE_G4_ANC = 100.0  # ≤ 100
HOURS_PER_DAY = 24.0


def day_of(t_hours: float) -> int:
    return math.floor(t_hours / HOURS_PER_DAY)


def daily_minima(points: Iterable[tuple[float, float]]) -> dict[int, float]:
    out: dict[int, float] = {}
    for t, v in points:
        d = day_of(t)
        cur = out.get(d)
        if cur is None or v < cur:
            out[d] = v
    return out


def interpolate(daymin: dict[int, float], max_gap: int) -> tuple[dict[int, float], tuple[int, ...]]:
    days = sorted(daymin)
    series = dict(daymin)
    interp: list[int] = []
    for a, b in itertools.pairwise(days):
        gap = b - a - 1
        if 0 < gap <= max_gap:
            va, vb = daymin[a], daymin[b]
            for d in range(a + 1, b):
                series[d] = va + (vb - va) * (d - a) / (b - a)
                interp.append(d)
    return series, tuple(interp)


def longest_run(
    series: dict[int, float], first: int, last: int, thr: float, recovery: int, *, strict: bool = False
) -> tuple[int, int | None, int | None, bool]:
    """Longest joined run of days with a count ≤ thr (< thr if ``strict``) in [first, last].

    Runs separated by fewer than `recovery` consecutive days above thr are joined and the gap days
    counted (ICAHT-5 [T-ICAHT 2025]). Missing days are neither counted nor recovery.
    Returns (days, start, end, ongoing_at_last) for the longest run (ties: the later, ongoing run)."""
    best: tuple[int, int | None, int | None, bool] = (0, None, None, False)
    in_run = False
    start = 0
    end = 0
    count = 0
    gap = 0
    for d in range(first, last + 1):
        v = series.get(d)
        if v is None:
            continue
        if (v < thr) if strict else (v <= thr):
            if in_run:
                count += gap + 1
            else:
                in_run, start, count = True, d, 1
            end = d
            gap = 0
        elif in_run:
            gap += 1
            if gap >= recovery:
                if count > best[0]:
                    best = (count, start, end, False)
                in_run = False
                gap = 0
    if in_run and count >= best[0]:
        best = (count, start, end, gap == 0 or gap < recovery)
    return best


def recovery_day(series: dict[int, float], after: int, thr: float, recovery: int) -> int | None:
    """The first day of the first run of ``recovery`` consecutive days with a count above ``thr``
    after day ``after`` (ICAHT-5: recovery; missing days are skipped, as in ``longest_run``)."""
    start: int | None = None
    count = 0
    for d in sorted(x for x in series if x > after):
        if series[d] > thr:
            if start is None:
                start, count = d, 0
            count += 1
            if count >= recovery:
                return start
        else:
            start = None
    return None


def early_grade(severe: int, profound: int, never_recovered: bool) -> int:
    if profound >= PROFOUND_G4_DAYS or severe >= EARLY_G4_DAYS or never_recovered:
        return 4
    if severe >= EARLY_G3_DAYS or profound >= PROFOUND_G3_DAYS:
        return 3
    if severe >= EARLY_G2_DAYS:
        return 2
    if severe >= EARLY_G1_DAYS:
        return 1
    return 0


def late_grade(nadir: float) -> int:
    if nadir <= LATE_G4_ANC:
        return 4
    if nadir <= LATE_G3_ANC:
        return 3
    if nadir <= LATE_G2_ANC:
        return 2
    if nadir <= LATE_G1_ANC:
        return 1
    return 0


def grade_icaht(
    anc: list[tuple[float, float, int | None]],
    as_of_hours: float,
    censor_hours: float | None,
    settings: DecisionSettings,
) -> IcahtResult:
    """anc: (t_hours, ANC/µL, observation index)."""
    if not anc:
        return IcahtResult(None, False, None, False, ())
    s = settings
    daymin = daily_minima((t, v) for t, v, _ in anc if t >= 0)
    series, interp = interpolate(daymin, s.icaht_max_interpolated_gap_days)
    as_of_day = day_of(as_of_hours)
    censor_day = day_of(censor_hours) if censor_hours is not None else None
    drivers: list[Driver] = []
    # ---- early
    early_end = s.icaht_early_end_day
    if censor_day is not None:
        early_end = min(early_end, censor_day)
    early_closed = as_of_day >= s.icaht_early_end_day or (
        censor_day is not None and censor_day <= s.icaht_early_end_day
    )
    last_known = min(early_end, as_of_day) if not early_closed else early_end
    early: int | None = None
    sev_days = prof_days = 0
    if any(0 <= d <= last_known for d in series):
        sev_days, s_start, s_end, s_ongoing = longest_run(
            series, 0, last_known, SEVERE_ANC, s.icaht_recovery_days
        )
        prof_days, p_start, p_end, _ = longest_run(series, 0, last_known, PROFOUND_ANC, s.icaht_recovery_days)
        never = (
            early_closed
            and s_ongoing
            and s_start is not None
            and s_start <= NEVER_RECOVERED_ONSET_MAX_DAY
            and s_end is not None
        )
        early = early_grade(sev_days, prof_days, bool(never))
        status = "" if early_closed else " (provisional, window open)"
        if sev_days:
            drivers.append(
                Driver(
                    "ICAHT early ANC ≤ 500/µL",
                    None,
                    None,
                    f"early ICAHT grade {early}{status}: ANC ≤ 500/µL for {sev_days} days "
                    f"(days {s_start}–{s_end}){'; never recovered' if never else ''}",
                )
            )
        if prof_days:
            drivers.append(
                Driver(
                    "ICAHT early ANC ≤ 100/µL",
                    None,
                    None,
                    f"ANC ≤ 100/µL for {prof_days} days (days {p_start}–{p_end})",
                )
            )
        if not sev_days:
            drivers.append(
                Driver("ICAHT early", None, None, f"early ICAHT grade 0{status}: no day with ANC ≤ 500/µL")
            )
    recovered: float | None = None
    severe = [d for d, v in series.items() if 0 <= d <= last_known and v <= SEVERE_ANC]
    if severe:
        day = recovery_day(series, max(severe), SEVERE_ANC, s.icaht_recovery_days)
        if day is not None:
            recovered = min((t for t, v, _ in anc if day_of(t) >= day and v > SEVERE_ANC), default=None)
    # ---- late
    late_first = s.icaht_early_end_day + 1
    late_end = s.icaht_late_end_day if censor_day is None else min(s.icaht_late_end_day, censor_day)
    late_closed = as_of_day >= s.icaht_late_end_day or censor_day is not None
    late_vals = sorted(v for d, v in daymin.items() if late_first <= d <= late_end)
    late: int | None = None
    if late_vals:
        nadir = late_vals[0]
        if len(late_vals) >= 2 and late_vals[1] > LATE_G1_ANC:
            late = 0
            why = f"nadir {nadir:g}/µL transient (second lowest {late_vals[1]:g} > 1500)"
        else:
            late = late_grade(nadir)
            second = f", second lowest {late_vals[1]:g}" if len(late_vals) >= 2 else " (single value)"
            why = f"nadir ANC {nadir:g}/µL{second}"
        drivers.append(
            Driver(
                "ICAHT late nadir",
                None,
                None,
                f"late ICAHT grade {late}{'' if late_closed else ' (provisional)'}: {why}",
            )
        )
    if interp:
        drivers.append(
            Driver(
                "C-1 interpolation", None, None, f"interpolated ANC days: {', '.join(str(d) for d in interp)}"
            )
        )
    return IcahtResult(
        early=early,
        early_provisional=early is not None and not early_closed,
        late=late,
        late_provisional=late is not None and not late_closed,
        drivers=tuple(drivers),
        early_days_anc_le_500=sev_days,
        early_days_anc_le_100=prof_days,
        interpolated_days=interp,
        early_recovered_hours=recovered,
    )
