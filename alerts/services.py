"""Writes of the alerts app, one module because raising, sending, revising and auditing share the step rows
and their fencing (keyword-only, one transaction each).

The escalation engine in four moves:

1. :func:`alert_process_evaluation` (after an evaluation is committed) opens or upgrades the alert of
   a patient + syndrome episode, freezes the team's policy onto it and expands the policy into
   :class:`~alerts.models.EscalationStep` rows with due times; then it dispatches what is due at once.
2. :func:`dispatch_due_steps` (the beat tick, ≤ 15 s, and the alert task) claims due steps with
   ``SELECT … FOR UPDATE SKIP LOCKED``, moves them ``pending → sending`` with a fencing token and
   commits; then sends them.
3. Each notification is inserted under a unique idempotency key and re-checked against the alert's
   status under the alert's row lock just before delivery, so an acknowledgement stops everything
   not yet handed to a channel.
4. :func:`run_auditor` (every minute) re-kicks overdue and stuck steps, gives open alerts with nothing
   pending a step, raises operations alarms and writes the heartbeat that ``/health/escalations`` reads.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role, User
from accounts.permissions import require
from monitoring.models import (
    CloseReason,
    GradeEvaluation,
    Infusion,
    InfusionStatus,
    MissedCheck,
    Observation,
    ObservationKind,
    ObservationStatus,
)
from monitoring.schedules import checks_for_infusions

from . import channels
from .models import (
    ACTIVE_STATUSES,
    DEFAULT_POLICY,
    EVALUATED_SYNDROMES,
    FINDING_SYNDROMES,
    FOLLOWUP_SYNDROMES,
    GRADED_SYNDROMES,
    OVERDUE_SYNDROMES,
    URGENCY_RANK,
    AlarmKind,
    Alert,
    AlertEvent,
    AlertStatus,
    AuditorHeartbeat,
    Channel,
    CheckTask,
    CheckTaskStatus,
    EscalationPolicy,
    EscalationPolicyStep,
    EscalationStep,
    EventKind,
    Notification,
    NotificationStatus,
    OnCallOverride,
    OnCallSchedule,
    OperationsAlarm,
    Slot,
    StepKind,
    StepStatus,
    Syndrome,
    Target,
    Urgency,
    new_token,
    urgency_for_grade,
)
from .oncall import oncall_for_team, oncall_user_id

log = logging.getLogger(__name__)

MAX_STEP_ATTEMPTS = 5
ICU_SUGGESTION = {
    "code": "icu_transfer",
    "text": "Grade ≥ 3: consider ICU transfer (RULES §4.4)",
    "dose_mg": None,
    "dose_text": "",
    "source": "alerts",
    "withheld": False,
    "withheld_reason": "",
}


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


# =============================================================================================
# 1. Raising and upgrading alerts
# =============================================================================================
def _wanted_alerts(ev: GradeEvaluation) -> list[tuple[str, int | None, str]]:
    """(syndrome, grade, urgency) for each alert this evaluation calls for."""
    wanted: list[tuple[str, int | None, str]] = []
    if ev.crs_grade is not None and ev.crs_grade >= 1:
        wanted.append((Syndrome.CRS, ev.crs_grade, urgency_for_grade(ev.crs_grade)))
    if ev.icans_grade is not None and ev.icans_grade >= 1:
        wanted.append((Syndrome.ICANS, ev.icans_grade, urgency_for_grade(ev.icans_grade)))
    if ev.sepsis_alert:  # DECISIONS A-3: urgent
        wanted.append((Syndrome.SEPSIS, None, Urgency.URGENT))
    if ev.iec_hs_screen_positive:  # RULES §9.8, DECISIONS C-3
        wanted.append((Syndrome.IEC_HS, None, Urgency.URGENT))
    if ev.licats_screen_positive:  # RULES §3.8
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


def policy_snapshot_for(team_id: int) -> dict:
    policy = EscalationPolicy.objects.filter(team_id=team_id).prefetch_related("steps").first()
    if policy is None or not policy.steps.exists():
        return dict(DEFAULT_POLICY)
    return policy.snapshot()


def _event(alert: Alert, kind: str, text: str = "", *, user=None, at: datetime | None = None) -> None:
    AlertEvent.objects.create(alert=alert, kind=kind, text=text[:2000], user=user, at=_now(at))


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
        at = _now(now)
        ended = _course_end(infusion)
        if ended is not None:  # a closed course or a recorded death: nothing more is raised or paged
            _close_with_course(infusion, ended=ended, now=at)
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


# =============================================================================================
# 1b. An alert follows its course: corrections (re-grade) and the end of the course
# =============================================================================================
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
            text += f"; escalation continues at {alert.get_urgency_display().lower()} urgency"
        else:
            stopped = _cancel_pending(
                alert, reason="no longer supported after a correction", kinds=[StepKind.PAGE, StepKind.FINAL]
            )
            alert.escalation_stopped = True
            alert.generation += 1  # a step already claimed is superseded
            text += f"; {stopped} pending step(s) stopped, open until a physician resolves it"
        alert.evaluation = ev
        alert.drivers = _drivers_for(ev, alert.syndrome)
        alert.suggestions = _suggestions_for(ev, alert.urgency, alert.syndrome)
        alert.save()
        _event(alert, EventKind.REVISED, text, user=trigger.recorded_by, at=now)
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
    link = _message(alert)[2]
    subject = f"[CAR-T Track] ROUTINE: {alert.title} alert #{alert.pk} revised"
    _notify_many(
        alert=alert,
        step=None,
        token=None,
        pairs=[(u, ch) for u in users for ch in (Channel.INAPP, Channel.EMAIL)],
        subject=subject,
        text=f"CAR-T Track ROUTINE: alert #{alert.pk}: {text.split(' (')[0]}. Review: {link}",
        link=link,
        require_status=None,
        key_prefix=key,
        urgency=Urgency.ROUTINE,
    )


@dataclass(frozen=True)
class CourseEnd:
    who: User | None
    why: str
    death: bool


def _course_end(infusion: Infusion) -> CourseEnd | None:
    """(who, why) when the course has ended: a death recorded (who recorded it) or its monitoring
    closed (who: from the infusion's history); None while it goes on."""
    death = (
        Observation.objects.current()
        .filter(infusion=infusion, kind=ObservationKind.EVENT, payload__event="death")
        .select_related("recorded_by")
        .order_by("observed_at", "id")
        .first()
    )
    if death is not None:
        cause = death.payload.get("attributed_to")
        return CourseEnd(death.recorded_by, "death recorded" + (f" (cause: {cause})" if cause else ""), True)
    if infusion.status != InfusionStatus.ACTIVE:
        closing = infusion.history.filter(status=InfusionStatus.CLOSED).order_by("-history_date").first()
        who = closing.history_user if closing is not None else None
        return CourseEnd(who, f"monitoring closed ({infusion.get_close_reason_display() or 'closed'})", False)
    return None


def _follow_up_goes_on(infusion: Infusion, alert_syndrome: str | None = None) -> bool:
    """A course whose acute monitoring closed as complete goes on into follow-up (VISIT-2): its
    follow-up alerts stay open and page; only a death ends them."""
    return infusion.close_reason == CloseReason.MONITORING_COMPLETE and (
        alert_syndrome is None or alert_syndrome in FOLLOWUP_SYNDROMES
    )


def _close_with_course(infusion: Infusion, *, ended: CourseEnd, now: datetime) -> list[int]:
    """Stop every pending step of the course's active alerts and mark them closed with the course,
    with an event naming who and why (a course going on into follow-up keeps its follow-up alerts).
    Call inside a transaction holding the infusion's lock."""
    closed: list[int] = []
    who, why = ended.who, ended.why
    by = f" by {who}" if who is not None else ""
    alerts = Alert.objects.select_for_update().filter(infusion=infusion, status__in=ACTIVE_STATUSES)
    if not ended.death and _follow_up_goes_on(infusion):
        alerts = alerts.exclude(syndrome__in=FOLLOWUP_SYNDROMES)
    for alert in alerts:
        alert.status = AlertStatus.RESOLVED
        alert.resolved_at = now
        alert.resolved_by = who
        alert.generation += 1  # a step already claimed by a sender is superseded
        alert.save()
        stopped = EscalationStep.objects.filter(alert=alert, status=StepStatus.PENDING).update(
            status=StepStatus.CANCELLED, outcome="closed with the course"
        )
        _event(
            alert,
            EventKind.COURSE_CLOSED,
            f"Closed with the course: {why}{by}; {stopped} pending step(s) stopped",
            user=who,
            at=now,
        )
        CheckTask.objects.filter(alert=alert, status=CheckTaskStatus.OPEN).update(
            status=CheckTaskStatus.DONE, closed_at=now
        )
        closed.append(alert.pk)
    return closed


def alerts_close_with_course(*, infusion_id: int, now: datetime | None = None) -> list[int]:
    """The course of ``infusion_id`` ended (monitoring closed, or a death recorded): close its alerts.
    Idempotent; monitoring calls it through ``monitoring.handoff.course_closed`` (alerts/handoff.py)."""
    at = _now(now)
    with transaction.atomic():
        infusion = Infusion.objects.select_for_update().filter(pk=infusion_id).first()
        if infusion is None:
            return []
        ended = _course_end(infusion)
        if ended is None:
            return []
        return _close_with_course(infusion, ended=ended, now=at)


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
        return _open_alert(infusion=infusion, ev=ev, syndrome=syndrome, grade=grade, urgency=urgency, now=now)
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
    _cancel_pending(alert, reason="superseded by upgrade")
    text = f"Grade {old} → {grade}; re-paging at {alert.get_urgency_display().lower()} urgency"
    if was_acknowledged:
        text += " (the earlier acknowledgement no longer covers the new grade)"
    _event(alert, EventKind.UPGRADED, text, at=now)
    _expand_chain(alert, start=now)
    return alert


def _open_alert(
    *,
    infusion: Infusion,
    ev: GradeEvaluation | None,
    syndrome: str,
    grade: int | None,
    urgency: str,
    now: datetime,
    snapshot: dict | None = None,
    due_at: datetime | None = None,
    summary: str = "",
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
        drivers=_drivers_for(ev, syndrome) if ev else [],
        suggestions=_suggestions_for(ev, urgency, syndrome) if ev else [],
        rule_set=ev.rule_set if ev else "",
        summary=summary or (_findings(ev).get(syndrome, {}).get("text", "")[:200] if ev else ""),
        policy_snapshot=snapshot or policy_snapshot_for(infusion.care_team_id),
        opened_at=now,
        due_at=due_at,
    )
    _event(alert, EventKind.OPENED, f"{alert.title}, {alert.get_urgency_display().lower()} urgency", at=now)
    _expand_chain(alert, start=now)
    return alert


def _next_sequence(alert: Alert) -> int:
    top = alert.steps.filter(generation=alert.generation).aggregate(m=Max("sequence"))["m"]
    return 0 if top is None else top + 1


def _expand_chain(alert: Alert, *, start: datetime, from_index: int = 0) -> list[EscalationStep]:
    """Turn the alert's frozen policy into step rows with due times (generation = alert.generation).

    Emergent alerts notify every on-call slot of the first round at once (primary and backup).
    After the last repeat the leads (attending, charge nurse, coordinators) are notified.
    """
    snap = alert.policy_snapshot or DEFAULT_POLICY
    policy_steps = list(snap.get("steps") or DEFAULT_POLICY["steps"])
    rounds: list[list[dict]] = []
    for r in range(int(snap.get("repeat_count", 0)) + 1):
        steps = [dict(s) for s in (policy_steps[from_index:] if r == 0 else policy_steps)]
        if not steps:
            continue
        rounds.append(steps)
    rows: list[EscalationStep] = []
    seq = _next_sequence(alert)
    due = start
    for r, steps in enumerate(rounds):
        groups: list[tuple[list[dict], int]] = []
        if alert.urgency == Urgency.EMERGENT and r == 0:
            oncall = [s for s in steps if s["target"] in (Target.ONCALL_PRIMARY, Target.ONCALL_BACKUP)]
            if oncall:
                first = [steps[0], *[s for s in oncall if s is not steps[0]]]
                groups.append((first, int(steps[0].get("wait_minutes", 5))))
                steps = [s for s in steps[1:] if s not in oncall]
        groups.extend(([s], int(s.get("wait_minutes", 5))) for s in steps)
        for targets, wait in groups:
            rows.append(
                EscalationStep(
                    alert=alert,
                    generation=alert.generation,
                    sequence=seq,
                    kind=StepKind.PAGE,
                    targets=targets,
                    due_at=due,
                )
            )
            seq += 1
            due = due + timedelta(minutes=wait)
    final = {
        "target": Target.LEADS,
        "role": "",
        "user_id": None,
        "channels": list(snap.get("final_channels") or [Channel.INAPP, Channel.EMAIL, Channel.SMS]),
        "wait_minutes": int(snap.get("final_wait_minutes", 5)),
    }
    if rows:
        due = due - timedelta(minutes=wait) + timedelta(minutes=int(snap.get("final_wait_minutes", 5)))
    rows.append(
        EscalationStep(
            alert=alert,
            generation=alert.generation,
            sequence=seq,
            kind=StepKind.FINAL,
            targets=[final],
            due_at=due,
        )
    )
    return EscalationStep.objects.bulk_create(rows)


def _cancel_pending(alert: Alert, *, reason: str, kinds: Iterable[str] | None = None) -> int:
    qs = EscalationStep.objects.filter(alert=alert, status=StepStatus.PENDING)
    if kinds is not None:
        qs = qs.filter(kind__in=list(kinds))
    return qs.update(status=StepStatus.CANCELLED, outcome=reason[:200])


# =============================================================================================
# 2. Claiming and sending due steps
# =============================================================================================
def claim_due_steps(
    *, now: datetime | None = None, alert_ids: Iterable[int] | None = None, limit: int = 50
) -> list[tuple[int, str]]:
    """Claim up to ``limit`` due pending steps (skip rows another worker holds); returns (id, token)."""
    at = _now(now)
    with transaction.atomic():
        qs = EscalationStep.objects.select_for_update(skip_locked=True).filter(
            status=StepStatus.PENDING, due_at__lte=at
        )
        if alert_ids is not None:
            qs = qs.filter(alert_id__in=list(alert_ids))
        ids = list(qs.order_by("due_at", "id").values_list("id", flat=True)[:limit])
        claimed = []
        for step_id in ids:
            token = new_token()
            n = EscalationStep.objects.filter(pk=step_id, status=StepStatus.PENDING).update(
                status=StepStatus.SENDING,
                claim_token=token,
                claimed_at=timezone.now(),
                attempts=F("attempts") + 1,
            )
            if n:
                claimed.append((step_id, str(token)))
    return claimed


def dispatch_due_steps(
    *,
    now: datetime | None = None,
    alert_ids: Iterable[int] | None = None,
    limit: int = 50,
    max_batches: int = 20,
) -> int:
    """Claim and send every due step (in batches). Returns how many steps were processed."""
    done = 0
    alert_ids = list(alert_ids) if alert_ids is not None else None
    for _ in range(max_batches):
        claimed = claim_due_steps(now=now, alert_ids=alert_ids, limit=limit)
        if not claimed:
            break
        for step_id, token in claimed:
            try:
                send_step(step_id=step_id, token=token, now=now)
            except Exception:  # one broken step must not starve the others; the auditor re-kicks it
                log.exception("escalation step %s failed while sending", step_id)
            done += 1
    return done


def _finish_step(
    step_id: int, token: str, *, status: str, outcome: str, due_at: datetime | None = None
) -> bool:
    values: dict = {"status": status, "outcome": outcome[:200]}
    if status == StepStatus.SENT:
        values["sent_at"] = timezone.now()
    if status == StepStatus.PENDING:
        values.update(claim_token=None, due_at=due_at)
    return bool(
        EscalationStep.objects.filter(pk=step_id, status=StepStatus.SENDING, claim_token=token).update(
            **values
        )
    )


def send_step(*, step_id: int, token: str, now: datetime | None = None) -> str:
    """Send one claimed step. Only the holder of ``token`` may act on it (fencing)."""
    step = EscalationStep.objects.select_related("alert__infusion").filter(pk=step_id).first()
    if step is None or step.status != StepStatus.SENDING or str(step.claim_token) != token:
        return "fenced out"
    alert = step.alert
    infusion = alert.infusion
    if infusion.status != InfusionStatus.ACTIVE and not _follow_up_goes_on(infusion, alert.syndrome):
        # the course closed: its alerts page nobody (follow-up alerts of a completed course go on)
        alerts_close_with_course(infusion_id=alert.infusion_id, now=now)
        _finish_step(step_id, token, status=StepStatus.CANCELLED, outcome="closed with the course")
        return "cancelled"
    if step.generation != alert.generation:
        _finish_step(step_id, token, status=StepStatus.CANCELLED, outcome="superseded (alert re-paged)")
        return "superseded"
    if step.kind in (StepKind.PAGE, StepKind.FINAL):
        if alert.status != AlertStatus.OPEN:
            _finish_step(step_id, token, status=StepStatus.CANCELLED, outcome=f"alert {alert.status}")
            return "cancelled"
        return _send_page(step, token, now=now)
    if step.kind == StepKind.REMINDER:
        return _send_reminder(step, token, now=now)
    if step.kind == StepKind.UNACK:
        return _unacknowledge(step, token, now=now)
    _finish_step(step_id, token, status=StepStatus.FAILED, outcome=f"unknown kind {step.kind}")
    return "failed"


def _team_members(team_id: int, *, roles: Iterable[str], leads_only: bool = False) -> list[User]:
    qs = Membership.objects.filter(team_id=team_id, role__in=list(roles), user__is_active=True)
    if leads_only:
        qs = qs.filter(is_lead=True)
    ids = list(qs.values_list("user_id", flat=True).distinct())
    return list(User.objects.filter(pk__in=ids).order_by("id"))


def leads_of(team_id: int) -> list[User]:
    """Attending (lead physician), charge nurse (lead nurse) and the coordinators."""
    leads = _team_members(team_id, roles=[Role.PHYSICIAN, Role.NURSE], leads_only=True)
    coordinators = _team_members(team_id, roles=[Role.COORDINATOR])
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
    for t in targets:
        kind = t.get("target")
        users: list[User] = []
        if kind in (Target.ONCALL_PRIMARY, Target.ONCALL_BACKUP):
            slot = Slot.PRIMARY if kind == Target.ONCALL_PRIMARY else Slot.BACKUP
            uid = oncall_for_team(team_id, slot, now)
            if uid is None:
                notes.append(f"nobody on call ({slot})")
            else:
                users = list(User.objects.filter(pk=uid, is_active=True))
        elif kind == Target.ROLE:
            users = _team_members(team_id, roles=[t.get("role") or Role.PHYSICIAN])
        elif kind == Target.USER:
            if t.get("user_id") in member_ids:
                users = list(User.objects.filter(pk=t["user_id"], is_active=True))
            else:
                notes.append("named person is no longer in the team")
        elif kind == Target.LEADS:
            users = leads_of(team_id)
        elif kind == Target.CHARGE_NURSE:
            users = _team_members(team_id, roles=[Role.NURSE], leads_only=True)
        for user in users:
            for ch in t.get("channels") or [Channel.INAPP]:
                pairs.setdefault((user.pk, ch), (user, ch))
    return list(pairs.values()), notes


def _message(alert: Alert, *, prefix: str = "") -> tuple[str, str, str]:
    """(subject, text, link) without patient data: syndrome, grade, urgency, link."""
    link = settings.SITE_URL + reverse("alerts:detail", kwargs={"alert_id": alert.pk})
    urgency = alert.get_urgency_display().upper()
    title = alert.title
    subject = f"[CAR-T Track] {prefix}{urgency}: {title} alert #{alert.pk}"
    text = f"CAR-T Track {prefix}{urgency}: {title} (alert #{alert.pk}). Acknowledge: {link}"
    return subject, text, link


def _send_page(step: EscalationStep, token: str, *, now: datetime | None) -> str:
    alert = step.alert
    at = _now(now)
    pairs, notes = resolve_recipients(alert, step.targets, now=at)
    if not pairs:
        # Nobody reachable for this step: never page into the void; go to the leads now.
        leads = leads_of(alert.care_team_id)
        pairs = [(u, ch) for u in leads for ch in (Channel.INAPP, Channel.EMAIL, Channel.SMS)]
        text = "; ".join(notes) or "no recipient"
        _event(
            alert, EventKind.NO_RECIPIENT, f"Step {step.sequence + 1}: {text}; notifying the leads instead"
        )
        raise_alarm(
            kind=AlarmKind.NO_RECIPIENT,
            key=f"no_recipient:{step.pk}",
            team_id=alert.care_team_id,
            message=f"Alert #{alert.pk} step {step.sequence + 1}: {text}",
        )
    subject, text, link = _message(alert)
    sent = failed = 0
    fenced = False
    failed_channels: set[str] = set()
    results = _notify_many(
        alert=alert,
        step=step,
        token=token,
        pairs=pairs,
        subject=subject,
        text=text,
        link=link,
        require_status=AlertStatus.OPEN,
    )
    for (_user, channel), result in zip(pairs, results, strict=False):
        if result in ("sent", "duplicate"):  # duplicate: delivered by an earlier attempt
            sent += 1
        elif result == "failed":
            failed += 1
            failed_channels.add(channel)
        elif result == "fenced":
            fenced = True
    if fenced:
        _finish_step(step.pk, token, status=StepStatus.CANCELLED, outcome="alert no longer open")
        return "cancelled"
    if failed and step.attempts < MAX_STEP_ATTEMPTS:
        # Retry only what failed (delivered notifications are skipped by their idempotency key).
        retry_at = timezone.now() + timedelta(seconds=15 * step.attempts)
        _finish_step(
            step.pk, token, status=StepStatus.PENDING, outcome=f"{failed} failed; retrying", due_at=retry_at
        )
        if sent == 0:
            return "retry"
        return "partly sent; retrying"
    for channel in sorted(failed_channels):  # one open alarm per team and channel, counted
        raise_alarm(
            kind=AlarmKind.DELIVERY_FAILED,
            key=f"delivery_failed:{alert.care_team_id}:{channel}",
            team_id=alert.care_team_id,
            message=f"{Channel(channel).label} notifications fail for this care team "
            f"(last: alert #{alert.pk}, step {step.sequence + 1}); check contact details and the gateway",
        )
    status = StepStatus.SENT if sent else StepStatus.FAILED
    _finish_step(step.pk, token, status=status, outcome=f"{sent} sent, {failed} failed")
    if step.kind == StepKind.FINAL:
        _schedule_repeat_final(alert, step)
    return "sent" if sent else "failed"


def _schedule_repeat_final(alert: Alert, step: EscalationStep) -> None:
    """An unacknowledged alert keeps paging the leads until someone acknowledges it."""
    wait = max(5, int((alert.policy_snapshot or {}).get("final_wait_minutes", 5)))
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.status != AlertStatus.OPEN or locked.generation != step.generation:
            return
        EscalationStep.objects.create(
            alert=locked,
            generation=locked.generation,
            sequence=_next_sequence(locked),
            kind=StepKind.FINAL,
            targets=step.targets,
            due_at=timezone.now() + timedelta(minutes=wait),
        )


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


def _notify_many(
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
            _event(alert, EventKind.NOTIFIED, "; ".join(delivered), at=first_sent_at)
        if failures:
            _event(alert, EventKind.NOTIFY_FAILED, "; ".join(failures))
    return results


def _send_reminder(step: EscalationStep, token: str, *, now: datetime | None) -> str:
    alert = step.alert
    if alert.status != AlertStatus.ACKNOWLEDGED:
        _finish_step(step.pk, token, status=StepStatus.CANCELLED, outcome=f"alert {alert.status}")
        return "cancelled"
    if _acted_since_ack(alert):
        _finish_step(step.pk, token, status=StepStatus.CANCELLED, outcome="note or order recorded")
        return "not needed"
    user = alert.acknowledged_by
    subject, text, link = _message(alert, prefix="REMINDER ")
    pairs = [(user, ch) for ch in (Channel.INAPP, Channel.SMS)] if user is not None else []
    results = _notify_many(
        alert=alert,
        step=step,
        token=token,
        pairs=pairs,
        subject=subject,
        text=text,
        link=link,
        require_status=AlertStatus.ACKNOWLEDGED,
    )
    if "fenced" in results:
        _finish_step(step.pk, token, status=StepStatus.CANCELLED, outcome="alert changed")
        return "cancelled"
    reminder = int((alert.policy_snapshot or {}).get("reminder_minutes", 30))
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.status == AlertStatus.ACKNOWLEDGED and locked.generation == step.generation:
            _event(
                locked,
                EventKind.REMINDER,
                f"No note or order {reminder} min after acknowledgement: reminded {user}",
            )
            EscalationStep.objects.create(
                alert=locked,
                generation=locked.generation,
                sequence=_next_sequence(locked),
                kind=StepKind.UNACK,
                targets=[],
                due_at=_now(now) + timedelta(minutes=reminder),
            )
        _finish_step(step.pk, token, status=StepStatus.SENT, outcome="reminded")
    return "sent"


def _acted_since_ack(alert: Alert) -> bool:
    if alert.acknowledged_at is None:
        return False
    if alert.last_action_at and alert.last_action_at >= alert.acknowledged_at:
        return True
    return Observation.objects.filter(
        infusion_id=alert.infusion_id, kind=ObservationKind.MEDICATION, recorded_at__gte=alert.acknowledged_at
    ).exists()


def _unacknowledge(step: EscalationStep, token: str, *, now: datetime | None) -> str:
    at = _now(now)
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=step.alert_id)
        if alert.status != AlertStatus.ACKNOWLEDGED or alert.generation != step.generation:
            _finish_step(step.pk, token, status=StepStatus.CANCELLED, outcome=f"alert {alert.status}")
            return "cancelled"
        if _acted_since_ack(alert):
            _finish_step(step.pk, token, status=StepStatus.CANCELLED, outcome="note or order recorded")
            return "not needed"
        who = alert.acknowledged_by
        alert.status = AlertStatus.OPEN
        alert.acknowledged_at = None
        alert.acknowledged_by = None
        alert.generation += 1
        alert.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "generation", "updated_at"])
        _event(
            alert,
            EventKind.UNACKNOWLEDGED,
            f"Acknowledged by {who} but no note or order after the reminder: escalating",
            at=at,
        )
        n_steps = len((alert.policy_snapshot or {}).get("steps") or [])
        _expand_chain(alert, start=at, from_index=1 if n_steps > 1 else 0)
        _event(alert, EventKind.ESCALATED, "Escalation restarted at the next level", at=at)
        _finish_step(step.pk, token, status=StepStatus.SENT, outcome="un-acknowledged and escalated")
    dispatch_due_steps(alert_ids=[alert.pk], now=now)
    return "sent"


