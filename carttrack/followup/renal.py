"""Lupus nephritis: renal response and LN flare (RENAL-1…RENAL-5; G-5), for the lupus nephritis group
only (RENAL-1).

UPCR in mg/mg (= g/g; mg/mmol ÷ 113.12, UNIT-10, units.py); a 24-h protein in g/day counts as UPCR g/g
when no UPCR was sent with it. Baseline = the latest pre-infusion value (UPCR and eGFR separately),
unless the physician set another (RenalBaseline).
- RENAL-2, KDIGO 2024 (default) [KDIGO 2024]: complete = UPCR < 0.5 and eGFR ≥ 85 % of baseline;
  partial = UPCR fallen ≥ 50 % and < 3.0, and eGFR ≥ 85 % of baseline.
- RENAL-3, BLISS-LN [BLISS-LN]: complete = eGFR ≥ 90 or ≥ 90 % of baseline, and UPCR < 0.5; partial
  (PERR) = eGFR ≥ 60 or ≥ 80 % of baseline, and UPCR ≤ 0.7.
Otherwise "none". The status is that of the last UPCR sample with the latest eGFR at or before it
(RENAL-4).
LN flare (RENAL-5) [LN flare definitions]: after a complete response, UPCR > 0.5; after a partial
response, UPCR ≥ 2 × the lowest post-infusion value before the run and > 1.0; on ≥ 2 consecutive
samples spanning ≥ 7 days, every sample of the run qualifying; dated at the first. The rule follows
the best response reached before the run (complete once a complete response was ever reached); after
a flare, a new response must be reached before the next one.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..observations import INFUSION_T, Lab
from ..results import Driver
from .course import FollowupCourse
from .logic import Tri, above, all_of, any_of, at_least, at_most, below
from .results import RelapseEvent, RenalStatus
from .settings import FollowupSettings, RenalDefinition
from .wording import HOURS_PER_DAY, day, num

UPCR_COMPLETE_BELOW = 0.5  # RENAL-2, RENAL-3 complete response: UPCR < 0.5 mg/mg
KDIGO_EGFR_FRACTION = 0.85  # RENAL-2 [KDIGO 2024]: eGFR ≥ 85 % of baseline
KDIGO_PARTIAL_FALL = 0.5  # UPCR fallen ≥ 50 % from baseline …
KDIGO_PARTIAL_UPCR_BELOW = 3.0  # … and < 3.0 mg/mg
BLISS_COMPLETE_EGFR = 90.0  # RENAL-3 [BLISS-LN]: eGFR ≥ 90 …
BLISS_COMPLETE_EGFR_FRACTION = 0.9  # … or ≥ 90 % of baseline
BLISS_PERR_EGFR = 60.0  # PERR: eGFR ≥ 60 …
BLISS_PERR_EGFR_FRACTION = 0.8  # … or ≥ 80 % of baseline
BLISS_PERR_UPCR_MAX = 0.7  # … and UPCR ≤ 0.7
LN_FLARE_AFTER_COMPLETE_ABOVE = 0.5  # RENAL-5 [LN flare definitions]: UPCR > 0.5 after a complete response
LN_FLARE_DOUBLING = 2.0  # after a partial response: ≥ 2 × the nadir …
LN_FLARE_AFTER_PARTIAL_ABOVE = 1.0  # … and > 1.0
LN_FLARE_MIN_SPAN_DAYS = 7.0  # on ≥ 2 samples ≥ 7 days apart
_RANK = {"complete": 2, "partial": 1}


@dataclass(frozen=True, slots=True)
class RenalBaseline:
    """The physician's baseline, overriding the pre-LD value (RENAL-1); None keeps that value."""

    upcr_mg_mg: float | None = None
    egfr_mL_min: float | None = None


@dataclass(frozen=True, slots=True)
class ProteinSample:
    t_hours: float
    upcr: float  # mg/mg (or g/day)
    index: int | None
    text: str


def _sample(lab: Lab) -> ProteinSample | None:
    if lab.upcr_mg_mg is not None:
        if lab.upcr_entered_mg_mmol is not None:
            text = f"UPCR {num(lab.upcr_entered_mg_mmol)} mg/mmol = {lab.upcr_mg_mg:.3f} mg/mg"
        else:
            text = f"UPCR {num(lab.upcr_mg_mg)} mg/mg"
        return ProteinSample(lab.t_hours, lab.upcr_mg_mg, lab.index, text)
    if lab.protein_g_24h is not None:
        return ProteinSample(
            lab.t_hours, lab.protein_g_24h, lab.index, f"24-h protein {num(lab.protein_g_24h)} g/day"
        )
    return None


def _fraction_ok(egfr: float | None, base: float | None, fraction: float) -> Tri:
    if egfr is None or base is None or base <= 0:
        return None
    return at_least(egfr / base, fraction)


