"""Relapse per disease (RELAPSE-1…RELAPSE-5; G-9, D-5): the events since this course's
infusion from every instrument, plus physician-declared flares (any disease). LICATS episodes are not
flares unless the physician declares one (RELAPSE-2, D-5: descriptors marked LICATS do not score, sledai.py).
A relapse is an urgent alert to the treating physicians and ends a drug-free remission period (RELAPSE-5).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..observations import INFUSION_T
from ..results import Driver
from .course import FollowupCourse
from .results import RelapseEvent
from .wording import day


def declared(course: FollowupCourse) -> tuple[RelapseEvent, ...]:
    return tuple(
        RelapseEvent(
            e.t_hours,
            e.t_hours,
            "any",
            "physician-declared",
            Driver(
                "physician-declared flare (RELAPSE-5)",
                e.index,
                e.t_hours,
                f"flare or relapse declared by the physician {day(e.t_hours)}"
                + (f" ({e.attributed_to})" if e.attributed_to else ""),
            ),
        )
        for e in course.declared_flares
        if e.t_hours > INFUSION_T
    )


def all_relapses(*sources: Iterable[RelapseEvent]) -> tuple[RelapseEvent, ...]:
    """Every post-infusion event, by time (the first is `relapse_hours`)."""
    events = [e for source in sources for e in source if e.t_hours > INFUSION_T]
    return tuple(sorted(events, key=lambda e: (e.t_hours, e.detected_hours, e.rule)))