# =============================================================================================
# 3. Acknowledge, note, resolve (called by the inbox and the API)
# =============================================================================================
def _locked_active(alert: Alert) -> Alert:
    return Alert.objects.select_for_update().get(pk=alert.pk)


def alert_acknowledge(*, alert: Alert, user, note: str = "", now: datetime | None = None) -> Alert:
    """Acknowledge: pending pages are cancelled in the same transaction; a reminder is scheduled."""
    require(user, "alert.acknowledge", alert.care_team_id)
    at = _now(now)
    with transaction.atomic(durable=True):
        locked = _locked_active(alert)
        if locked.status == AlertStatus.RESOLVED:
            raise ValidationError("This alert is already resolved.")
        if locked.status == AlertStatus.OPEN:
            locked.status = AlertStatus.ACKNOWLEDGED
            locked.acknowledged_at = at
            locked.acknowledged_by = user
            if note.strip():
                locked.last_action_at = at
            locked.save(
                update_fields=["status", "acknowledged_at", "acknowledged_by", "last_action_at", "updated_at"]
            )
            cancelled = _cancel_pending(
                locked, reason=f"acknowledged by user {user.pk}", kinds=[StepKind.PAGE, StepKind.FINAL]
            )
            _event(locked, EventKind.ACKNOWLEDGED, f"{cancelled} pending step(s) cancelled", user=user, at=at)
            reminder = int((locked.policy_snapshot or {}).get("reminder_minutes", 30))
            EscalationStep.objects.create(
                alert=locked,
                generation=locked.generation,
                sequence=_next_sequence(locked),
                kind=StepKind.REMINDER,
                targets=[],
                due_at=at + timedelta(minutes=reminder),
            )
            Notification.objects.filter(
                alert=locked, recipient=user, channel=Channel.INAPP, read_at__isnull=True
            ).update(read_at=at)
        if note.strip():
            _event(locked, EventKind.NOTE, note.strip(), user=user, at=at)
    return locked


