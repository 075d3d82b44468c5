"""Lupus Low Disease Activity State (LLDAS-1…LLDAS-7) [Franklyn 2016] Table 1: all five of
1. SLEDAI-2K ≤ 4 with no activity in a major organ (renal, CNS, cardiopulmonary, vasculitis, fever)
   and no haemolytic anaemia or gastrointestinal activity (not recorded = absent, LLDAS-1); a D-1
   descriptor counts only when attributed to lupus (LLDAS-7);
2. no new lupus activity vs the previous assessment (clinical descriptors only: serology may return);
3. PGA ≤ 1 (0–3);
4. prednisolone-equivalent ≤ 7.5 mg/day;
5. standard maintenance doses of immunosuppressants and approved biologics: investigational drugs and
   cyclophosphamide (an induction drug) fail; maxima (LLDAS-6) [Golder 2016] Table 3: HCQ 400,
   AZA 200, MMF 3000, mycophenolic acid 2160, leflunomide 20 mg/day; MTX 30 mg/week (a daily figure
   × 7); drugs without a listed maximum are accepted; taking none meets it.
"""

from __future__ import annotations

from ..results import Driver
from .inputs import MedicationStatus, SledaiEntry
from .logic import Tri, all_of, at_most, mark, negate
from .regimen import glucocorticoid_mg
from .results import Criterion, SledaiScore, Verdict
from .sledai import CLINICAL_DESCRIPTORS, label
from .steroids import DrugClass
from .wording import day, num

LLDAS_SLEDAI_MAX = 4  # LLDAS-1 criterion 1
LLDAS_PGA_MAX = 1.0  # LLDAS-3 criterion 3
LLDAS_PREDNISOLONE_MAX_MG = 7.5  # LLDAS-4 criterion 4
# LLDAS-1 criterion 1: major-organ descriptors.
MAJOR_ORGAN_DESCRIPTORS: tuple[str, ...] = (
    "seizure",
    "psychosis",
    "organic_brain_syndrome",
    "visual_disturbance",
    "cranial_nerve_disorder",
    "lupus_headache",
    "cva",
    "vasculitis",
    "urinary_casts",
    "hematuria",
    "proteinuria",
    "pyuria",
    "pleurisy",
    "pericarditis",
    "fever",
)
# LLDAS-6 criterion 5 [Golder 2016] Table 3: maximum maintenance doses.
MAX_MAINTENANCE_MG_PER_DAY: dict[str, float] = {
    "hydroxychloroquine": 400.0,
    "azathioprine": 200.0,
    "mycophenolate_mofetil": 3000.0,
    "mycophenolic_acid": 2160.0,
    "leflunomide": 20.0,
}
MAX_MAINTENANCE_MG_PER_WEEK: dict[str, float] = {"methotrexate": 30.0}
INDUCTION_DRUGS = frozenset({"cyclophosphamide"})  # LLDAS-6: fails criterion 5
DAYS_PER_WEEK = 7.0
LLDAS = "LLDAS (LLDAS-1…LLDAS-5)"


def _criterion(name: str, met: Tri, score: SledaiScore, text: str) -> Criterion:
    return Criterion(
        name, met, Driver(f"{LLDAS}: {name}", score.index, score.t_hours, f"{name}: {text} — {mark(met)}")
    )


def _activity(score: SledaiScore, entry: SledaiEntry) -> tuple[Tri, str]:
    if score.total > LLDAS_SLEDAI_MAX:
        low: Tri = False
    elif score.total_possible <= LLDAS_SLEDAI_MAX:
        low = True
    else:
        low = None
    organs = [c for c in MAJOR_ORGAN_DESCRIPTORS if score.scores(c) is True]
    unknown = [c for c in MAJOR_ORGAN_DESCRIPTORS if score.scores(c) is None]
    no_major: Tri = False if organs else (None if unknown else True)
    extra = [
        name
        for name, v in (("haemolytic anaemia", entry.hemolytic_anemia), ("GI activity", entry.gi_activity))
        if v
    ]
    parts = [
        f"SLEDAI-2K {score.total}"
        + (" (incomplete)" if score.incomplete else "")
        + f" (needs ≤ {LLDAS_SLEDAI_MAX})"
    ]
    if organs:
        parts.append("major-organ activity: " + ", ".join(label(c) for c in organs))
    elif unknown:
        parts.append("major-organ descriptors not assessed: " + ", ".join(label(c) for c in unknown))
    parts.append(", ".join(extra) if extra else "no haemolytic anaemia or GI activity")
    return all_of((low, no_major, not extra)), "; ".join(parts)


