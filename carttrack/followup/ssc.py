"""Systemic sclerosis: mRSS, the revised EUSTAR activity index and progression (SSC-1…SSC-3,
RELAPSE-4; G-9).

- mRSS (SSC-1): 17 sites scored 0–3, total 0–51 [mRSS method]. Progression (SSC-2) [EUSTAR progression]:
  an increase > 5 units and ≥ 25 % from the pre-LD baseline (MCID 3–5 units [Khanna 2019]).
- Revised EUSTAR-AI 0–10 (SSC-3) [Valentini 2017]: Δ-skin (patient-reported worsening in
  the past month) 1.5; mRSS > 18 1.5; digital ulcers 1.5; tendon friction rubs 2.25; CRP > 1 mg/dL
  2.25; DLCO < 70 % predicted 1.0; ≥ 2.5 = active. An item not recorded gives no index (SSC-3).
- Relapse (RELAPSE-4, G-9): mRSS progression; or FVC fallen ≥ 10 points of predicted from its best
  post-infusion value; or EUSTAR-AI ≥ 2.5 after a post-infusion value < 2.5.
Values are those of the last SSc assessment; relapses are every onset since infusion.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..results import Driver
from .inputs import SscAssessment
from .logic import Tri, above, at_least, below
from .results import RelapseEvent, SscStatus
from .settings import FollowupSettings
from .wording import day, num

# SSC-1: the mRSS 17-site method [mRSS method].
MRSS_SITES: tuple[str, ...] = (
    "face",
    "anterior_chest",
    "abdomen",
    "upper_arm_right",
    "upper_arm_left",
    "forearm_right",
    "forearm_left",
    "hand_right",
    "hand_left",
    "fingers_right",
    "fingers_left",
    "thigh_right",
    "thigh_left",
    "lower_leg_right",
    "lower_leg_left",
    "foot_right",
    "foot_left",
)
MRSS_SITE_MAX = 3  # SSC-1
MRSS_MAX = 51  # SSC-1
MRSS_PROGRESSION_ABOVE_UNITS = 5  # SSC-2 [EUSTAR progression]: increase > 5 units …
MRSS_PROGRESSION_FRACTION = 0.25  # … and ≥ 25 % from baseline
# SSC-3, revised EUSTAR-AI [Valentini 2017]: item weights and cut-offs.
EUSTAR_DELTA_SKIN = 1.5
EUSTAR_MRSS_ABOVE = 18
EUSTAR_MRSS = 1.5
EUSTAR_DIGITAL_ULCERS = 1.5
EUSTAR_TENDON_FRICTION_RUBS = 2.25
EUSTAR_CRP_ABOVE_MG_DL = 1.0
EUSTAR_CRP = 2.25
EUSTAR_DLCO_BELOW_PCT = 70.0
EUSTAR_DLCO = 1.0
EUSTAR_ACTIVE_AT_LEAST = 2.5


def eustar_ai(a: SscAssessment) -> tuple[float | None, str]:
    """The index and its items in words; None when an item was not recorded."""
    items: list[tuple[str, bool | None, float]] = [
        ("Δ-skin", a.delta_skin, EUSTAR_DELTA_SKIN),
        (f"mRSS > {EUSTAR_MRSS_ABOVE}", None if a.mrss is None else a.mrss > EUSTAR_MRSS_ABOVE, EUSTAR_MRSS),
        ("digital ulcers", a.digital_ulcers, EUSTAR_DIGITAL_ULCERS),
        ("tendon friction rubs", a.tendon_friction_rubs, EUSTAR_TENDON_FRICTION_RUBS),
        (
            f"CRP > {num(EUSTAR_CRP_ABOVE_MG_DL)} mg/dL",
            None if a.crp_mg_dL is None else above(a.crp_mg_dL, EUSTAR_CRP_ABOVE_MG_DL),
            EUSTAR_CRP,
        ),
        (
            f"DLCO < {num(EUSTAR_DLCO_BELOW_PCT)} %",
            None if a.dlco_pct_predicted is None else below(a.dlco_pct_predicted, EUSTAR_DLCO_BELOW_PCT),
            EUSTAR_DLCO,
        ),
    ]
    missing = [name for name, present, _ in items if present is None]
    if missing:
        return None, "not recorded: " + ", ".join(missing)
    scored = [(name, w) for name, present, w in items if present]
    total = sum(w for _, w in scored)
    return total, (" + ".join(f"{name} {num(w)}" for name, w in scored) or "no item")


def progression(baseline: SscAssessment | None, a: SscAssessment) -> tuple[Tri, str]:
    if baseline is None or baseline.mrss is None:
        return None, "no pre-LD baseline mRSS"
    if a.mrss is None:
        return None, "mRSS not recorded"
    rise = a.mrss - baseline.mrss
    relative = rise >= MRSS_PROGRESSION_FRACTION * baseline.mrss if baseline.mrss > 0 else rise > 0
    met = rise > MRSS_PROGRESSION_ABOVE_UNITS and relative
    pct = f" ({rise / baseline.mrss:+.0%})" if baseline.mrss > 0 else ""
    return met, f"mRSS {baseline.mrss} -> {a.mrss}: {rise:+d}{pct}"


def ssc_course(
    baseline: SscAssessment | None, post: Sequence[SscAssessment], settings: FollowupSettings
) -> tuple[SscStatus | None, tuple[RelapseEvent, ...]]:
    if not post:
        return None, ()
    events: list[RelapseEvent] = []
    best_fvc: float | None = None
    fvc_fallen = False
    progressed: Tri = False
    seen_inactive = False
    eustar_was_active = False

    def event(a: SscAssessment, rule: str, text: str) -> None:
        events.append(
            RelapseEvent(
                a.t_hours,
                a.t_hours,
                "ssc",
                rule,
                Driver(f"SSc relapse: {rule} (RELAPSE-4, G-9)", a.index, a.t_hours, text),
            )
        )

    for a in post:
        prog, prog_text = progression(baseline, a)
        if prog is True and progressed is not True:
            event(
                a,
                "mRSS progression",
                f"SSc relapse at {day(a.t_hours)}: {prog_text} from the pre-LD baseline"
                f" (> {MRSS_PROGRESSION_ABOVE_UNITS} and ≥ {MRSS_PROGRESSION_FRACTION:.0%}, SSC-2)",
            )
        progressed = prog
        if a.fvc_pct_predicted is not None:
            if best_fvc is not None:
                fall = best_fvc - a.fvc_pct_predicted
                now_fallen = at_least(fall, settings.ssc_fvc_fall_pct_points)
                if now_fallen and not fvc_fallen:
                    event(
                        a,
                        "FVC fall",
                        f"SSc relapse at {day(a.t_hours)}: FVC {num(a.fvc_pct_predicted)} % predicted, down"
                        f" {num(fall)} points from its best post-infusion value {num(best_fvc)} %"
                        f" (≥ {num(settings.ssc_fvc_fall_pct_points)}, G-9)",
                    )
                fvc_fallen = now_fallen
            best_fvc = a.fvc_pct_predicted if best_fvc is None else max(best_fvc, a.fvc_pct_predicted)
        ai, _ = eustar_ai(a)
        if ai is not None:
            now_active = at_least(ai, EUSTAR_ACTIVE_AT_LEAST)
            if now_active and seen_inactive and not eustar_was_active:
                event(
                    a,
                    "EUSTAR-AI active again",
                    f"SSc relapse at {day(a.t_hours)}: EUSTAR-AI {num(ai)} ≥ {num(EUSTAR_ACTIVE_AT_LEAST)}"
                    " after a post-infusion value below it (RELAPSE-4, G-9)",
                )
            seen_inactive = seen_inactive or not now_active
            eustar_was_active = now_active
    last = post[-1]
    ai, ai_text = eustar_ai(last)
    prog, prog_text = progression(baseline, last)
    active: Tri = None if ai is None else at_least(ai, EUSTAR_ACTIVE_AT_LEAST)
    state = "active" if active else "not active" if active is False else "not computable"
    drivers = (
        Driver(
            "revised EUSTAR activity index (SSC-3)",
            last.index,
            last.t_hours,
            f"EUSTAR-AI {'—' if ai is None else num(ai)} at {day(last.t_hours)}: {ai_text} — {state}"
            f" (≥ {num(EUSTAR_ACTIVE_AT_LEAST)} active)",
        ),
        Driver(
            "mRSS progression (SSC-2)",
            last.index,
            last.t_hours,
            f"{prog_text} at {day(last.t_hours)}: "
            + ("progression" if prog else "no progression" if prog is False else "not computable")
            + f" (> {MRSS_PROGRESSION_ABOVE_UNITS} units and ≥ {MRSS_PROGRESSION_FRACTION:.0%})",
        ),
    )
    status = SscStatus(last.t_hours, last.mrss, ai, active, prog, drivers)
    return status, tuple(events)