def alert_add_note(*, alert: Alert, user, text: str, now: datetime | None = None) -> Alert:
    """A note (what was done or ordered) counts as action: no reminder follows."""
    require(user, "alert.acknowledge", alert.care_team_id)
    if not text.strip():
        raise ValidationError({"text": ["Write what was done or decided."]})
    at = _now(now)
    with transaction.atomic(durable=True):
        locked = _locked_active(alert)
        locked.last_action_at = at
        locked.save(update_fields=["last_action_at", "updated_at"])
        _event(locked, EventKind.NOTE, text.strip(), user=user, at=at)
    return locked


def alert_resolve(*, alert: Alert, user, note: str, now: datetime | None = None) -> Alert:
    require(user, "alert.resolve", alert.care_team_id)
    if not (note or "").strip():
        raise ValidationError({"note": ["Say why the alert is resolved."]})
    at = _now(now)
    with transaction.atomic(durable=True):
        locked = _locked_active(alert)
        if locked.status == AlertStatus.RESOLVED:
            return locked
        if locked.acknowledged_at is None:
            locked.acknowledged_at = at
            locked.acknowledged_by = user
        locked.status = AlertStatus.RESOLVED
        locked.resolved_at = at
        locked.resolved_by = user
        locked.last_action_at = at
        locked.save()
        cancelled = _cancel_pending(locked, reason=f"resolved by user {user.pk}")
        _event(
            locked,
            EventKind.RESOLVED,
            f"{note.strip()} ({cancelled} pending step(s) cancelled)",
            user=user,
            at=at,
        )
        CheckTask.objects.filter(alert=locked, status=CheckTaskStatus.OPEN).update(
            status=CheckTaskStatus.DONE, closed_at=at
        )
    return locked


