"""Myositis: the 2016 ACR/EULAR Total Improvement Score (TIS-1…TIS-5, RELAPSE-3; G-9)
[Aggarwal 2017] Table 3.

Each of the six core-set measures scores by its absolute percentage change from the pre-LD baseline
(|follow-up − baseline| / baseline), counted only when it is an improvement (worsening scores 0).
Band edges (TIS-2): a change of exactly 5 % is in the first band, exactly 15 % in the second, and so on (the
upper edge belongs to the lower band); MMT-8 has its own edges. Lower is better for all but MMT-8.
The percentage is rounded to 6 decimals before the band comparison (TIS-4) (the recorded decimals decide,
not float noise). A lower-is-better measure at baseline 0 cannot improve (0 points); MMT-8 at
baseline 0 with any gain is in the top band; a missing measure gives no TIS.
Response (TIS-3): adult minimal ≥ 20, moderate ≥ 40, major ≥ 60; juvenile DM ≥ 30, ≥ 45, ≥ 70 (the core set
says juvenile, or the group is juvenile dermatomyositis). Relapse (RELAPSE-3, G-9): TIS below the minimal
response after a moderate or major one (juvenile: < 30 after ≥ 45), or a physician-declared flare;
a CK rise alone is not a relapse.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..results import Driver
from .groups import IndicationGroup
from .inputs import MyositisCoreSet
from .results import RelapseEvent, TisStatus
from .wording import day, num

# TIS-1, TIS-2 [Aggarwal 2017] Table 3: upper band edges in % (the edge belongs to the lower band),
# then the points.
BAND_EDGES_PCT: tuple[float, ...] = (5.0, 15.0, 25.0, 40.0)
MMT8_BAND_EDGES_PCT: tuple[float, ...] = (2.0, 10.0, 20.0, 30.0)
TIS_POINTS: dict[str, tuple[float, ...]] = {
    "physician_global": (0.0, 7.5, 15.0, 17.5, 20.0),
    "patient_global": (0.0, 2.5, 5.0, 7.5, 10.0),
    "mmt8": (0.0, 10.0, 20.0, 27.5, 32.5),
    "haq": (0.0, 5.0, 7.5, 7.5, 10.0),
    "enzyme_U_L": (0.0, 2.5, 5.0, 7.5, 7.5),
    "extramuscular": (0.0, 7.5, 12.5, 15.0, 20.0),
}
TIS_MEASURES: tuple[str, ...] = tuple(TIS_POINTS)
HIGHER_IS_BETTER = frozenset({"mmt8"})
TIS_MAX = sum(points[-1] for points in TIS_POINTS.values())  # 100
PERCENT_DIGITS = 6  # TIS-4
# TIS-3 [Aggarwal 2017]: adult and juvenile response thresholds.
ADULT_RESPONSE: tuple[tuple[float, str], ...] = ((60.0, "major"), (40.0, "moderate"), (20.0, "minimal"))
JUVENILE_RESPONSE: tuple[tuple[float, str], ...] = ((70.0, "major"), (45.0, "moderate"), (30.0, "minimal"))
_MEASURE_LABEL = {
    "physician_global": "physician global",
    "patient_global": "patient global",
    "mmt8": "MMT-8",
    "haq": "HAQ",
    "enzyme_U_L": "muscle enzyme",
    "extramuscular": "extramuscular activity",
}


def measure_points(measure: str, baseline: float, follow_up: float) -> tuple[float, float | None]:
    """Points and the improvement in % (None when it cannot improve: baseline 0 of a lower-is-better
    measure)."""
    points = TIS_POINTS[measure]
    higher = measure in HIGHER_IS_BETTER
    improvement = follow_up - baseline if higher else baseline - follow_up
    if baseline == 0:
        if higher and improvement > 0:
            return points[-1], None
        return 0.0, None
    pct = round(abs(follow_up - baseline) / baseline * 100.0, PERCENT_DIGITS)
    if improvement <= 0:
        return 0.0, pct
    edges = MMT8_BAND_EDGES_PCT if higher else BAND_EDGES_PCT
    band = sum(1 for edge in edges if pct > edge)
    return points[band], pct


def total_improvement_score(
    baseline: MyositisCoreSet, follow_up: MyositisCoreSet
) -> tuple[float | None, str]:
    parts: list[str] = []
    total = 0.0
    missing: list[str] = []
    for m in TIS_MEASURES:
        b, f = getattr(baseline, m), getattr(follow_up, m)
        if b is None or f is None:
            missing.append(_MEASURE_LABEL[m])
            continue
        pts, pct = measure_points(m, b, f)
        total += pts
        change = "baseline 0" if pct is None else f"{pct:g} %"
        parts.append(f"{_MEASURE_LABEL[m]} {num(b)} -> {num(f)} ({change}): {num(pts)}")
    if missing:
        return None, "not recorded: " + ", ".join(missing)
    return total, "; ".join(parts)


def response(tis: float | None, juvenile: bool) -> str | None:
    if tis is None:
        return None
    for threshold, name in JUVENILE_RESPONSE if juvenile else ADULT_RESPONSE:
        if tis >= threshold:
            return name
    return "none"


def tis_course(
    baseline: MyositisCoreSet | None, post: Sequence[MyositisCoreSet], group: IndicationGroup
) -> tuple[TisStatus | None, tuple[RelapseEvent, ...]]:
    if not post:
        return None, ()
    juvenile = group is IndicationGroup.JUVENILE_DERMATOMYOSITIS or any(
        c.juvenile for c in (*post, *((baseline,) if baseline else ()))
    )
    thresholds = JUVENILE_RESPONSE if juvenile else ADULT_RESPONSE
    moderate, minimal = thresholds[1][0], thresholds[2][0]
    events: list[RelapseEvent] = []
    responded = False
    last: tuple[MyositisCoreSet, float | None, str] | None = None
    for c in post:
        if baseline is None:
            last = (c, None, "no pre-LD baseline core set")
            continue
        tis, text = total_improvement_score(baseline, c)
        last = (c, tis, text)
        if tis is None:
            continue
        if responded and tis < minimal:
            events.append(
                RelapseEvent(
                    c.t_hours,
                    c.t_hours,
                    "myositis",
                    "loss of response",
                    Driver(
                        "myositis relapse (RELAPSE-3, G-9)",
                        c.index,
                        c.t_hours,
                        f"myositis relapse at {day(c.t_hours)}: TIS {num(tis)} < {num(minimal)} after a"
                        f" moderate or major response (≥ {num(moderate)}); {text}",
                    ),
                )
            )
            responded = False
        elif tis >= moderate:
            responded = True
    assert last is not None
    c, tis, text = last
    resp = response(tis, juvenile)
    scale = "juvenile DM" if juvenile else "adult"
    driver = Driver(
        "Total Improvement Score (TIS-1)",
        c.index,
        c.t_hours,
        f"TIS {'—' if tis is None else num(tis)} at {day(c.t_hours)}"
        f" ({resp or 'not computable'}, {scale} thresholds): {text}",
    )
    return TisStatus(c.t_hours, tis, resp, juvenile, (driver,)), tuple(events)
