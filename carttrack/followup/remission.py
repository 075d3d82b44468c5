"""Drug-free remission (REMISSION-1, REMISSION-2; G-2): DORIS met at the last SLEDAI-2K visit, and
from that visit to the last observation no glucocorticoid, immunosuppressant, biologic or
investigational drug and no relapse. An antimalarial still taken does not break it and is shown
beside it ("drug-free except hydroxychloroquine"). A flare or relapse ends the period (its end date
is the flare date, RELAPSE-5).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..results import Driver
from .inputs import MedicationStatus
from .logic import Tri, all_of, mark
from .regimen import regimen_at
from .results import DrugFreeStatus, RelapseEvent, SleVisit
from .steroids import NOT_DRUG_FREE_CLASSES, DrugClass
from .wording import day

DRUG_FREE = "drug-free remission (REMISSION-1, G-2)"


def not_drug_free(regimen: MedicationStatus) -> list[str]:
    """The drugs of a regimen that a drug-free remission does not allow."""
    return [d.label for d in regimen.drugs if d.investigational or d.drug_class in NOT_DRUG_FREE_CLASSES]


def regimens_from(
    regimens: Sequence[MedicationStatus], start: float, end: float
) -> list[MedicationStatus | None]:
    """The regimen in force at `start` (None when none was recorded) and every later one up to `end`."""
    return [regimen_at(regimens, start), *(r for r in regimens if start < r.t_hours <= end)]


def _drug_free_regimens(regimens: Sequence[MedicationStatus | None]) -> tuple[Tri, str]:
    blocking = [(r, not_drug_free(r)) for r in regimens if r is not None]
    blocking = [(r, names) for r, names in blocking if names]
    if blocking:
        r, names = blocking[0]
        return False, f"{', '.join(names)} in the regimen recorded {day(r.t_hours)}"
    if regimens and regimens[0] is None:
        return None, "no regimen recorded at the visit"
    return True, "no glucocorticoid, immunosuppressant, biologic or investigational drug since"


def drug_free(
    visits: Sequence[SleVisit],
    regimens: Sequence[MedicationStatus],
    relapses: Sequence[RelapseEvent],
    last_hours: float,
) -> DrugFreeStatus | None:
    if not visits:
        return None
    last = visits[-1]
    drugs_ok, drugs_text = _drug_free_regimens(regimens_from(regimens, last.t_hours, last_hours))
    later = [r for r in relapses if r.t_hours >= last.t_hours]
    met = all_of((last.doris.met, drugs_ok, not later))
    current = regimen_at(regimens, last_hours)
    antimalarials = (
        tuple(d.drug for d in current.drugs if d.drug_class is DrugClass.ANTIMALARIAL) if current else ()
    )
    parts = [f"DORIS {mark(last.doris.met)} at {day(last.t_hours)}", drugs_text]
    if later:
        parts.append(f"relapse {day(later[0].t_hours)} ends it")
    if met and antimalarials:
        parts.append("drug-free except " + ", ".join(a.replace("_", " ") for a in antimalarials))
    since = _since(visits, regimens, relapses, last_hours) if met else None
    if since is not None:
        parts.append(f"since {day(since)}")
    text = f"drug-free remission {mark(met)}: " + "; ".join(parts)
    driver = Driver(DRUG_FREE, last.score.index, last.t_hours, text)
    return DrugFreeStatus(met, since, antimalarials, (driver,))


def _since(
    visits: Sequence[SleVisit],
    regimens: Sequence[MedicationStatus],
    relapses: Sequence[RelapseEvent],
    last_hours: float,
) -> float | None:
    """The first visit of the unbroken drug-free DORIS period that reaches the last visit."""
    since = None
    for v in reversed(visits):
        ok, _ = _drug_free_regimens(regimens_from(regimens, v.t_hours, last_hours))
        if v.doris.met is not True or ok is not True or any(r.t_hours >= v.t_hours for r in relapses):
            break
        since = v.t_hours
    return since