def notifications_mark_read(
    *, user, alert_ids: Iterable[int] | None = None, now: datetime | None = None
) -> int:
    qs = Notification.objects.filter(recipient=user, channel=Channel.INAPP, read_at__isnull=True)
    if alert_ids is not None:
        qs = qs.filter(alert_id__in=list(alert_ids))
    return qs.update(read_at=_now(now))


# =============================================================================================
# 4. On-call management
# =============================================================================================
def oncall_override_create(
    *, schedule: OnCallSchedule, user: User, starts_at: datetime, ends_at: datetime, by, reason: str = ""
) -> OnCallOverride:
    require(by, "schedule.manage", schedule.team_id)
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": ["The override must end after it starts."]})
    if not Membership.objects.filter(team_id=schedule.team_id, user=user).exists():
        raise ValidationError({"user": ["Only members of the care team can be on call for it."]})
    with transaction.atomic(durable=True):
        return OnCallOverride.objects.create(
            schedule=schedule,
            user=user,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason[:200],
            created_by=by,
        )


def oncall_swap(*, schedule: OnCallSchedule, shift_a: int, shift_b: int, by, reason: str = "") -> tuple:
    """Swap two shifts of a rotation: whoever holds shift A takes B and vice versa (two overrides)."""
    require(by, "schedule.manage", schedule.team_id)
    if shift_a == shift_b:
        raise ValidationError({"shift_b": ["Pick two different shifts."]})
    a_start, a_end = schedule.shift_bounds(shift_a)
    b_start, b_end = schedule.shift_bounds(shift_b)
    user_a = oncall_user_id(schedule, a_start)
    user_b = oncall_user_id(schedule, b_start)
    if user_a is None or user_b is None:
        raise ValidationError("Both shifts need someone on call to be swapped.")
    text = (reason or "swap")[:200]
    with transaction.atomic(durable=True):
        first = OnCallOverride.objects.create(
            schedule=schedule, user_id=user_b, starts_at=a_start, ends_at=a_end, reason=text, created_by=by
        )
        second = OnCallOverride.objects.create(
            schedule=schedule, user_id=user_a, starts_at=b_start, ends_at=b_end, reason=text, created_by=by
        )
    return first, second


