"""SLEDAI-2K (SLEDAI-1…SLEDAI-11; D-1, D-4, D-5, G-3, G-4).

24 descriptors, weights 8/4/2/1, maximum 105 (SLEDAI-1) [Gladman 2002]. A descriptor
scores when recorded present, except:
- D-1, SLEDAI-5: fever, leukopenia, thrombocytopenia, seizure, organic brain syndrome and lupus headache score
  only when the clinician attributes them to lupus (after CAR-T they are usually treatment effects);
  this holds at every visit, baseline included.
- D-5, SLEDAI-10: a descriptor marked as part of a LICATS episode does not score unless a flare is
  declared (a ``flare_declared`` event within the visit's look-back window).
A not-assessed descriptor makes the score incomplete (G-3, SLEDAI-4): the shown score is a lower bound.
cSLEDAI = SLEDAI-2K without low complement and increased DNA binding (SLEDAI-7) [van Vollenhoven 2021]
[PMC7719036].
Activity category (SLEDAI-8) [ARD activity review]: 0 none, 1–4 mild, 5–10 moderate, > 10 high.
Change vs the previous scored visit (G-4, SLEDAI-9; the first post-infusion visit compares with the pre-LD
baseline): a rise ≥ 4 is a flare when the clinical SLEDAI rose too (a rise of serology alone is not,
SERO-3), a fall ≥ 4 an improvement, otherwise persistent.
"""

from __future__ import annotations

from ..results import Driver
from .inputs import SledaiEntry
from .logic import Tri
from .results import SledaiScore
from .settings import FollowupSettings
from .wording import day

# SLEDAI-1 [Gladman 2002]: descriptor -> weight, in the SLEDAI-2K order.
SLEDAI_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("seizure", 8),
    ("psychosis", 8),
    ("organic_brain_syndrome", 8),
    ("visual_disturbance", 8),
    ("cranial_nerve_disorder", 8),
    ("lupus_headache", 8),
    ("cva", 8),
    ("vasculitis", 8),
    ("arthritis", 4),
    ("myositis", 4),
    ("urinary_casts", 4),
    ("hematuria", 4),
    ("proteinuria", 4),
    ("pyuria", 4),
    ("rash", 2),
    ("alopecia", 2),
    ("mucosal_ulcers", 2),
    ("pleurisy", 2),
    ("pericarditis", 2),
    ("low_complement", 2),
    ("increased_dna_binding", 2),
    ("fever", 1),
    ("thrombocytopenia", 1),
    ("leukopenia", 1),
)
SLEDAI_CODES: tuple[str, ...] = tuple(code for code, _ in SLEDAI_WEIGHTS)
SLEDAI_WEIGHT: dict[str, int] = dict(SLEDAI_WEIGHTS)
SLEDAI_MAX = 105  # SLEDAI-1
SEROLOGY_DESCRIPTORS = frozenset({"low_complement", "increased_dna_binding"})  # not in cSLEDAI (SLEDAI-7)
CLINICAL_DESCRIPTORS: tuple[str, ...] = tuple(c for c in SLEDAI_CODES if c not in SEROLOGY_DESCRIPTORS)
# D-1, SLEDAI-5: score only with a clinician attribution to lupus.
ATTRIBUTION_REQUIRED = frozenset(
    {"fever", "leukopenia", "thrombocytopenia", "seizure", "organic_brain_syndrome", "lupus_headache"}
)
# SLEDAI-8 activity categories [ARD activity review]: the highest score of each band.
CATEGORY_NONE_MAX = 0
CATEGORY_MILD_MAX = 4
CATEGORY_MODERATE_MAX = 10


_LABELS = {"cva": "CVA", "increased_dna_binding": "increased DNA binding"}


def label(code: str) -> str:
    return _LABELS.get(code, code.replace("_", " "))


def category(total: int) -> str:
    if total <= CATEGORY_NONE_MAX:
        return "none"
    if total <= CATEGORY_MILD_MAX:
        return "mild"
    if total <= CATEGORY_MODERATE_MAX:
        return "moderate"
    return "high"


def descriptor_scores(entry: SledaiEntry, code: str, *, flare_declared: bool) -> Tri:
    """True when the descriptor scores, False when it cannot, None when not assessed but could."""
    if code in ATTRIBUTION_REQUIRED and code not in entry.attributed_to_lupus:
        return False
    if code in entry.licats and not flare_declared:
        return False
    return entry.item(code)