def _no_new_activity(score: SledaiScore, previous: SledaiScore | None) -> tuple[Tri, str]:
    if previous is None:
        return None, "no previous assessment to compare with"
    new: list[str] = []
    undecided: list[str] = []
    for code in CLINICAL_DESCRIPTORS:
        is_new = all_of((score.scores(code), negate(previous.scores(code))))
        if is_new is True:
            new.append(label(code))
        elif is_new is None:
            undecided.append(label(code))
    vs = f"vs {day(previous.t_hours)}"
    if new:
        return False, f"new activity {vs}: " + ", ".join(new)
    if undecided:
        return None, f"not decided {vs} (not assessed): " + ", ".join(undecided)
    return True, f"no new clinical descriptor {vs}"


def _maintenance(regimen: MedicationStatus) -> tuple[Tri, str]:
    fails: list[str] = []
    undecided: list[str] = []
    for d in regimen.drugs:
        if d.investigational or d.drug_class is DrugClass.INVESTIGATIONAL:
            fails.append(f"{d.label} is investigational")
        elif d.drug in INDUCTION_DRUGS:
            fails.append(f"{d.label} is an induction drug")
        elif d.drug in MAX_MAINTENANCE_MG_PER_WEEK:
            weekly = (
                d.mg_per_week
                if d.mg_per_week is not None
                else (None if d.mg_per_day is None else d.mg_per_day * DAYS_PER_WEEK)
            )
            limit = MAX_MAINTENANCE_MG_PER_WEEK[d.drug]
            if weekly is None:
                undecided.append(f"{d.label} dose not recorded")
            elif not at_most(weekly, limit):
                fails.append(f"{d.label} {num(weekly)} mg/week > {num(limit)}")
        elif d.drug in MAX_MAINTENANCE_MG_PER_DAY:
            daily = d.daily_mg
            limit = MAX_MAINTENANCE_MG_PER_DAY[d.drug]
            if daily is None:
                undecided.append(f"{d.label} dose not recorded")
            elif not at_most(daily, limit):
                fails.append(f"{d.label} {num(daily)} mg/day > {num(limit)}")
    if fails:
        return False, "; ".join(fails)
    if undecided:
        return None, "; ".join(undecided)
    return True, "maintenance doses within the listed maxima" if regimen.drugs else "no treatment"


def lldas(
    score: SledaiScore,
    entry: SledaiEntry,
    previous: SledaiScore | None,
    pga: float | None,
    regimen: MedicationStatus | None,
) -> Verdict:
    c1, t1 = _activity(score, entry)
    c2, t2 = _no_new_activity(score, previous)
    c3: Tri = None if pga is None else at_most(pga, LLDAS_PGA_MAX)
    t3 = "PGA not recorded" if pga is None else f"PGA {num(pga)} (needs ≤ {num(LLDAS_PGA_MAX)})"
    if regimen is None:
        c4, t4, c5, t5 = None, "no regimen recorded", None, "no regimen recorded"
    else:
        mg, t4 = glucocorticoid_mg(regimen)
        c4 = None if mg is None else at_most(mg, LLDAS_PREDNISOLONE_MAX_MG)
        t4 += f" (needs ≤ {num(LLDAS_PREDNISOLONE_MAX_MG)})"
        c5, t5 = _maintenance(regimen)
    criteria = (
        _criterion("1 low activity, no major organ", c1, score, t1),
        _criterion("2 no new activity", c2, score, t2),
        _criterion("3 PGA ≤ 1", c3, score, t3),
        _criterion("4 prednisolone ≤ 7.5 mg/day", c4, score, t4),
        _criterion("5 maintenance treatment", c5, score, t5),
    )
    return Verdict(LLDAS, all_of(c.met for c in criteria), criteria)
