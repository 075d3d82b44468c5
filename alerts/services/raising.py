"""Raising and upgrading alerts from a committed grade evaluation, and revising them after a correction."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Membership, Role, User
from carttrack import wording
from monitoring.models import GradeEvaluation, Infusion, ObservationStatus

from ..models import (
    ACTIVE_STATUSES,
    EVALUATED_SYNDROMES,
    FINDING_SYNDROMES,
    GRADED_SYNDROMES,
    URGENCY_RANK,
    Alert,
    AlertStatus,
    EventKind,
    Notification,
    NotificationStatus,
    StepKind,
    Syndrome,
    Urgency,
    urgency_for_grade,
)
from ..policy import PolicySnapshot
from .common import at_or_now, cancel_pending, record_event
from .course import close_with_course, course_end
from .delivery import message_for, notify_routine
from .dispatch import dispatch_due_steps
from .policies import expand_chain, policy_snapshot_for

log = logging.getLogger(__name__)


ICU_SUGGESTION = {
    "code": "icu_transfer",
    "text": "Grade ≥ 3: consider ICU transfer (MGMT-20)",
    "dose_mg": None,
    "dose_text": "",
    "source": "alerts",
    "withheld": False,
    "withheld_reason": "",
}


def _wanted_alerts(ev: GradeEvaluation) -> list[tuple[str, int | None, str]]:
    """(syndrome, grade, urgency) for each alert this evaluation calls for."""
    wanted: list[tuple[str, int | None, str]] = []
    if ev.crs_grade is not None and ev.crs_grade >= 1:
        wanted.append((Syndrome.CRS, ev.crs_grade, urgency_for_grade(ev.crs_grade)))
    if ev.icans_grade is not None and ev.icans_grade >= 1:
        wanted.append((Syndrome.ICANS, ev.icans_grade, urgency_for_grade(ev.icans_grade)))
    if ev.sepsis_alert:  # ALERT-6, A-3: urgent
        wanted.append((Syndrome.SEPSIS, None, Urgency.URGENT))
    if ev.iec_hs_screen_positive:  # ALERT-8: IECHS-3, C-3
        wanted.append((Syndrome.IEC_HS, None, Urgency.URGENT))
    if ev.licats_screen_positive:  # ALERT-10: LICATS-4
        wanted.append((Syndrome.LICATS, None, Urgency.URGENT))
    # A-15 (hypoxaemia), B-9 (intracranial haemorrhage): urgent alerts of their own, whatever the grades.
    wanted.extend((FINDING_SYNDROMES[f["code"]], None, Urgency.URGENT) for f in _findings(ev).values())
    return wanted


def _findings(ev: GradeEvaluation) -> dict[str, dict]:
    """The evaluation's urgent findings (carttrack ``urgent_findings``) by the syndrome they raise."""
    found = (ev.result or {}).get("urgent_findings") or []
    return {FINDING_SYNDROMES[f["code"]]: f for f in found if f.get("code") in FINDING_SYNDROMES}


def _drivers_for(ev: GradeEvaluation, syndrome: str) -> list:
    finding = _findings(ev).get(syndrome)
    if finding is not None:
        return list(finding.get("drivers") or [])
    drivers = ev.drivers or {}
    if isinstance(drivers, dict):
        key = "crs" if syndrome == Syndrome.SEPSIS else syndrome
        return list(drivers.get(key) or [])
    return list(drivers)


def _suggestions_for(ev: GradeEvaluation, urgency: str, syndrome: str = "") -> list:
    suggestions = [s for s in (ev.suggestions or []) if isinstance(s, dict)]
    finding = _findings(ev).get(syndrome)
    if finding is not None:  # B-9: neuro consult and imaging; A-15: urgent review
        wanted = list(finding.get("suggestions") or [])
        by_code = {s.get("code"): s for s in suggestions}
        suggestions = [by_code.get(code) or {"code": code, "text": code.replace("_", " ")} for code in wanted]
        suggestions += [
            {"code": "", "text": note, "source": finding.get("source", "")}
            for note in finding.get("notes") or []
        ]
    if urgency == Urgency.EMERGENT and not any("icu" in str(s.get("code", "")) for s in suggestions):
        suggestions = [ICU_SUGGESTION, *suggestions]
    return suggestions