def score(entry: SledaiEntry, *, flare_declared: bool, settings: FollowupSettings) -> SledaiScore:
    """SLEDAI-2K of one visit with its drivers."""
    scoring = tuple(
        (code, descriptor_scores(entry, code, flare_declared=flare_declared)) for code in SLEDAI_CODES
    )
    total = sum(SLEDAI_WEIGHT[c] for c, s in scoring if s is True)
    clinical = sum(SLEDAI_WEIGHT[c] for c, s in scoring if s is True and c not in SEROLOGY_DESCRIPTORS)
    unknown = [c for c, s in scoring if s is None]
    total_possible = total + sum(SLEDAI_WEIGHT[c] for c in unknown)
    clinical_possible = clinical + sum(SLEDAI_WEIGHT[c] for c in unknown if c not in SEROLOGY_DESCRIPTORS)
    not_assessed = [c for c, v in entry.items if v is None]
    window = entry.window_days if entry.window_days is not None else settings.sledai_window_days
    when = day(entry.t_hours)
    parts = [f"{label(c)} {SLEDAI_WEIGHT[c]}" for c, s in scoring if s is True]
    cat = category(total)
    text = (
        f"SLEDAI-2K {total} ({cat}), cSLEDAI {clinical} at {when} ({window}-day look-back, G-3): "
        + (" + ".join(parts) if parts else "no descriptor scores")
        + " (SLEDAI-1)"
    )
    drivers = [Driver("SLEDAI-2K (SLEDAI-1)", entry.index, entry.t_hours, text)]
    unattributed = [
        c
        for c in SLEDAI_CODES
        if c in ATTRIBUTION_REQUIRED and entry.item(c) and c not in entry.attributed_to_lupus
    ]
    if unattributed:
        drivers.append(
            Driver(
                "SLEDAI-2K attribution (SLEDAI-5, D-1)",
                entry.index,
                entry.t_hours,
                f"{', '.join(label(c) for c in unattributed)} recorded at {when} but not attributed to lupus:"
                " not scored (D-1: after CAR-T usually a treatment effect)",
            )
        )
    licats = [c for c in entry.licats if entry.item(c)]
    if licats:
        verdict = "scored: a flare is declared" if flare_declared else "not scored (D-5)"
        drivers.append(
            Driver(
                "SLEDAI-2K and LICATS (SLEDAI-10, D-5)",
                entry.index,
                entry.t_hours,
                f"{', '.join(label(c) for c in licats)} marked as part of a LICATS episode at {when}:"
                f" {verdict}",
            )
        )
    if not_assessed:
        drivers.append(
            Driver(
                "SLEDAI-2K incomplete (SLEDAI-4, G-3)",
                entry.index,
                entry.t_hours,
                f"not assessed at {when}: {', '.join(label(c) for c in not_assessed)} — the score"
                f" {total} is a lower bound (at most {total_possible})",
            )
        )
    return SledaiScore(
        t_hours=entry.t_hours,
        index=entry.index,
        total=total,
        clinical=clinical,
        total_possible=total_possible,
        clinical_possible=clinical_possible,
        incomplete=bool(not_assessed),
        window_days=window,
        category=cat,
        scoring=scoring,
        drivers=tuple(drivers),
    )


def change(
    previous: SledaiScore | None, current: SledaiScore, settings: FollowupSettings
) -> tuple[str | None, Driver | None]:
    """G-4, SLEDAI-9: change vs the previous scored visit, on the shown scores (SLEDAI-4: an incomplete
    score counts as its lower bound)."""
    if previous is None:
        return None, None
    delta = current.total - previous.total
    clinical_rose = current.clinical > previous.clinical
    if delta >= settings.sledai_flare_rise and clinical_rose:
        verdict = "flare"
    elif delta <= -settings.sledai_improvement_fall:
        verdict = "improvement"
    else:
        verdict = "persistent"
    why = ""
    if delta >= settings.sledai_flare_rise and not clinical_rose:
        why = " — a rise of serology alone is not a flare (SLEDAI-9; see serology, SERO-3)"
    text = (
        f"SLEDAI-2K {previous.total} at {day(previous.t_hours)} -> {current.total} at {day(current.t_hours)}"
        f" ({delta:+d}; cSLEDAI {previous.clinical} -> {current.clinical}): {verdict}"
        f" (G-4: +{settings.sledai_flare_rise} flare, -{settings.sledai_improvement_fall} improvement){why}"
    )
    return verdict, Driver("SLEDAI-2K change (SLEDAI-9, G-4)", current.index, current.t_hours, text)