def response(
    s: ProteinSample, egfr: float | None, base_upcr: float | None, base_egfr: float | None, definition: str
) -> str | None:
    """'complete' / 'partial' / 'none', or None when it cannot be decided."""
    if definition == RenalDefinition.BLISS_LN:
        eg_c = any_of(
            (
                None if egfr is None else at_least(egfr, BLISS_COMPLETE_EGFR),
                _fraction_ok(egfr, base_egfr, BLISS_COMPLETE_EGFR_FRACTION),
            )
        )
        eg_p = any_of(
            (
                None if egfr is None else at_least(egfr, BLISS_PERR_EGFR),
                _fraction_ok(egfr, base_egfr, BLISS_PERR_EGFR_FRACTION),
            )
        )
        complete = all_of((eg_c, below(s.upcr, UPCR_COMPLETE_BELOW)))
        partial = all_of((eg_p, at_most(s.upcr, BLISS_PERR_UPCR_MAX)))
    else:
        eg = _fraction_ok(egfr, base_egfr, KDIGO_EGFR_FRACTION)
        complete = all_of((below(s.upcr, UPCR_COMPLETE_BELOW), eg))
        fall: Tri = (
            None
            if base_upcr is None
            else (base_upcr > 0 and at_most(s.upcr / base_upcr, 1.0 - KDIGO_PARTIAL_FALL))
        )
        partial = all_of((fall, below(s.upcr, KDIGO_PARTIAL_UPCR_BELOW), eg))
    if complete is True:
        return "complete"
    if complete is None:
        return None
    if partial is True:
        return "partial"
    return None if partial is None else "none"


def _shown(value: float | None) -> str:
    return "not recorded" if value is None else num(value)


def _latest_at(samples: list[tuple[float, float]], t: float) -> float | None:
    best = None
    for st, v in samples:
        if st <= t:
            best = v
    return best


def renal_course(
    course: FollowupCourse, settings: FollowupSettings, baseline: RenalBaseline | None = None
) -> tuple[RenalStatus, tuple[RelapseEvent, ...]]:
    definition = settings.renal_response_definition
    samples = [s for s in (_sample(lab) for lab in course.labs) if s is not None]
    egfrs = [(t, v) for t, v, _ in course.series("egfr_mL_min")]
    base = [s for s in samples if s.t_hours <= INFUSION_T]
    base_upcr = base[-1].upcr if base else None
    base_egfr = _latest_at(egfrs, INFUSION_T)
    set_by = ""
    if baseline is not None and (baseline.upcr_mg_mg is not None or baseline.egfr_mL_min is not None):
        base_upcr = baseline.upcr_mg_mg if baseline.upcr_mg_mg is not None else base_upcr
        base_egfr = baseline.egfr_mL_min if baseline.egfr_mL_min is not None else base_egfr
        set_by = " (set by the physician)"
    post = [s for s in samples if s.t_hours > INFUSION_T]
    responses = [response(s, _latest_at(egfrs, s.t_hours), base_upcr, base_egfr, definition) for s in post]
    basis = f"baseline{set_by} UPCR {_shown(base_upcr)}, eGFR {_shown(base_egfr)}"
    if not post:
        status = RenalStatus(
            definition,
            None,
            None,
            None,
            None,
            (
                Driver(
                    f"renal response ({definition}, G-5)",
                    None,
                    None,
                    f"no post-infusion UPCR sample ({basis})",
                ),
            ),
        )
        return status, ()
    last, last_resp = post[-1], responses[-1]
    eg = _latest_at(egfrs, last.t_hours)
    text = (
        f"renal response {last_resp or 'not decided'} ({definition}) at {day(last.t_hours)}:"
        f" {last.text}, eGFR {_shown(eg)}; {basis}"
    )
    status = RenalStatus(
        definition,
        last_resp,
        last.t_hours,
        last.upcr,
        eg,
        (Driver(f"renal response ({definition}, G-5)", last.index, last.t_hours, text),),
    )
    return status, _ln_flares(post, responses)


def _ln_flares(post: list[ProteinSample], responses: list[str | None]) -> tuple[RelapseEvent, ...]:
    events: list[RelapseEvent] = []
    start = 0  # responses and the nadir count from here (reset after a flare)
    i = 0
    while i < len(post):
        reached = [r for r in responses[start:i] if r in _RANK]
        if not reached:
            i += 1
            continue
        best = max(reached, key=_RANK.__getitem__)
        nadir = min(s.upcr for s in post[start:i])

        def qualifies(s: ProteinSample, best: str = best, nadir: float = nadir) -> bool:
            if best == "complete":
                return above(s.upcr, LN_FLARE_AFTER_COMPLETE_ABOVE)
            return at_least(s.upcr, LN_FLARE_DOUBLING * nadir) and above(s.upcr, LN_FLARE_AFTER_PARTIAL_ABOVE)

        if not qualifies(post[i]):
            i += 1
            continue
        j = i
        confirmed: int | None = None
        while j + 1 < len(post) and qualifies(post[j + 1]):
            j += 1
            if confirmed is None and at_least(
                post[j].t_hours - post[i].t_hours, LN_FLARE_MIN_SPAN_DAYS * HOURS_PER_DAY
            ):
                confirmed = j
        if confirmed is not None:
            first, second = post[i], post[confirmed]
            if best == "complete":
                rule = f"UPCR > {num(LN_FLARE_AFTER_COMPLETE_ABOVE)} after a complete response"
            else:
                rule = (
                    f"UPCR ≥ {num(LN_FLARE_DOUBLING)} × the nadir {num(nadir)} and"
                    f" > {num(LN_FLARE_AFTER_PARTIAL_ABOVE)} after a partial response"
                )
            apart = num((second.t_hours - first.t_hours) / HOURS_PER_DAY)
            text = (
                f"LN flare dated {day(first.t_hours)}: {first.text} and {second.text}"
                f" ({day(second.t_hours)}), {rule}, {apart} days apart (≥ {num(LN_FLARE_MIN_SPAN_DAYS)})"
            )
            events.append(
                RelapseEvent(
                    first.t_hours,
                    second.t_hours,
                    "lupus_nephritis",
                    "LN flare",
                    Driver("LN flare (RENAL-5)", second.index, second.t_hours, text),
                )
            )
            start = j + 1
        i = j + 1
    return tuple(events)
