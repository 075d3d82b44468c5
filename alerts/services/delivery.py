"""Who a step reaches, and each notification delivered at most once (idempotency key, re-checked just
before the hand-over to a channel)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role, User
from carttrack import wording

from .. import channels
from ..models import (
    ROUTINE_CHANNELS,
    Alert,
    Channel,
    EscalationStep,
    EventKind,
    Notification,
    NotificationStatus,
    OperationsAlarm,
    Slot,
    StepStatus,
    Target,
    Urgency,
)
from ..oncall import oncall_for_team
from ..policy import PolicyStep
from .common import record_event


def team_members(team_id: int, *, roles: Iterable[str], leads_only: bool = False) -> list[User]:
    qs = Membership.objects.filter(team_id=team_id, role__in=list(roles), user__is_active=True)
    if leads_only:
        qs = qs.filter(is_lead=True)
    ids = list(qs.values_list("user_id", flat=True).distinct())
    return list(User.objects.filter(pk__in=ids).order_by("id"))


def leads_of(team_id: int) -> list[User]:
    """Attending (lead physician), charge nurse (lead nurse) and the coordinators."""
    leads = team_members(team_id, roles=[Role.PHYSICIAN, Role.NURSE], leads_only=True)
    coordinators = team_members(team_id, roles=[Role.COORDINATOR])
    seen: dict[int, User] = {u.pk: u for u in [*leads, *coordinators]}
    return list(seen.values())


def resolve_recipients(
    alert: Alert, targets: list[dict], *, now: datetime
) -> tuple[list[tuple[User, str]], list[str]]:
    """(user, channel) pairs for a step's targets at ``now``, plus notes about gaps."""
    team_id = alert.care_team_id
    pairs: dict[tuple[int, str], tuple[User, str]] = {}
    notes: list[str] = []
    member_ids = set(Membership.objects.filter(team_id=team_id).values_list("user_id", flat=True))
    for t in map(PolicyStep.from_json, targets):
        kind = t.target
        users: list[User] = []
        if kind in (Target.ONCALL_PRIMARY, Target.ONCALL_BACKUP):
            slot = Slot.PRIMARY if kind == Target.ONCALL_PRIMARY else Slot.BACKUP
            uid = oncall_for_team(team_id, slot, now)
            if uid is None:
                notes.append(f"nobody on call ({slot})")
            else:
                users = list(User.objects.filter(pk=uid, is_active=True))
        elif kind == Target.ROLE:
            users = team_members(team_id, roles=[t.role or Role.PHYSICIAN])
        elif kind == Target.USER:
            if t.user_id in member_ids:
                users = list(User.objects.filter(pk=t.user_id, is_active=True))
            else:
                notes.append("named person is no longer in the team")
        elif kind == Target.LEADS:
            users = leads_of(team_id)
        elif kind == Target.CHARGE_NURSE:
            users = team_members(team_id, roles=[Role.NURSE], leads_only=True)
        for user in users:
            for ch in t.channels:
                pairs.setdefault((user.pk, ch), (user, ch))
    return list(pairs.values()), notes


def message_for(alert: Alert, *, prefix: str = "") -> tuple[str, str, str]:
    """(subject, text, link) without patient data: syndrome, grade, urgency, link."""
    link = settings.SITE_URL + reverse("alerts:detail", kwargs={"alert_id": alert.pk})
    urgency = wording.words(alert.urgency).upper()
    title = alert.title
    opened = wording.clock(alert.opened_at, alert.care_team.time_zone)
    subject = f"[CAR-T Track] {prefix}{urgency}: {title} alert #{alert.pk}"
    text = f"CAR-T Track {prefix}{urgency}: {title} (alert #{alert.pk}, opened {opened}). Acknowledge: {link}"
    return subject, text, link


def _still_deliverable(
    alert: Alert | None, step: EscalationStep | None, token: str | None, require_status: str | None
) -> bool:
    """One query just before each hand-over to a channel: an acknowledgement (or a re-kick that took
    the step away from this sender) committed before this point stops the notification."""
    if step is not None:
        qs = EscalationStep.objects.filter(pk=step.pk, status=StepStatus.SENDING, claim_token=token)
        if require_status:
            qs = qs.filter(alert__status=require_status)
        return qs.exists()
    if alert is not None and require_status:
        return Alert.objects.filter(pk=alert.pk, status=require_status).exists()
    return True


