"""How much tocilizumab a course still allows: the limits of TOCI-3 (A-13: at most 3 doses in any
24 h, 4 per infusion course; the 24-h window is half-open) and the interval of TOCI-2 (at least 8 h
apart). One place, read by the suggestions (a dose at a limit is withheld with this reason) and by
the shift handover (the limits left)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .settings import DecisionSettings

#: The 24-h window of TOCI-3 (A-13), in hours.
TOCI_WINDOW_HOURS = 24.0


@dataclass(frozen=True)
class TocilizumabAllowance:
    """Doses given and left at ``as_of`` (hours after infusion) under the site's settings."""

    given_course: int
    max_course: int
    given_24h: int
    max_24h: int
    last_t: float | None
    #: When the next dose may be given (TOCI-2), if that is still ahead of ``as_of``; else None.
    next_not_before_t: float | None

    @property
    def left_course(self) -> int:
        return max(0, self.max_course - self.given_course)

    @property
    def left_24h(self) -> int:
        """Doses that may still be given in the current 24 h (never more than the course allows)."""
        return min(max(0, self.max_24h - self.given_24h), self.left_course)

    @property
    def blocked_reason(self) -> str | None:
        """Why no further dose may be given now (TOCI-3), or None."""
        if self.given_24h >= self.max_24h:
            return f"{self.given_24h} tocilizumab doses in the last 24 h (max {self.max_24h} per 24 h, A-13)"
        if self.given_course >= self.max_course:
            return f"{self.given_course} tocilizumab doses this course (max {self.max_course}, A-13)"
        return None


def tocilizumab_allowance(
    toci_times: Iterable[float], as_of: float, settings: DecisionSettings
) -> TocilizumabAllowance:
    """The allowance after the doses given at ``toci_times`` (hours after infusion, this course)."""
    times = sorted(toci_times)
    in_24h = sum(1 for t in times if as_of - TOCI_WINDOW_HOURS < t <= as_of)
    last = times[-1] if times else None
    next_t = None
    if last is not None and as_of - last < settings.tocilizumab_min_interval_hours:
        next_t = last + settings.tocilizumab_min_interval_hours
    return TocilizumabAllowance(
        given_course=len(times),
        max_course=settings.tocilizumab_max_doses_course,
        given_24h=in_24h,
        max_24h=settings.tocilizumab_max_doses_24h,
        last_t=last,
        next_not_before_t=next_t,
    )
