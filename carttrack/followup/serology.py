"""Serology: seroconversion, complement normalisation and serological re-activation (SERO-1…SERO-3;
D-3, G-6).

anti-dsDNA is judged against the reporting lab's cut-off sent with it (D-3, SERO-2): positive = at or above
the cut-off; seroconverted = below it after an earlier positive value. Complement: normal = C3 and C4
both at or above their lower limits in the same sample; abnormal = either below. anti-dsDNA and
complement are separate tracks; "consecutive" = consecutive samples of that track; only
post-infusion samples count. Re-activation (SERO-3, G-6): after seroconversion (or normalisation), 2
consecutive abnormal samples -> a routine alert "serological re-activation: review for flare" to the
treating physician; never a flare by itself (the SLEDAI-2K descriptors come from the SLEDAI entry
only, SLEDAI-10).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..observations import INFUSION_T, Lab
from ..results import Driver
from .course import FollowupCourse
from .groups import LUPUS_GROUPS
from .logic import Tri, at_least
from .results import SerologyStatus
from .settings import FollowupSettings
from .wording import day, num


@dataclass(frozen=True, slots=True)
class Marker:
    t_hours: float
    abnormal: bool | None  # None: this sample cannot say (only one of C3/C4, and that one normal)
    index: int | None
    text: str


def _dsdna(lab: Lab) -> Marker | None:
    v, cut = lab.anti_dsdna_IU_mL, lab.anti_dsdna_cutoff_IU_mL
    if v is None or cut is None:
        return None
    pos = at_least(v, cut)
    return Marker(
        lab.t_hours, pos, lab.index, f"anti-dsDNA {num(v)} IU/mL ({'≥' if pos else '<'} cut-off {num(cut)})"
    )


def _complement(lab: Lab) -> Marker | None:
    parts: list[tuple[str, float, float]] = []
    if lab.c3_mg_dL is not None and lab.c3_lln_mg_dL is not None:
        parts.append(("C3", lab.c3_mg_dL, lab.c3_lln_mg_dL))
    if lab.c4_mg_dL is not None and lab.c4_lln_mg_dL is not None:
        parts.append(("C4", lab.c4_mg_dL, lab.c4_lln_mg_dL))
    if not parts:
        return None
    low = [name for name, v, lln in parts if not at_least(v, lln)]
    abnormal: bool | None = True if low else (False if len(parts) == 2 else None)
    text = ", ".join(
        f"{name} {num(v)} mg/dL ({'<' if name in low else '≥'} LLN {num(lln)})" for name, v, lln in parts
    )
    return Marker(lab.t_hours, abnormal, lab.index, text)


def _reactivations(markers: list[Marker], needed: int, track: str) -> list[tuple[str, float, float, Driver]]:
    events: list[tuple[str, float, float, Driver]] = []
    abnormal_seen = False
    normalised = False
    run: list[Marker] = []
    for m in markers:
        if m.abnormal is None:
            continue
        if m.abnormal:
            if normalised:
                run.append(m)
                if len(run) >= needed:
                    after = "seroconversion" if track == "anti-dsDNA" else "normalisation"
                    text = (
                        f"serological re-activation ({track}) {day(run[0].t_hours)}–{day(m.t_hours)}: "
                        + "; ".join(x.text for x in run)
                        + f" after {after} — review for flare (G-6)"
                    )
                    events.append(
                        (
                            track,
                            run[0].t_hours,
                            m.t_hours,
                            Driver("serological re-activation (G-6)", m.index, m.t_hours, text),
                        )
                    )
                    normalised, run = False, []
            abnormal_seen = True
        else:
            normalised = normalised or abnormal_seen
            run = []
    return events


def serology_course(course: FollowupCourse, settings: FollowupSettings) -> SerologyStatus:
    post = [lab for lab in course.labs if lab.t_hours > INFUSION_T]
    tracks = (
        ("anti-dsDNA", [m for m in map(_dsdna, post) if m is not None]),
        ("complement", [m for m in map(_complement, post) if m is not None]),
    )
    events: list[tuple[str, float, float, Driver]] = []
    drivers: list[Driver] = []
    for name, markers in tracks:
        found = _reactivations(markers, settings.serology_reactivation_samples, name)
        events.extend(found)
        drivers.extend(e[3] for e in found)
        if markers and not found:
            last = markers[-1]
            drivers.append(
                Driver(
                    f"serology ({name})",
                    last.index,
                    last.t_hours,
                    f"latest {day(last.t_hours)}: {last.text}; no re-activation",
                )
            )
    # "occurred since infusion": false for a lupus course (or any course with samples), else not applicable
    applies = course.group in LUPUS_GROUPS or any(markers for _, markers in tracks)
    reactivation: Tri = bool(events) if applies else None
    events.sort(key=lambda e: e[1])
    return SerologyStatus(reactivation, tuple(events), tuple(drivers))