def notify_many(
    *,
    alert: Alert | None,
    step: EscalationStep | None,
    token: str | None,
    pairs: list[tuple[User, str]],
    subject: str,
    text: str,
    link: str,
    require_status: str | None,
    alarm: OperationsAlarm | None = None,
    key_prefix: str | None = None,
    urgency: str | None = None,
) -> list[str]:
    """Deliver each (user, channel) at most once per idempotency key.

    Returns one result per pair: ``sent``, ``duplicate`` (delivered by an earlier attempt), ``failed``
    or ``fenced`` (the alert was acknowledged/resolved or the step re-claimed: nothing more is sent).
    """
    prefix = key_prefix or f"step:{step.pk}"
    keyed = [(f"{prefix}:{user.pk}:{channel}", user, channel) for user, channel in pairs]
    if not keyed:
        return []
    urgency = urgency or (alert.urgency if alert else Urgency.URGENT)
    Notification.objects.bulk_create(
        [
            Notification(
                idempotency_key=key,
                alert=alert,
                step=step,
                alarm=alarm,
                recipient=user,
                channel=channel,
                urgency=urgency,
                message=text[:300],
            )
            for key, user, channel in keyed
        ],
        ignore_conflicts=True,
    )
    rows = {
        n.idempotency_key: n
        for n in Notification.objects.filter(idempotency_key__in=[k for k, _, _ in keyed])
    }
    results: list[str] = []
    delivered: list[str] = []
    failures: list[str] = []
    first_sent_at = None
    for index, (key, user, channel) in enumerate(keyed):
        notification = rows[key]
        if notification.status == NotificationStatus.SENT:
            results.append("duplicate")
            continue
        if not _still_deliverable(alert, step, token, require_status):
            results.extend(["fenced"] * (len(keyed) - index))
            break
        Notification.objects.filter(pk=notification.pk).update(attempts=F("attempts") + 1)
        out = channels.Outgoing(
            channel=channel,
            idempotency_key=key,
            recipient_id=user.pk,
            recipient_name=wording.person(user),
            address=channels.address_for(channel, user),
            subject=subject,
            text=text,
            link=link,
            urgency=urgency,
        )
        try:
            channels.deliver(out)
        except channels.DeliveryError as exc:
            Notification.objects.filter(pk=notification.pk).update(
                status=NotificationStatus.FAILED, error=str(exc)[:300]
            )
            failures.append(f"{Channel(channel).label} to {user}: {exc}")
            results.append("failed")
            continue
        sent_at = timezone.now()
        first_sent_at = first_sent_at or sent_at
        Notification.objects.filter(pk=notification.pk).update(
            status=NotificationStatus.SENT, sent_at=sent_at, error=""
        )
        delivered.append(f"{Channel(channel).label} to {user}")
        results.append("sent")
    if alert is not None:
        if first_sent_at is not None:
            Alert.objects.filter(pk=alert.pk, first_notified_at__isnull=True).update(
                first_notified_at=first_sent_at
            )
        if delivered:
            record_event(alert, EventKind.NOTIFIED, "; ".join(delivered), at=first_sent_at)
        if failures:
            record_event(alert, EventKind.NOTIFY_FAILED, "; ".join(failures))
    return results


def notify_routine(
    users: Iterable[User],
    *,
    subject: str,
    text: str,
    link: str,
    key_prefix: str,
    alert: Alert | None = None,
    alarm: OperationsAlarm | None = None,
    urgency: str | None = None,
) -> list[str]:
    """A notice outside any escalation step (a revised alert, an operations alarm): in the inbox and
    by e-mail, once per key, whatever the alert's status."""
    return notify_many(
        alert=alert,
        step=None,
        token=None,
        pairs=[(user, channel) for user in users for channel in ROUTINE_CHANNELS],
        subject=subject,
        text=text,
        link=link,
        require_status=None,
        alarm=alarm,
        key_prefix=key_prefix,
        urgency=urgency,
    )


def notify_step(
    step: EscalationStep, token: str, pairs: list[tuple[User, str]], *, require_status: str, prefix: str = ""
) -> list[str]:
    """The notifications of a claimed step about its alert, sent while the alert has ``require_status``
    and the step is still this sender's (``token``)."""
    subject, text, link = message_for(step.alert, prefix=prefix)
    return notify_many(
        alert=step.alert,
        step=step,
        token=token,
        pairs=pairs,
        subject=subject,
        text=text,
        link=link,
        require_status=require_status,
    )