# =============================================================================================
# 5. Operations alarms, auditor, overdue checks
# =============================================================================================
def raise_alarm(
    *, kind: str, key: str, message: str, team_id: int | None = None, now: datetime | None = None
) -> OperationsAlarm:
    """Open (or refresh) the alarm with ``key``; coordinators are told once per alarm."""
    at = _now(now)
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
        recipients = _team_members(team_id, roles=[Role.COORDINATOR])
    else:
        recipients = list(
            User.objects.filter(
                memberships__role__in=[Role.COORDINATOR, Role.ADMIN], is_active=True
            ).distinct()
        )
    link = settings.SITE_URL + reverse("alerts:operations")
    subject = f"[CAR-T Track] Operations alarm: {alarm.get_kind_display()}"
    _notify_many(
        alert=None,
        step=None,
        token=None,
        pairs=[(user, ch) for user in recipients for ch in (Channel.INAPP, Channel.EMAIL)],
        subject=subject,
        text=f"{subject}. {alarm.message}. {link}",
        link=link,
        require_status=None,
        alarm=alarm,
        key_prefix=f"alarm:{alarm.pk}",
    )
    return alarm


def clear_alarm(*, alarm: OperationsAlarm, by, now: datetime | None = None) -> None:
    require(by, "schedule.manage", alarm.team_id) if alarm.team_id else require(by, "schedule.manage")
    OperationsAlarm.objects.filter(pk=alarm.pk, cleared_at__isnull=True).update(
        cleared_at=_now(now), cleared_by=by
    )


