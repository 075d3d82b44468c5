"""Reading a recorded time: ISO 8601 with its zone, or a local time read in the care team's zone
(INPUT-12 [ISO 8601]).

Every entry path (tablet, API, FHIR import, case tooling) reads timestamps through
:func:`parse_timestamp`, so a time without a zone is never silently taken as UTC, and a local time
that does not exist (clocks jump forward) or occurs twice (clocks fall back) is refused with a
message saying so, instead of being guessed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ObservationError

ISO_EXAMPLE = "2025-03-01T08:30:00+01:00"
SECONDS_PER_HOUR = 3600.0


def parse_timestamp(value: object, *, zone: str | None = None, field: str = "observed_at") -> datetime:
    """An aware datetime from ISO-8601 text (or an aware/naive ``datetime``).

    With an offset or ``Z`` the time is taken as written. Without one, ``zone`` (an IANA name such as
    ``Europe/Berlin``) is required and the wall time is read there; a wall time skipped or repeated by
    a daylight-saving change is an error, because either reading could be an hour wrong.
    Raises :class:`ObservationError` naming ``field``.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ObservationError(
                field,
                value,
                f"an ISO-8601 date and time, e.g. {ISO_EXAMPLE}",
                problem=f"{value!r} is not an ISO-8601 date and time, e.g. {ISO_EXAMPLE}",
            ) from None
        if "T" not in text and " " not in text:
            raise ObservationError(
                field,
                value,
                f"a date and time, e.g. {ISO_EXAMPLE}",
                problem=f"{value!r} has no time of day: give a date and time, e.g. {ISO_EXAMPLE}",
            )
    else:
        raise ObservationError(
            field,
            value,
            f"an ISO-8601 date and time, e.g. {ISO_EXAMPLE}",
            problem=f"{value!r} is not an ISO-8601 date and time, e.g. {ISO_EXAMPLE}",
        )
    if parsed.tzinfo is not None and parsed.utcoffset() is not None:
        return parsed
    if zone is None:
        raise ObservationError(
            field,
            value,
            f"a time with its UTC offset, e.g. {ISO_EXAMPLE}",
            problem=f"{_text(value)} has no time zone: give a time with its UTC offset, e.g. {ISO_EXAMPLE}",
        )
    return _in_zone(parsed, zone, value, field)


def _in_zone(naive: datetime, zone: str, value: object, field: str) -> datetime:
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ObservationError(
            "time_zone",
            zone,
            "an IANA time zone name, e.g. Europe/Berlin",
            problem=f"{zone!r} is not an IANA time zone name, e.g. Europe/Berlin",
        ) from None
    early = naive.replace(tzinfo=tz, fold=0)
    late = naive.replace(tzinfo=tz, fold=1)
    if early.utcoffset() != late.utcoffset():
        # A wall time inside a daylight-saving change: either skipped (round trip through UTC moves it)
        # or repeated (both folds round-trip to themselves).
        skipped = early.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive
        offsets = " or ".join(_offset(d) for d in (early, late))
        if skipped:
            why = f"does not exist in {zone} (the clocks skip it for daylight saving)"
        else:
            why = f"occurs twice in {zone} ({offsets}: the clocks go back)"
        raise ObservationError(
            field,
            value,
            f"a time with its UTC offset, e.g. {ISO_EXAMPLE}",
            problem=f"{_text(value)} {why}: give a time with its UTC offset, e.g. {ISO_EXAMPLE}",
        )
    return early


def _offset(moment: datetime) -> str:
    delta = moment.utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _text(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def hours_after(start: datetime, moment: datetime) -> float:
    """Hours from ``start`` to ``moment`` (both aware): the ``t_hours`` of a record after the infusion."""
    return (moment - start).total_seconds() / SECONDS_PER_HOUR