def _finding_already_handled(infusion: Infusion, syndrome: str, ev: GradeEvaluation) -> bool:
    """A finding still standing from a record whose alert a physician already resolved raises no
    second alert (a new record with the finding does)."""
    finding = _findings(ev).get(syndrome)
    if finding is None:
        return False
    return Alert.objects.filter(
        infusion=infusion,
        syndrome=syndrome,
        status=AlertStatus.RESOLVED,
        drivers__contains=[{"observation_index": finding.get("observation_index")}],
    ).exists()


def alert_process_evaluation(*, evaluation_id: int, now: datetime | None = None) -> list[int]:
    """Raise or upgrade the alerts a stored grade evaluation calls for; dispatch what is due now.

    Idempotent: running it twice for one evaluation changes nothing the second time (a grade only
    upgrades when it is higher than the alert's). Returns the ids of the alerts it touched.
    """
    touched: list[int] = []
    with transaction.atomic(durable=True):
        ev = (
            GradeEvaluation.objects.select_related("infusion", "triggered_by__recorded_by")
            .filter(pk=evaluation_id)
            .first()
        )
        if ev is None:
            log.warning("evaluation %s not found (rolled back?)", evaluation_id)
            return []
        infusion = (
            Infusion.objects.select_for_update().select_related("care_team", "patient").get(pk=ev.infusion_id)
        )
        at = at_or_now(now)
        ended = course_end(infusion)
        if ended is not None:  # a closed course or a recorded death: nothing more is raised or paged
            close_with_course(infusion, ended=ended, now=at)
            GradeEvaluation.objects.filter(pk=ev.pk, alerts_processed_at__isnull=True).update(
                alerts_processed_at=at
            )
            return []
        wanted = _wanted_alerts(ev)
        revised = _revise_unsupported(infusion=infusion, ev=ev, wanted=wanted, now=at)
        for syndrome, grade, urgency in wanted:
            if _finding_already_handled(infusion, syndrome, ev):
                continue
            alert = _raise_or_upgrade(
                infusion=infusion, ev=ev, syndrome=syndrome, grade=grade, urgency=urgency, now=at
            )
            if alert is not None:
                touched.append(alert.pk)
        # Newer evaluations keep the current grade of active graded alerts up to date (no page).
        for alert in Alert.objects.filter(
            infusion=infusion, status__in=ACTIVE_STATUSES, syndrome__in=GRADED_SYNDROMES
        ).exclude(pk__in=touched):
            _track_current(alert, ev)
        GradeEvaluation.objects.filter(pk=ev.pk, alerts_processed_at__isnull=True).update(
            alerts_processed_at=at
        )
    for alert, text in revised:
        _tell_physician(alert, text=text, key=f"revised:{alert.pk}:{ev.pk}")
    if touched:
        dispatch_due_steps(alert_ids=touched, now=now)
    return touched


