"""Operations alarms: opened (or refreshed) once per key, coordinators told once, cleared."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse

from accounts.models import Role, User
from accounts.permissions import require

from ..models import OperationsAlarm
from .common import at_or_now
from .delivery import notify_routine, team_members

log = logging.getLogger(__name__)


def raise_alarm(
    *, kind: str, key: str, message: str, team_id: int | None = None, now: datetime | None = None
) -> OperationsAlarm:
    """Open (or refresh) the alarm with ``key``; coordinators are told once per alarm."""
    at = at_or_now(now)
    try:
        with transaction.atomic():
            alarm = (
                OperationsAlarm.objects.select_for_update().filter(key=key, cleared_at__isnull=True).first()
            )
            if alarm is not None:
                OperationsAlarm.objects.filter(pk=alarm.pk).update(
                    last_seen_at=at, occurrences=F("occurrences") + 1
                )
                return alarm
            alarm = OperationsAlarm.objects.create(
                kind=kind,
                key=key[:120],
                message=message[:300],
                team_id=team_id,
                raised_at=at,
                last_seen_at=at,
            )
    except IntegrityError:  # raised concurrently by another auditor/worker
        return OperationsAlarm.objects.get(key=key, cleared_at__isnull=True)
    log.warning("operations alarm %s: %s", kind, key)
    if team_id is not None:
        recipients = team_members(team_id, roles=[Role.COORDINATOR])
    else:
        recipients = list(
            User.objects.filter(
                memberships__role__in=[Role.COORDINATOR, Role.ADMIN], is_active=True
            ).distinct()
        )
    link = settings.SITE_URL + reverse("alerts:operations")
    subject = f"[CAR-T Track] Operations alarm: {alarm.get_kind_display()}"
    notify_routine(
        recipients,
        subject=subject,
        text=f"{subject}. {alarm.message}. {link}",
        link=link,
        key_prefix=f"alarm:{alarm.pk}",
        alarm=alarm,
    )
    return alarm


def clear_alarm(*, alarm: OperationsAlarm, by, now: datetime | None = None) -> None:
    require(by, "schedule.manage", alarm.team_id) if alarm.team_id else require(by, "schedule.manage")
    OperationsAlarm.objects.filter(pk=alarm.pk, cleared_at__isnull=True).update(
        cleared_at=at_or_now(now), cleared_by=by
    )


def clear_alarms(keys_prefix: str, still_open: set[str], at: datetime) -> None:
    OperationsAlarm.objects.filter(key__startswith=keys_prefix, cleared_at__isnull=True).exclude(
        key__in=still_open
    ).update(cleared_at=at)
