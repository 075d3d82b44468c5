"""The SLE visits of a course in order: SLEDAI-2K, change, DORIS, LLDAS and the SLE flares
(SLEDAI-9, DORIS, LLDAS, RELAPSE-1; G-4, G-9).

Each visit is compared with the previous SLEDAI-2K visit; the first post-infusion visit with the
pre-LD baseline. The regimen of a visit is the one in force then (the baseline regimen for the
baseline visit). SLE flares (RELAPSE-1), dated at the visit, counted after infusion only:
- a SLEDAI-2K rise ≥ 4 with a rise of the clinical SLEDAI (G-4);
- loss of DORIS (met at the previous visit, not at this one) with at least one new clinical
  descriptor scoring (recording it is the attribution to lupus, except the D-1 descriptors);
- a new haemolytic anaemia or GI activity after a post-infusion DORIS remission.
Physician-declared flares and LN flares are added by relapse.py.
"""

from __future__ import annotations

from ..observations import INFUSION_T
from ..results import Driver
from .course import FollowupCourse
from .doris import doris
from .inputs import SledaiEntry
from .lldas import lldas
from .logic import Tri, all_of
from .regimen import regimen_at
from .remission import not_drug_free
from .results import RelapseEvent, SledaiScore, SleVisit
from .settings import FollowupSettings
from .sledai import CLINICAL_DESCRIPTORS, change, label, score
from .wording import HOURS_PER_DAY, day


def _flare(entry: SledaiEntry, rule: str, text: str) -> RelapseEvent:
    return RelapseEvent(
        entry.t_hours,
        entry.t_hours,
        "sle",
        rule,
        Driver(f"SLE flare: {rule} (RELAPSE-1)", entry.index, entry.t_hours, text),
    )


def _new_clinical(current: SledaiScore, previous: SledaiScore) -> list[str]:
    return [c for c in CLINICAL_DESCRIPTORS if current.scores(c) is True and previous.scores(c) is not True]


def sle_visits(course: FollowupCourse, settings: FollowupSettings) -> tuple[SleVisit, ...]:
    visits: list[SleVisit] = []
    previous: SleVisit | None = None
    previous_entry: SledaiEntry | None = None
    remission_seen = False
    for entry in course.sledai:
        window = entry.window_days if entry.window_days is not None else settings.sledai_window_days
        declared = course.flare_declared_between(entry.t_hours - window * HOURS_PER_DAY, entry.t_hours)
        sc = score(entry, flare_declared=declared, settings=settings)
        regimen = regimen_at(course.regimens, max(entry.t_hours, INFUSION_T))
        # the previous visit's regimen; the baseline regimen for the first post-infusion visit (DORIS-3)
        previous_regimen = None
        if entry.t_hours > INFUSION_T:
            since = INFUSION_T if previous is None else max(previous.t_hours, INFUSION_T)
            previous_regimen = regimen_at(course.regimens, since)
        verdict, change_driver = change(previous.score if previous else None, sc, settings)
        d = doris(sc, entry.pga, regimen, previous_regimen)
        ll = lldas(sc, entry, previous.score if previous else None, entry.pga, regimen)
        flares: list[RelapseEvent] = []
        when = day(entry.t_hours)
        if entry.t_hours > INFUSION_T and previous is not None and previous_entry is not None:
            if verdict == "flare" and change_driver is not None:
                flares.append(_flare(entry, "SLEDAI-2K rise", f"flare at {when}: {change_driver.text}"))
            new = _new_clinical(sc, previous.score)
            if previous.doris.met is True and d.met is not True and new:
                flares.append(
                    _flare(
                        entry,
                        "loss of DORIS with new activity",
                        f"flare at {when}: DORIS met at {day(previous.t_hours)}, lost with new "
                        + ", ".join(label(c) for c in new),
                    )
                )
            extra = [
                name
                for name, now, before in (
                    ("haemolytic anaemia", entry.hemolytic_anemia, previous_entry.hemolytic_anemia),
                    ("GI activity", entry.gi_activity, previous_entry.gi_activity),
                )
                if now and not before
            ]
            if extra and remission_seen:
                flares.append(
                    _flare(
                        entry,
                        "new haemolytic anaemia or GI activity",
                        f"flare at {when}: new {', '.join(extra)} after a remission",
                    )
                )
        drug_free_here: Tri = all_of(
            (
                d.met,
                None if regimen is None else not not_drug_free(regimen),
                not any(f.t_hours == entry.t_hours for f in course.declared_flares),
            )
        )
        visit = SleVisit(sc, entry.pga, verdict, change_driver, d, ll, drug_free_here, tuple(flares))
        visits.append(visit)
        if entry.t_hours > INFUSION_T and d.met is True:
            remission_seen = True
        previous, previous_entry = visit, entry
    return tuple(visits)
