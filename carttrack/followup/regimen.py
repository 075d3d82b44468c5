"""The regimen in force at a time, its glucocorticoid dose and its stability (STEROID-1, STEROID-3,
DORIS-3). A ``medication_status`` is the complete list at its time and replaces the previous one; the
regimen in force at a visit is the latest recorded at or before it (the baseline regimen is the
latest before infusion, VISIT-5)."""

from __future__ import annotations

from collections.abc import Sequence

from .inputs import MedicationStatus
from .logic import Tri, above
from .steroids import STABILITY_CLASSES, DrugClass, prednisolone_equivalent_mg
from .wording import day, num


def regimen_at(regimens: Sequence[MedicationStatus], t_hours: float) -> MedicationStatus | None:
    """The latest regimen recorded at or before t_hours (regimens sorted by time)."""
    best = None
    for r in regimens:
        if r.t_hours > t_hours:
            break
        best = r
    return best


def describe(regimen: MedicationStatus) -> str:
    if not regimen.drugs:
        return f"no treatment (recorded {day(regimen.t_hours)})"
    return (
        ", ".join(f"{d.label} {d.dose_text}" for d in regimen.drugs) + f" (recorded {day(regimen.t_hours)})"
    )


def glucocorticoid_mg(regimen: MedicationStatus) -> tuple[float | None, str]:
    """Prednisolone-equivalent mg/day of all glucocorticoids (STEROID-1); None when a dose is missing."""
    total = 0.0
    parts: list[str] = []
    for d in regimen.drugs:
        if d.drug_class is not DrugClass.GLUCOCORTICOID:
            continue
        daily = d.daily_mg
        if daily is None:
            return None, f"{d.label}: dose not recorded"
        eq = prednisolone_equivalent_mg(d.drug, daily)
        total += eq
        same = d.drug in ("prednisolone", "prednisone")
        parts.append(f"{d.label} {num(daily)} mg/day" + ("" if same else f" ≙ prednisolone {num(eq)}"))
    if not parts:
        return 0.0, "no glucocorticoid (prednisolone-equivalent 0 mg/day)"
    return total, f"prednisolone-equivalent {num(total)} mg/day (" + " + ".join(parts) + ")"


def stability(now: MedicationStatus, previous: MedicationStatus | None) -> tuple[Tri, str]:
    """DORIS-3: antimalarials, immunosuppressants and biologics vs the previous visit's regimen:
    a new drug or a higher daily dose is unstable; a reduction or a stop is stable; taking none is
    stable. A dose not recorded on either side is compared by presence only."""
    current = [d for d in now.drugs if d.drug_class in STABILITY_CLASSES]
    if not current:
        return True, "none taken (stable)"
    if previous is None:
        return None, "no regimen recorded at the previous visit to compare with"
    changes: list[str] = []
    unstable = False
    for d in current:
        before = previous.dose_of(d.drug)
        if before is None:
            unstable = True
            changes.append(f"{d.label} new")
            continue
        a, b = before.daily_mg, d.daily_mg
        if a is None or b is None:
            changes.append(f"{d.label} unchanged in the list (dose not recorded)")
        elif above(b, a):
            unstable = True
            changes.append(f"{d.label} increased {before.dose_text} -> {d.dose_text}")
        elif b < a:
            changes.append(f"{d.label} reduced {before.dose_text} -> {d.dose_text} (stable)")
    stopped = [
        d.label for d in previous.drugs if d.drug_class in STABILITY_CLASSES and now.dose_of(d.drug) is None
    ]
    if stopped:
        changes.append("stopped: " + ", ".join(stopped) + " (stable)")
    verdict = "not stable" if unstable else "stable"
    detail = "; ".join(changes) if changes else "unchanged"
    return (not unstable), f"{verdict} vs the regimen {day(previous.t_hours)}: {detail}"
