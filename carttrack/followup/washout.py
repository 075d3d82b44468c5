"""Pre-leukapheresis washout checklist (ELIG-3) [Greco 2024] Table 5 (EBMT and ISCT,
eClinicalMedicine 2024): for each drug last given, the earliest date leukapheresis is
allowed; glucocorticoids at most 10 mg/day prednisone-equivalent from 7 days before leukapheresis
(and before lymphodepletion); hydroxychloroquine needs no washout. A drug the table does not list is
shown as "no washout listed" for the treating team to decide, never as cleared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from .logic import Tri, at_most
from .steroids import MG_EQUIVALENT_TO_PREDNISOLONE_5, normalise_drug_name, prednisolone_equivalent_mg
from .wording import HOURS_PER_DAY, HOURS_PER_MONTH, num

WEEK_DAYS = 7.0
MONTH_DAYS = HOURS_PER_MONTH / HOURS_PER_DAY
# ELIG-3 [Greco 2024] Table 5: minimum days between the last dose and leukapheresis.
_WASHOUT_GROUPS: tuple[tuple[float, tuple[str, ...]], ...] = (
    (0.0, ("hydroxychloroquine", "chloroquine")),  # antimalarials: no washout
    (
        2 * WEEK_DAYS,
        (
            "mycophenolate_mofetil",
            "mycophenolic_acid",
            "azathioprine",
            "tacrolimus",
            "ciclosporin",
            "voclosporin",
            "sirolimus",
            "everolimus",
            "tofacitinib",
            "baricitinib",
            "upadacitinib",
        ),
    ),
    (3 * WEEK_DAYS, ("cyclophosphamide", "methotrexate", "bortezomib")),
    (1 * WEEK_DAYS, ("belimumab", "rituximab", "obinutuzumab", "ocrelizumab", "ofatumumab")),
    (
        1 * MONTH_DAYS,
        ("tocilizumab", "sarilumab", "canakinumab", "secukinumab", "ustekinumab", "adalimumab", "infliximab"),
    ),
    (6 * WEEK_DAYS, ("natalizumab", "dimethyl_fumarate", "fingolimod", "alemtuzumab", "daratumumab", "atg")),
    (6 * MONTH_DAYS, ("cladribine",)),
)
WASHOUT_DAYS: dict[str, float] = {drug: days for days, drugs in _WASHOUT_GROUPS for drug in drugs}
GLUCOCORTICOID_MAX_MG_PER_DAY = 10.0  # ELIG-3: prednisone-equivalent, from 7 days before leukapheresis
GLUCOCORTICOID_WINDOW_DAYS = 7.0


@dataclass(frozen=True, slots=True)
class WashoutItem:
    """One line of the checklist: `cleared` at the planned leukapheresis (None: no rule listed)."""

    drug: str
    last_given: datetime | None
    washout_days: float | None
    earliest: datetime | None
    cleared: Tri
    text: str


def _aware(when: datetime, name: str) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{name} must carry its time zone")
    return when


def _date(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M %Z").strip()


def washout_checklist(
    planned_leukapheresis: datetime,
    last_given: Mapping[str, datetime],
    glucocorticoid_mg_per_day: Mapping[str, float] | None = None,
) -> tuple[WashoutItem, ...]:
    """The checklist for a planned leukapheresis: every drug last given (name -> time of the last dose)
    with the earliest time allowed, and the glucocorticoid dose rule (current mg/day per drug)."""
    planned = _aware(planned_leukapheresis, "planned_leukapheresis")
    items: list[WashoutItem] = []
    for raw_name, when in sorted(last_given.items()):
        drug = normalise_drug_name(raw_name)
        last = _aware(when, f"last dose of {raw_name}")
        if drug in MG_EQUIVALENT_TO_PREDNISOLONE_5:
            continue  # a dose rule, not a washout: below
        label = drug.replace("_", " ")
        days = WASHOUT_DAYS.get(drug)
        if days is None:
            items.append(
                WashoutItem(
                    drug,
                    last,
                    None,
                    None,
                    None,
                    f"{label}: no washout listed (ELIG-3) — decide with the treating team",
                )
            )
            continue
        earliest = last + timedelta(days=days)
        cleared = earliest <= planned
        wait = "no washout" if days == 0 else f"≥ {num(round(days, 1))} days"
        verdict = "cleared" if cleared else "not yet: leukapheresis too early"
        items.append(
            WashoutItem(
                drug,
                last,
                days,
                earliest,
                cleared,
                f"{label} last {_date(last)}: {wait}, earliest {_date(earliest)} — {verdict}",
            )
        )
    if glucocorticoid_mg_per_day:
        doses = {normalise_drug_name(d): mg for d, mg in glucocorticoid_mg_per_day.items()}
        unknown = [d for d in doses if d not in MG_EQUIVALENT_TO_PREDNISOLONE_5]
        if unknown:
            known = ", ".join(MG_EQUIVALENT_TO_PREDNISOLONE_5)
            raise ValueError(f"not a glucocorticoid: {', '.join(unknown)} (one of: {known})")
        total = sum(prednisolone_equivalent_mg(d, mg) for d, mg in doses.items())
        start = planned - timedelta(days=GLUCOCORTICOID_WINDOW_DAYS)
        ok = at_most(total, GLUCOCORTICOID_MAX_MG_PER_DAY)
        items.append(
            WashoutItem(
                "glucocorticoid",
                None,
                None,
                start,
                ok,
                f"glucocorticoid {num(total)} mg/day prednisone-equivalent: at most"
                f" {num(GLUCOCORTICOID_MAX_MG_PER_DAY)} from {_date(start)} (7 days before leukapheresis) and"
                f" before lymphodepletion — {'met' if ok else 'reduce'}",
            )
        )
    return tuple(items)


def still_missing(items: tuple[WashoutItem, ...]) -> tuple[WashoutItem, ...]:
    """What still stands in the way of the planned date (not cleared, or no rule to clear it)."""
    return tuple(i for i in items if i.cleared is not True)