def _clear_alarms(keys_prefix: str, still_open: set[str], at: datetime) -> None:
    OperationsAlarm.objects.filter(key__startswith=keys_prefix, cleared_at__isnull=True).exclude(
        key__in=still_open
    ).update(cleared_at=at)


def run_auditor(*, now: datetime | None = None) -> dict:
    """Find what the tick missed, repair it, raise alarms, write the heartbeat."""
    at = _now(now)
    findings: dict[str, list] = {
        "unprocessed_evaluations": [],
        "overdue": [],
        "stuck": [],
        "idle_alerts": [],
        "oncall_gaps": [],
    }
    # A grade whose alert task never ran (message lost by the broker, worker gone before it
    # started) must still raise its alert: process it here, oldest first, and say so.
    unprocessed_before = at - timedelta(seconds=settings.ALERT_EVALUATION_GRACE_SECONDS)
    for evaluation_id in (
        GradeEvaluation.objects.filter(
            alerts_processed_at__isnull=True,
            evaluated_at__lt=unprocessed_before,
            evaluated_at__gte=at - timedelta(hours=settings.ALERT_EVALUATION_SWEEP_HOURS),
        )
        .order_by("evaluated_at", "id")
        .values_list("pk", flat=True)[:200]
    ):
        findings["unprocessed_evaluations"].append(evaluation_id)
        alert_process_evaluation(evaluation_id=evaluation_id, now=now)
    if findings["unprocessed_evaluations"]:
        raise_alarm(
            kind=AlarmKind.UNPROCESSED_EVALUATION,
            key=f"unprocessed_evaluations:{at:%Y%m%d%H%M}",
            message=f"{len(findings['unprocessed_evaluations'])} grade evaluation(s) had not reached the "
            "alert task (broker or worker trouble?); the auditor processed them",
            now=at,
        )
    overdue_after = timedelta(seconds=max(60, 3 * settings.ALERT_TICK_SECONDS))
    for step in EscalationStep.objects.filter(
        status=StepStatus.PENDING, due_at__lt=at - overdue_after, alert__status__in=ACTIVE_STATUSES
    ).select_related("alert")[:200]:
        findings["overdue"].append(step.pk)
        raise_alarm(
            kind=AlarmKind.OVERDUE_STEP,
            key=f"overdue_step:{step.pk}",
            team_id=step.alert.care_team_id,
            message=f"Alert #{step.alert_id} step {step.sequence + 1} was due at "
            f"{step.due_at:%H:%M:%S} UTC and not sent (scheduler tick not running?)",
            now=at,
        )
    stuck_before = at - timedelta(seconds=settings.ALERT_STEP_STUCK_SECONDS)
    for step in EscalationStep.objects.filter(
        status=StepStatus.SENDING, claimed_at__lt=stuck_before
    ).select_related("alert")[:200]:
        if EscalationStep.objects.filter(
            pk=step.pk, status=StepStatus.SENDING, claim_token=step.claim_token
        ).update(
            status=StepStatus.PENDING, claim_token=None, outcome="re-kicked by the auditor (stuck in sending)"
        ):
            findings["stuck"].append(step.pk)
            raise_alarm(
                kind=AlarmKind.STUCK_STEP,
                key=f"stuck_step:{step.pk}",
                team_id=step.alert.care_team_id,
                message=f"Alert #{step.alert_id} step {step.sequence + 1} was stuck in sending "
                "(worker lost?); re-sent",
                now=at,
            )
    for alert in Alert.objects.filter(status=AlertStatus.OPEN, escalation_stopped=False).exclude(
        steps__status__in=[StepStatus.PENDING, StepStatus.SENDING]
    )[:200]:
        findings["idle_alerts"].append(alert.pk)
        with transaction.atomic():
            locked = Alert.objects.select_for_update().get(pk=alert.pk)
            if (
                locked.status == AlertStatus.OPEN
                and not locked.steps.filter(status__in=[StepStatus.PENDING, StepStatus.SENDING]).exists()
            ):
                final = {
                    "target": Target.LEADS,
                    "role": "",
                    "user_id": None,
                    "channels": [Channel.INAPP, Channel.EMAIL, Channel.SMS],
                    "wait_minutes": 5,
                }
                EscalationStep.objects.create(
                    alert=locked,
                    generation=locked.generation,
                    sequence=_next_sequence(locked),
                    kind=StepKind.FINAL,
                    targets=[final],
                    due_at=at,
                )
        raise_alarm(
            kind=AlarmKind.ALERT_WITHOUT_STEPS,
            key=f"alert_idle:{alert.pk}:{alert.generation}",
            team_id=alert.care_team_id,
            message=f"Open alert #{alert.pk} had no pending escalation step; the leads are paged",
            now=at,
        )
    gap_keys: set[str] = set()
    team_ids = set(
        Infusion.objects.filter(status=InfusionStatus.ACTIVE).values_list("care_team_id", flat=True)
    )
    team_ids |= set(OnCallSchedule.objects.values_list("team_id", flat=True))
    for team_id in sorted(team_ids):
        if oncall_for_team(team_id, Slot.PRIMARY, at) is None:
            key = f"oncall_gap:{team_id}:primary"
            gap_keys.add(key)
            findings["oncall_gaps"].append(team_id)
            raise_alarm(
                kind=AlarmKind.ONCALL_GAP,
                key=key,
                team_id=team_id,
                message="Nobody is on call (primary) for this care team right now",
                now=at,
            )
    _clear_alarms("oncall_gap:", gap_keys, at)
    kicked = (
        dispatch_due_steps(now=now)
        if (findings["overdue"] or findings["stuck"] or findings["idle_alerts"])
        else 0
    )
    summary = {k: v[:50] for k, v in findings.items()}
    summary["kicked"] = kicked
    AuditorHeartbeat.objects.update_or_create(
        pk=1, defaults={"last_run_at": timezone.now(), "findings": summary}
    )
    return summary


