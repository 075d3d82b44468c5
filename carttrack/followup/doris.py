"""DORIS 2021 remission (DORIS-1…DORIS-5; D-2) [van Vollenhoven 2021] Table 2: cSLEDAI = 0 and
PGA < 0.5 (not the older framework's ≤ 0.5, DORIS-2) and prednisolone-equivalent ≤ 5 mg/day (D-2) and
antimalarials, immunosuppressants and biologics stable (DORIS-3: no new drug, no dose increase since
the previous SLEDAI-2K visit; taking none is stable); serology is irrelevant.
Duration is not part of the definition (DORIS-5; shown apart: "in DORIS since", "sustained ≥ 6
months").
Three-valued (DORIS-4): not decided when it depends on a not-assessed clinical descriptor, on a
missing PGA, or when no regimen has been recorded.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..observations import INFUSION_T
from ..results import Driver
from .inputs import MedicationStatus
from .logic import all_of, at_least, at_most, below, mark
from .regimen import describe, glucocorticoid_mg, stability
from .results import Criterion, SledaiScore, SleVisit, Verdict
from .wording import HOURS_PER_MONTH, day, num

DORIS_PGA_BELOW = 0.5  # DORIS-2 [van Vollenhoven 2021]: PGA < 0.5
DORIS_PREDNISOLONE_MAX_MG = 5.0  # DORIS-1, D-2: ≤ 5 mg/day
SUSTAINED_REMISSION_MONTHS = 6.0  # DORIS-5: "sustained ≥ 6 months", shown apart
DORIS = "DORIS 2021 (DORIS-1)"


def _criterion(name: str, met: bool | None, score: SledaiScore, text: str) -> Criterion:
    return Criterion(
        name, met, Driver(f"{DORIS}: {name}", score.index, score.t_hours, f"{name}: {text} — {mark(met)}")
    )


def doris(
    score: SledaiScore,
    pga: float | None,
    regimen: MedicationStatus | None,
    previous_regimen: MedicationStatus | None,
) -> Verdict:
    when = day(score.t_hours)
    if score.clinical > 0:
        c1, t1 = False, f"cSLEDAI {score.clinical} at {when}"
    elif score.clinical_possible > 0:
        c1, t1 = (
            None,
            f"cSLEDAI 0 at {when} but clinical descriptors not assessed (up to {score.clinical_possible})",
        )
    else:
        c1, t1 = True, f"cSLEDAI 0 at {when}"
    if pga is None:
        c2, t2 = None, f"PGA not recorded at {when}"
    else:
        c2, t2 = below(pga, DORIS_PGA_BELOW), f"PGA {num(pga)} (needs < {num(DORIS_PGA_BELOW)})"
    if regimen is None:
        c3, t3 = None, f"no regimen recorded by {when}"
        c4, t4 = None, t3
    else:
        mg, gc_text = glucocorticoid_mg(regimen)
        c3 = None if mg is None else at_most(mg, DORIS_PREDNISOLONE_MAX_MG)
        t3 = f"{gc_text} (needs ≤ {num(DORIS_PREDNISOLONE_MAX_MG)}, D-2); regimen {describe(regimen)}"
        c4, t4 = stability(regimen, previous_regimen)
    criteria = (
        _criterion("cSLEDAI = 0", c1, score, t1),
        _criterion("PGA < 0.5", c2, score, t2),
        _criterion("prednisolone ≤ 5 mg/day", c3, score, t3),
        _criterion("stable treatment", c4, score, f"antimalarials, immunosuppressants and biologics: {t4}"),
    )
    return Verdict(DORIS, all_of(c.met for c in criteria), criteria)


def doris_since(visits: Sequence[SleVisit]) -> tuple[float | None, bool | None]:
    """The first visit of the unbroken run of DORIS visits that reaches the last visit, and whether
    that run spans ≥ 6 months."""
    since = None
    for v in reversed(visits):
        if v.doris.met is not True or v.t_hours <= INFUSION_T:
            break
        since = v.t_hours
    if since is None:
        return None, (False if visits and visits[-1].doris.met is False else None)
    span = visits[-1].t_hours - since
    return since, at_least(span, SUSTAINED_REMISSION_MONTHS * HOURS_PER_MONTH)