def _revise_unsupported(
    *, infusion: Infusion, ev: GradeEvaluation, wanted: list[tuple[str, int | None, str]], now: datetime
) -> list[tuple[Alert, str]]:
    """After a correction (amended or entered-in-error), an active alert whose grade (or finding) the
    re-graded course no longer supports records "grade revised to N after a correction", escalates no
    higher than what is still supported (nothing when nothing is), and stays open until a physician
    resolves it. Returns (alert, text) of each revised alert: the physician is told (routine)."""
    trigger = ev.triggered_by
    if trigger is None or trigger.status == ObservationStatus.FINAL:
        return []
    present = {syndrome for syndrome, _grade, _urgency in wanted}
    supported_grade = {Syndrome.CRS: ev.crs_max or 0, Syndrome.ICANS: ev.icans_max or 0}
    what = "marked entered in error" if trigger.status == ObservationStatus.ENTERED_IN_ERROR else "amended"
    why = f"{trigger.get_kind_display().lower()} record {what} by {trigger.recorded_by}: {trigger.reason}"
    out: list[tuple[Alert, str]] = []
    for alert in Alert.objects.select_for_update().filter(
        infusion=infusion, status__in=ACTIVE_STATUSES, syndrome__in=list(EVALUATED_SYNDROMES)
    ):
        if alert.syndrome in GRADED_SYNDROMES:
            supported = supported_grade[alert.syndrome]
            if alert.grade is None or supported >= alert.grade:
                continue
            text = f"Grade revised to {supported} after a correction (was {alert.grade}; {why})"
            alert.grade = supported
            alert.current_grade = ev.crs_grade if alert.syndrome == Syndrome.CRS else ev.icans_grade
            still = supported >= 1
        else:
            if alert.syndrome in present or alert.escalation_stopped:  # still called for, or done
                continue
            text = f"{alert.title} no longer supported after a correction ({why})"
            supported, still = 0, False
        lower = urgency_for_grade(supported) if still else Urgency.ROUTINE
        if URGENCY_RANK[lower] < URGENCY_RANK[alert.urgency]:
            alert.urgency = lower
        if still:
            text += f"; escalation continues as {wording.words(alert.urgency)}"
        else:
            stopped = cancel_pending(
                alert, reason="no longer supported after a correction", kinds=[StepKind.PAGE, StepKind.FINAL]
            )
            alert.escalation_stopped = True
            alert.generation += 1  # a step already claimed is superseded
            text += f"; {stopped} pending step(s) stopped, open until a physician resolves it"
        alert.evaluation = ev
        alert.drivers = _drivers_for(ev, alert.syndrome)
        alert.suggestions = _suggestions_for(ev, alert.urgency, alert.syndrome)
        alert.save()
        record_event(alert, EventKind.REVISED, text, user=trigger.recorded_by, at=now)
        out.append((alert, text))
    return out


def _tell_physician(alert: Alert, *, text: str, key: str) -> None:
    """A routine in-app and email note to the physicians who were told of ``alert`` (or acknowledged
    it), else to the team's physicians. No patient data in the message."""
    physicians = set(
        Membership.objects.filter(
            team_id=alert.care_team_id, role=Role.PHYSICIAN, user__is_active=True
        ).values_list("user_id", flat=True)
    )
    told = set(
        Notification.objects.filter(alert=alert, status=NotificationStatus.SENT).values_list(
            "recipient_id", flat=True
        )
    ) | {alert.acknowledged_by_id}
    users = list(User.objects.filter(pk__in=(physicians & told) or physicians).order_by("id"))
    link = message_for(alert)[2]
    subject = f"[CAR-T Track] ROUTINE: {alert.title} alert #{alert.pk} revised"
    notify_routine(
        users,
        subject=subject,
        text=f"CAR-T Track ROUTINE: alert #{alert.pk}: {text.split(' (')[0]}. Review: {link}",
        link=link,
        key_prefix=key,
        alert=alert,
        urgency=Urgency.ROUTINE,
    )


def _is_newer(alert: Alert, ev: GradeEvaluation) -> bool:
    if alert.evaluation_id is None:
        return True
    current = alert.evaluation
    return (ev.evaluated_at, ev.pk) >= (current.evaluated_at, current.pk)


def _track_current(alert: Alert, ev: GradeEvaluation) -> None:
    if not _is_newer(alert, ev):
        return
    grade = ev.crs_grade if alert.syndrome == Syndrome.CRS else ev.icans_grade
    Alert.objects.filter(pk=alert.pk).update(current_grade=grade, evaluation=ev, updated_at=timezone.now())