def escalation_health(*, now: datetime | None = None) -> tuple[bool, dict]:
    at = _now(now)
    beat = AuditorHeartbeat.objects.filter(pk=1).first()
    max_age = settings.ALERT_HEARTBEAT_MAX_AGE_SECONDS
    if beat is None:
        return False, {
            "status": "fail",
            "reason": "the escalation auditor has never run",
            "max_age_s": max_age,
        }
    age = (at - beat.last_run_at).total_seconds()
    pending_overdue = EscalationStep.objects.filter(
        status=StepStatus.PENDING, due_at__lt=at - timedelta(seconds=max(60, 3 * settings.ALERT_TICK_SECONDS))
    ).count()
    body = {
        "status": "ok" if age <= max_age else "fail",
        "auditor_last_run": beat.last_run_at.isoformat(),
        "auditor_age_s": round(age, 1),
        "max_age_s": max_age,
        "overdue_steps": pending_overdue,
        "open_alarms": OperationsAlarm.objects.filter(cleared_at__isnull=True).count(),
    }
    if age > max_age:
        body["reason"] = f"the escalation auditor has not run for {int(age)} s"
    return age <= max_age, body


def overdue_checks_scan(*, now: datetime | None = None) -> dict:
    """Overdue assessments (RULES §5.2) become nurse tasks; after the template's grace period an alert
    to the charge nurse. A recorded reason (MissedCheck) or a done check closes the task."""
    at = _now(now)
    infusion_ids = list(Infusion.objects.filter(status=InfusionStatus.ACTIVE).values_list("id", flat=True))
    statuses = checks_for_infusions(infusion_ids, now=at)
    infusions = {
        i.pk: i
        for i in Infusion.objects.filter(pk__in=infusion_ids).select_related(
            "product__monitoring_template", "care_team"
        )
    }
    overdue_now: set[tuple[int, str]] = set()
    opened = tasks = 0
    for infusion_id, checks in statuses.items():
        infusion = infusions[infusion_id]
        grace = timedelta(minutes=infusion.product.monitoring_template.overdue_grace_minutes)
        for check in checks:
            if not check.is_overdue or check.next_due is None:
                continue
            overdue_now.add((infusion_id, check.check_type))
            task, created = CheckTask.objects.get_or_create(
                infusion_id=infusion_id,
                check_type=check.check_type,
                due_at=check.next_due,
                defaults={"care_team_id": infusion.care_team_id},
            )
            tasks += int(created)
            if check.missed_reason:
                if task.status == CheckTaskStatus.OPEN:
                    CheckTask.objects.filter(pk=task.pk).update(
                        status=CheckTaskStatus.REASON_RECORDED, closed_at=at
                    )
                continue
            if task.status == CheckTaskStatus.OPEN and task.alert_id is None and check.overdue_by >= grace:
                alert = _open_overdue_alert(
                    infusion=infusion,
                    check_type=check.check_type,
                    due_at=check.next_due,
                    minutes=check.overdue_minutes,
                    now=at,
                )
                if alert is not None:
                    CheckTask.objects.filter(pk=task.pk).update(alert=alert)
                    opened += 1
    # Checks done since (or with a reason recorded) close their tasks and overdue alerts.
    for task in CheckTask.objects.filter(status=CheckTaskStatus.OPEN).select_related("alert"):
        if (task.infusion_id, task.check_type) in overdue_now and task.infusion_id in statuses:
            still = next((c for c in statuses[task.infusion_id] if c.check_type == task.check_type), None)
            if still is not None and still.next_due == task.due_at:
                continue
        reason = MissedCheck.objects.filter(
            infusion_id=task.infusion_id,
            check_type=task.check_type,
            due_at__gte=task.due_at - timedelta(minutes=1),
        ).exists()
        CheckTask.objects.filter(pk=task.pk, status=CheckTaskStatus.OPEN).update(
            status=CheckTaskStatus.REASON_RECORDED if reason else CheckTaskStatus.DONE, closed_at=at
        )
        if task.alert_id and task.alert.is_active:
            _close_overdue_alert(task.alert, at=at, reason="reason recorded" if reason else "check done")
    if opened:
        dispatch_due_steps(now=now)
    return {"tasks_created": tasks, "alerts_opened": opened}


def _open_overdue_alert(
    *, infusion: Infusion, check_type: str, due_at: datetime, minutes: int, now: datetime
) -> Alert | None:
    syndrome = OVERDUE_SYNDROMES[check_type]
    snapshot = {
        "policy_id": None,
        "name": "Overdue check: charge nurse",
        "repeat_count": 1,
        "reminder_minutes": 30,
        "final_wait_minutes": 15,
        "final_channels": [Channel.INAPP, Channel.EMAIL],
        "steps": [
            {
                "target": Target.CHARGE_NURSE,
                "role": "",
                "user_id": None,
                "channels": [Channel.INAPP, Channel.SMS],
                "wait_minutes": 15,
            }
        ],
    }
    try:
        with transaction.atomic():
            Infusion.objects.select_for_update().get(pk=infusion.pk)
            if Alert.objects.filter(
                infusion=infusion, syndrome=syndrome, status__in=ACTIVE_STATUSES
            ).exists():
                return None
            return _open_alert(
                infusion=infusion,
                ev=None,
                syndrome=syndrome,
                grade=None,
                urgency=Urgency.URGENT,
                now=now,
                snapshot=snapshot,
                due_at=due_at,
                summary=f"{Syndrome(syndrome).label}: due {due_at:%H:%M} UTC, {minutes} min overdue",
            )
    except IntegrityError:
        return None


