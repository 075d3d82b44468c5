"""The whole story of one alert, as its detail page tells it (issue 13 item 4): grade, why, the
suggestions with doses, the suggestions withheld and why, what changed since the last page, who was
paged when and how, who acknowledged.  Reads only what the detail selector has already fetched; every
code and time is put into words by ``carttrack.wording`` in the care team's zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from carttrack import wording

from .models import Alert, AlertEvent, EventKind, Notification, NotificationStatus

#: Events that change what the physician is told (the grade, the evaluation, the acknowledgement).
CHANGE_KINDS = frozenset(
    {EventKind.UPGRADED, EventKind.UPDATED, EventKind.REVISED, EventKind.UNACKNOWLEDGED, EventKind.NOTE}
)


@dataclass(frozen=True)
class Page:
    """One notification of one person on one channel, in words."""

    who: str
    channel: str
    at: str
    outcome: str


@dataclass(frozen=True)
class Change:
    at: str
    what: str
    after_last_page: bool


@dataclass(frozen=True)
class Story:
    zone: str
    opened: str
    acknowledged: str
    last_page: str
    pages: tuple[Page, ...]
    changes: tuple[Change, ...]
    suggestions: tuple[dict, ...]
    withheld: tuple[dict, ...]
    drivers: tuple[str, ...]


def _outcome(n: Notification, zone: str) -> str:
    if n.status == NotificationStatus.FAILED:
        return f"not delivered: {n.error}" if n.error else "not delivered"
    if n.status == NotificationStatus.PENDING:
        return "being sent"
    if n.read_at:
        return f"delivered, read {wording.clock(n.read_at, zone)}"
    return "delivered"


def _text(text: str, alert: Alert, zone: str) -> str:
    return wording.clinical(str(text), alert.infusion.infused_at, zone)


def _items(items, alert: Alert, zone: str) -> tuple[dict, ...]:
    out = []
    for s in items or ():
        if not isinstance(s, dict):
            out.append({"text": _text(str(s), alert, zone), "dose_text": "", "reason": ""})
            continue
        dose = s.get("dose_text") or (f"{s['dose_mg']:g} mg" if s.get("dose_mg") else "")
        out.append(
            {
                "text": _text(s.get("text") or wording.words(s.get("code", "")), alert, zone),
                "dose_text": _text(dose, alert, zone),
                "reason": _text(s.get("withheld_reason", ""), alert, zone),
            }
        )
    return tuple(out)


def story(alert: Alert, events: list[AlertEvent], notifications: list[Notification]) -> Story:
    zone = alert.care_team.time_zone
    sent = [n for n in notifications if n.sent_at or n.status != NotificationStatus.PENDING]
    last_at: datetime | None = max((n.sent_at or n.created_at for n in sent), default=None)
    pages = tuple(
        Page(
            who=wording.person(n.recipient),
            channel=wording.words(n.channel),
            at=wording.moment(n.sent_at or n.created_at, zone),
            outcome=_outcome(n, zone),
        )
        for n in notifications
    )
    changes = tuple(
        Change(
            at=wording.moment(e.at, zone),
            what=(f"{e.get_kind_display()}: " if e.kind == EventKind.NOTE else "")
            + _text(e.text or e.get_kind_display(), alert, zone)
            + (f" ({wording.person(e.user)})" if e.user else ""),
            after_last_page=last_at is not None and e.at > last_at,
        )
        for e in reversed(events)
        if e.kind in CHANGE_KINDS
    )
    if alert.acknowledged_at:
        waited = wording.span(alert.acknowledged_at - alert.opened_at)
        acknowledged = (
            f"Acknowledged by {wording.person(alert.acknowledged_by)} at "
            f"{wording.moment(alert.acknowledged_at, zone)}, {waited} after it opened"
        )
    else:
        acknowledged = "Not acknowledged yet"
    evaluation = alert.evaluation
    return Story(
        zone=zone,
        opened=wording.moment(alert.opened_at, zone),
        acknowledged=acknowledged,
        last_page=wording.moment(last_at, zone) if last_at else "",
        pages=pages,
        changes=changes,
        suggestions=_items(alert.suggestions, alert, zone),
        withheld=_items(evaluation.withheld if evaluation else (), alert, zone),
        drivers=tuple(
            _text(d.get("text", d) if isinstance(d, dict) else d, alert, zone) for d in alert.drivers
        ),
    )