def _raise_or_upgrade(
    *, infusion: Infusion, ev: GradeEvaluation, syndrome: str, grade: int | None, urgency: str, now: datetime
) -> Alert | None:
    alert = (
        Alert.objects.select_for_update()
        .filter(infusion=infusion, syndrome=syndrome, status__in=ACTIVE_STATUSES)
        .first()
    )
    if alert is None:
        return open_alert(infusion=infusion, ev=ev, syndrome=syndrome, grade=grade, urgency=urgency, now=now)
    higher = grade is not None and (alert.grade is None or grade > alert.grade)
    if not higher:
        if _is_newer(alert, ev):
            alert.current_grade = grade
            alert.evaluation = ev
            alert.drivers = _drivers_for(ev, syndrome)
            alert.suggestions = _suggestions_for(ev, alert.urgency, syndrome)
            alert.save(update_fields=["current_grade", "evaluation", "drivers", "suggestions", "updated_at"])
        return None
    old = alert.grade
    alert.grade = grade
    alert.current_grade = grade
    alert.urgency = max(alert.urgency, urgency, key=URGENCY_RANK.__getitem__)
    alert.evaluation = ev
    alert.drivers = _drivers_for(ev, syndrome)
    alert.suggestions = _suggestions_for(ev, alert.urgency, syndrome)
    alert.rule_set = ev.rule_set
    was_acknowledged = alert.status == AlertStatus.ACKNOWLEDGED
    alert.status = AlertStatus.OPEN
    alert.escalation_stopped = False
    alert.acknowledged_at = None
    alert.acknowledged_by = None
    alert.generation += 1
    alert.save()
    cancel_pending(alert, reason="superseded by upgrade")
    text = f"Grade {old} → {grade}; paging again as {wording.words(alert.urgency)}"
    if was_acknowledged:
        text += " (the earlier acknowledgement no longer covers the new grade)"
    record_event(alert, EventKind.UPGRADED, text, at=now)
    expand_chain(alert, start=now)
    return alert


def open_alert(
    *,
    infusion: Infusion,
    ev: GradeEvaluation | None,
    syndrome: str,
    grade: int | None,
    urgency: str,
    now: datetime,
    snapshot: PolicySnapshot | None = None,
    due_at: datetime | None = None,
    summary: str = "",
    drivers: list | None = None,
) -> Alert:
    alert = Alert.objects.create(
        infusion=infusion,
        patient_id=infusion.patient_id,
        care_team_id=infusion.care_team_id,
        syndrome=syndrome,
        grade=grade,
        current_grade=grade,
        urgency=urgency,
        evaluation=ev,
        drivers=_drivers_for(ev, syndrome) if ev else list(drivers or []),
        suggestions=_suggestions_for(ev, urgency, syndrome) if ev else [],
        rule_set=ev.rule_set if ev else "",
        summary=summary or (_findings(ev).get(syndrome, {}).get("text", "")[:200] if ev else ""),
        policy_snapshot=(snapshot or policy_snapshot_for(infusion.care_team_id)).to_json(),
        opened_at=now,
        due_at=due_at,
    )
    record_event(alert, EventKind.OPENED, f"{alert.title} ({wording.words(alert.urgency)})", at=now)
    expand_chain(alert, start=now)
    return alert


def open_unless_active(
    *,
    infusion_id: int,
    syndrome: str,
    urgency: str,
    snapshot: PolicySnapshot,
    now: datetime,
    due_at: datetime | None = None,
    summary: str = "",
    drivers: list | None = None,
) -> Alert | None:
    """Open an alert no evaluation raised (an overdue check, a follow-up finding) under the course's
    row lock, in the caller's transaction or its own; None when one of ``syndrome`` is already active
    for the course (or another worker opened it at the same moment)."""
    try:
        with transaction.atomic():
            infusion = Infusion.objects.select_for_update().get(pk=infusion_id)
            if Alert.objects.filter(
                infusion=infusion, syndrome=syndrome, status__in=ACTIVE_STATUSES
            ).exists():
                return None
            return open_alert(
                infusion=infusion,
                ev=None,
                syndrome=syndrome,
                grade=None,
                urgency=urgency,
                now=now,
                snapshot=snapshot,
                due_at=due_at,
                summary=summary,
                drivers=drivers,
            )
    except IntegrityError:
        return None