def _close_overdue_alert(alert: Alert, *, at: datetime, reason: str) -> None:
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.status not in ACTIVE_STATUSES:
            return
        locked.status = AlertStatus.RESOLVED
        locked.resolved_at = at
        locked.save(update_fields=["status", "resolved_at", "updated_at"])
        _cancel_pending(locked, reason=reason)
        _event(locked, EventKind.RESOLVED, f"Closed automatically: {reason}", at=at)


def missed_check_record(
    *, infusion: Infusion, check_type: str, due_at: datetime, reason: str, user, now: datetime | None = None
) -> MissedCheck:
    """A nurse records why a due check was not done; the task closes and any overdue alert resolves."""
    require(user, "check.record_missed", infusion.care_team_id)
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the check was not done."]})
    at = _now(now)
    with transaction.atomic(durable=True):
        missed = MissedCheck.objects.create(
            infusion=infusion,
            check_type=check_type,
            due_at=due_at,
            reason=reason.strip()[:300],
            recorded_by=user,
            recorded_at=at,
        )
        for task in CheckTask.objects.select_for_update().filter(
            infusion=infusion, check_type=check_type, status=CheckTaskStatus.OPEN
        ):
            CheckTask.objects.filter(pk=task.pk).update(status=CheckTaskStatus.REASON_RECORDED, closed_at=at)
            if task.alert_id:
                alert = Alert.objects.select_for_update().get(pk=task.alert_id)
                if alert.is_active:
                    alert.status = AlertStatus.RESOLVED
                    alert.resolved_at = at
                    alert.resolved_by = user
                    alert.save(update_fields=["status", "resolved_at", "resolved_by", "updated_at"])
                    _cancel_pending(alert, reason="reason for missed check recorded")
                    _event(alert, EventKind.RESOLVED, f"Reason recorded: {reason.strip()}", user=user, at=at)
    return missed


# --- Escalation policies ---------------------------------------------------------------------------
def escalation_policy_save(*, team, by: User, policy: dict, steps: list[dict]) -> EscalationPolicy:
    """Replace ``team``'s escalation policy (fields + ordered steps) in one transaction.

    Alerts already open keep the policy copied onto them when they opened; the change applies to
    alerts opened from now on.  Every change is kept in the policy's and steps' history."""
    require(by, "policy.manage", team.pk)
    if not steps:
        raise ValidationError({"steps": ["An escalation policy needs at least one step."]})
    member_ids = set(Membership.objects.filter(team=team).values_list("user_id", flat=True))
    for number, step in enumerate(steps, start=1):
        user = step.get("user")
        if user is not None and user.pk not in member_ids:
            raise ValidationError({"steps": [f"Step {number}: {user} is not a member of {team}."]})
    with transaction.atomic():
        obj, _created = EscalationPolicy.objects.select_for_update().get_or_create(team=team)
        for name in ("name", "repeat_count", "reminder_minutes", "final_wait_minutes"):
            setattr(obj, name, policy[name])
        obj.final_channels = list(policy["final_channels"])
        obj.full_clean()
        obj.save()
        for old in obj.steps.all():
            old.delete()  # one by one, so each removal is in the step history
        for position, step in enumerate(steps):
            EscalationPolicyStep.objects.create(
                policy=obj,
                position=position,
                target=step["target"],
                role=step.get("role") or "",
                user=step.get("user"),
                channels=list(step["channels"]),
                wait_minutes=step["wait_minutes"],
            )
    log.info("escalation policy of team %s changed by user %s", team.pk, by.pk)
    return obj


# =============================================================================================
# Follow-up alerts (ALERT-13), raised by the followup app through the same escalation chain
# =============================================================================================
#: Pages to the recipients' role, then the leads. An urgent follow-up alert repeats once and pages by
#: SMS too; a routine one goes to the inbox and by e-mail, once.
FOLLOWUP_WAIT_MINUTES = {Urgency.URGENT: 15, Urgency.ROUTINE: 60}


def followup_policy_snapshot(*, role: str, urgency: str) -> dict:
    channels_ = [Channel.INAPP, Channel.EMAIL] + ([Channel.SMS] if urgency == Urgency.URGENT else [])
    wait = FOLLOWUP_WAIT_MINUTES.get(urgency, FOLLOWUP_WAIT_MINUTES[Urgency.ROUTINE])
    return {
        "policy_id": None,
        "name": f"Follow-up: {Role(role).label.lower()}s of the team",
        "repeat_count": 1 if urgency == Urgency.URGENT else 0,
        "reminder_minutes": 30,
        "final_wait_minutes": wait,
        "final_channels": [Channel.INAPP, Channel.EMAIL],
        "steps": [
            {
                "target": Target.ROLE,
                "role": role,
                "user_id": None,
                "channels": channels_,
                "wait_minutes": wait,
            }
        ],
    }


def alert_raise_followup(
    *,
    infusion_id: int,
    syndrome: str,
    urgency: str,
    role: str,
    summary: str,
    drivers: list,
    due_at: datetime | None = None,
    now: datetime | None = None,
) -> Alert | None:
    """Open a follow-up alert for the course to everyone with ``role`` in its care team (then the
    leads), or None when one of this syndrome is already active for the course. Runs in the caller's
    transaction (or its own); the first step is dispatched after commit."""
    at = _now(now)
    with transaction.atomic():
        infusion = Infusion.objects.select_for_update().get(pk=infusion_id)
        if Alert.objects.filter(infusion=infusion, syndrome=syndrome, status__in=ACTIVE_STATUSES).exists():
            return None
        alert = _open_alert(
            infusion=infusion,
            ev=None,
            syndrome=syndrome,
            grade=None,
            urgency=urgency,
            now=at,
            snapshot=followup_policy_snapshot(role=role, urgency=urgency),
            due_at=due_at,
            summary=summary[:200],
        )
        Alert.objects.filter(pk=alert.pk).update(drivers=drivers)
        transaction.on_commit(lambda: dispatch_due_steps(alert_ids=[alert.pk], now=now), robust=True)
    return alert


def alert_close_followup(*, alert_id: int, reason: str, now: datetime | None = None) -> None:
    """Resolve a follow-up alert whose cause went away (an overdue visit documented since)."""
    alert = Alert.objects.filter(pk=alert_id).first()
    if alert is not None and alert.is_active:
        _close_overdue_alert(alert, at=_now(now), reason=reason)
