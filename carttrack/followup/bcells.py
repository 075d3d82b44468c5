"""B-cell aplasia and reconstitution (BCELL-3…BCELL-5, VISIT-7; G-7).

Aplasia = CD19 < 1 /µL (BCELL-3, DecisionSettings.b_cell_aplasia_cd19_below_per_ul). Reconstitution
(BCELL-4, G-7; no numeric threshold is published for lupus CAR-T, [Mackensen 2022] [Müller 2024]): the
first of 2 consecutive post-infusion samples with CD19 ≥ 10 /µL (settings) after documented aplasia;
shown against the expected window (110 ± 32 days in [Mackensen 2022]), with the naïve (CD27−IgD+)
fraction when sent (the returning B cells were naïve in [Mackensen 2022]). Informational in autoimmune
disease (expected, not a relapse); in B-ALL the loss of B-cell aplasia is urgent (BCELL-5: loss of
CAR-T persistence precedes CD19+ relapse).
"""

from __future__ import annotations

from ..observations import INFUSION_T
from ..results import Driver
from ..settings import DecisionSettings
from .course import FollowupCourse
from .logic import Tri, at_least, below
from .results import BCellStatus
from .settings import FollowupSettings
from .wording import HOURS_PER_DAY, day, num

EXPECTED_RECONSTITUTION_DAYS = 110.0  # BCELL-4 [Mackensen 2022]: 110 ± 32 days
EXPECTED_RECONSTITUTION_SD_DAYS = 32.0


def bcell_course(
    course: FollowupCourse, settings: FollowupSettings, decision: DecisionSettings
) -> BCellStatus:
    aplasia_below = decision.b_cell_aplasia_cd19_below_per_ul
    threshold = settings.b_cell_reconstitution_per_uL
    needed = settings.b_cell_reconstitution_samples
    post = [s for s in course.series("cd19_per_uL") if s[0] > INFUSION_T]
    if not post:
        return BCellStatus(None, None, None, None, ())
    aplasia_t: float | None = None
    aplasia_idx: int | None = None
    run: list[tuple[float, float, int | None]] = []
    found: list[tuple[float, float, int | None]] | None = None
    for t, v, idx in post:
        if aplasia_t is None:
            if below(v, aplasia_below):
                aplasia_t, aplasia_idx = t, idx
            continue
        if at_least(v, threshold):
            run.append((t, v, idx))
            if len(run) >= needed:
                found = run
                break
        else:
            run = []
    last_t, last_v, last_idx = post[-1]
    now: Tri = below(last_v, aplasia_below)
    drivers: list[Driver] = []
    if aplasia_t is not None:
        drivers.append(
            Driver(
                "B-cell aplasia (BCELL-3)",
                aplasia_idx,
                aplasia_t,
                f"B-cell aplasia documented {day(aplasia_t)}: CD19 < {num(aplasia_below)} /µL",
            )
        )
    lo = EXPECTED_RECONSTITUTION_DAYS - EXPECTED_RECONSTITUTION_SD_DAYS
    hi = EXPECTED_RECONSTITUTION_DAYS + EXPECTED_RECONSTITUTION_SD_DAYS
    if found is not None:
        first = found[0]
        days = first[0] / HOURS_PER_DAY
        where = "within" if lo <= days <= hi else "outside"
        values = ", ".join(f"{num(v)} /µL {day(t)}" for t, v, _ in found)
        naive = [s for s in course.series("naive_b_cells_pct") if s[0] >= first[0]]
        naive_text = f"; naïve (CD27−IgD+) {num(naive[0][1])} % {day(naive[0][0])}" if naive else ""
        drivers.append(
            Driver(
                "B-cell reconstitution (BCELL-4, G-7)",
                found[-1][2],
                found[-1][0],
                f"B cells back {day(first[0])}: CD19 {values} (≥ {num(threshold)} on {needed} consecutive"
                f" samples), {where} the expected {num(lo)}–{num(hi)} days (Mackensen 2022){naive_text}",
            )
        )
    else:
        drivers.append(
            Driver(
                "CD19 B cells",
                last_idx,
                last_t,
                f"latest CD19 {num(last_v)} /µL {day(last_t)}: no reconstitution",
            )
        )
    return BCellStatus(
        aplasia_documented_hours=aplasia_t,
        reconstitution_hours=found[0][0] if found else None,
        reconstitution_detected_hours=found[-1][0] if found else None,
        aplasia_now=now,
        drivers=tuple(drivers),
    )
