"""Writes of the followup app (keyword-only; each in the caller's transaction or one of its own).

* :func:`course_evaluate`: store a course's follow-up result (``FollowupEvaluation``). Called by the
  ``observation_saved`` receiver inside the observation's own transaction (the result commits with
  the observation), and by the overdue-visit scan.
* :func:`findings_process`: turn the result's findings into alerts through the escalation chain
  and coordinator tasks (ALERT-13), once per course and finding key; close the overdue-visit tasks
  (and their alert) of visits documented since, and the reminder tasks (IgG check, CMV PCR) that
  the newest result no longer holds (the check was done, a newer one replaced it, or it ended).
* :func:`overdue_visits_scan`: re-evaluate the followed courses in which a visit window closed or a
  reminder fell due since their last evaluation (without any new observation), those with an open
  visit or check task and a row recorded since (it may document the visit), and evaluate a first
  time the courses past day 30 that have no follow-up data yet (VISIT-8).
* :func:`task_close`: a coordinator closes a task.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import current_app
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone

from accounts.models import Role
from accounts.permissions import can
from alerts import services as alert_services
from alerts.models import ACTIVE_STATUSES, Alert, Syndrome, Urgency
from carttrack.followup.groups import IndicationGroup
from carttrack.followup.reminders import CMV_INTERVAL_HOURS
from carttrack.followup.visits import FOLLOWED_WITHOUT_DATA_FROM_HOURS, template_for
from monitoring import grading
from monitoring.models import CloseReason, Infusion, Observation

from . import course_reading
from .models import Finding, FindingKind, FollowupEvaluation, TaskStatus

logger = logging.getLogger(__name__)

#: The Celery task that turns a stored result's findings into alerts and tasks (``followup/tasks.py``
#: registers it under this name).  It is sent by name: the tasks module imports this one, so importing
#: the task back here would make a services <-> tasks cycle.
PROCESS_FINDINGS_TASK = "followup.process_findings"

#: Finding code -> the alert it raises (ALERT-13); codes not listed raise no alert.
ALERT_SYNDROMES = {
    FindingKind.RELAPSE: Syndrome.RELAPSE,
    FindingKind.SEROLOGICAL_REACTIVATION: Syndrome.SEROLOGY,
    FindingKind.B_CELL_APLASIA_LOST: Syndrome.B_CELL_APLASIA_LOST,
    FindingKind.VISIT_OVERDUE: Syndrome.OVERDUE_VISIT,
}
#: The core's recipient -> the role paged in the course's care team.
RECIPIENT_ROLES = {"treating_physicians": Role.PHYSICIAN, "coordinator": Role.COORDINATOR}
#: Finding codes that are (also) a task on the coordinators' follow-up list.
TASK_KINDS = frozenset(
    {
        FindingKind.VISIT_OVERDUE,
        FindingKind.PROPHYLAXIS_STOP_CRITERIA_MET,
        FindingKind.IGG_CHECK_DUE,
        FindingKind.CMV_PCR_DUE,
        FindingKind.REVACCINATION_DUE,
    }
)
#: Tasks that close themselves when the newest result no longer holds them (BCELL-6, INF-11, VISIT-3).
SELF_CLOSING_KINDS = frozenset(
    {FindingKind.VISIT_OVERDUE, FindingKind.IGG_CHECK_DUE, FindingKind.CMV_PCR_DUE}
)
#: The courses still followed (VISIT-2): acute monitoring open, or closed as complete (follow-up goes
#: on). A course closed for any other reason (death, next therapy, transfer, progression, lost to
#: follow-up) takes no visit any more, so none can fall overdue.
FOLLOWED = Q(close_reason="") | Q(close_reason=CloseReason.MONITORING_COMPLETE)
#: VISIT-8: courses evaluated a first time per scan (the oldest first; the rest at the next scans).
FIRST_EVALUATIONS_PER_SCAN = 200


def course_evaluate(
    *, infusion: Infusion, triggered_by: Observation | None = None, now: datetime | None = None
) -> FollowupEvaluation:
    """Evaluate and store the course's follow-up result, with or without follow-up data (the course
    is followed, VISIT-8). Its findings are processed after commit (a worker, or in-process when the
    broker is down)."""
    at = now or timezone.now()
    rows = course_reading.current_rows([infusion.pk])[infusion.pk]
    version = course_reading.template_version_of(infusion)
    result = course_reading.evaluate(infusion, rows, as_of=at, template_version=version, followed=True)
    assert result is not None  # followed: built even without follow-up data
    evaluation = FollowupEvaluation.objects.create(
        infusion=infusion,
        triggered_by=triggered_by,
        evaluated_at=at,
        rule_set=result.rule_set,
        visit_template_version=result.settings.get("visit_template_version", version or ""),
        indication_group=result.group,
        result=grading.jsonable(result.to_dict()),
        observation_count=len(rows),
    )
    transaction.on_commit(lambda: _enqueue_findings(evaluation.pk), robust=True)
    return evaluation


def _enqueue_findings(evaluation_id: int) -> None:
    """Queue the findings of a committed result for a worker (the id only, routed by the task's name
    as ``config/settings/broker.py`` says); process them here if the broker is unreachable."""
    try:
        current_app.send_task(PROCESS_FINDINGS_TASK, args=[evaluation_id])
    except Exception:
        logger.exception("could not enqueue follow-up findings of %s; processing in-process", evaluation_id)
        findings_process(evaluation_id=evaluation_id)


def findings_process(*, evaluation_id: int, now: datetime | None = None) -> list[int]:
    """Raise the alerts and open the tasks of a stored follow-up result (idempotent per finding key).
    Returns the ids of the findings seen for the first time."""
    at = now or timezone.now()
    created_ids: list[int] = []
    with transaction.atomic(durable=True):
        evaluation = FollowupEvaluation.objects.select_related("infusion").filter(pk=evaluation_id).first()
        if evaluation is None:
            return []
        infusion = Infusion.objects.select_for_update().get(pk=evaluation.infusion_id)
        newest = FollowupEvaluation.objects.filter(infusion=infusion).order_by("-evaluated_at", "-id").first()
        is_newest = newest is not None and newest.pk == evaluation.pk
        findings = list(evaluation.result.get("findings") or [])
        for item in findings:
            finding, created = Finding.objects.get_or_create(
                infusion=infusion,
                key=item["key"][:120],
                defaults=_finding_fields(infusion, evaluation, item, at),
            )
            if created:
                created_ids.append(finding.pk)
                _alert_for(finding, infusion, at)
            elif is_newest and _closed_as_stale(finding):
                _reopen(finding, evaluation, infusion, at)
        if is_newest:
            _close_stale_tasks(infusion, {f["key"] for f in findings}, at)
        FollowupEvaluation.objects.filter(pk=evaluation.pk, findings_processed_at__isnull=True).update(
            findings_processed_at=at
        )
    return created_ids


def _finding_fields(infusion: Infusion, evaluation: FollowupEvaluation, item: dict, at: datetime) -> dict:
    kind = item["code"]
    return {
        "care_team_id": infusion.care_team_id,
        "kind": kind,
        "urgency": item["urgency"],
        "recipient": item["recipient"],
        "subject": _subject(item),
        "text": item["text"][:500],
        "t_hours": item["t_hours"],
        "drivers": item.get("drivers") or [],
        "evaluation": evaluation,
        "first_seen_at": at,
        "task_status": TaskStatus.OPEN if kind in TASK_KINDS else TaskStatus.NONE,
    }


def _subject(item: dict) -> str:
    key = item["key"]
    return key.split(":", 1)[1][:40] if ":" in key else ""


def _alert_for(finding: Finding, infusion: Infusion, at: datetime) -> None:
    syndrome = ALERT_SYNDROMES.get(finding.kind)
    if syndrome is None or finding.urgency not in (Urgency.URGENT, Urgency.ROUTINE):
        return
    alert = alert_services.alert_raise_followup(
        infusion_id=infusion.pk,
        syndrome=syndrome,
        urgency=finding.urgency,
        role=RECIPIENT_ROLES.get(finding.recipient, Role.PHYSICIAN),
        summary=finding.text,
        drivers=finding.drivers,
        now=at,
    )
    if alert is None:  # one already active for the course: this finding joins it
        alert = Alert.objects.filter(infusion=infusion, syndrome=syndrome, status__in=ACTIVE_STATUSES).first()
    if alert is not None:
        Finding.objects.filter(pk=finding.pk).update(alert=alert)


def _closed_as_stale(finding: Finding) -> bool:
    """A self-closing task the system closed (no one marked it done) because a result no longer held
    it: the newest result holding it again (a correction voided the IgG, the IVIG dose or the visit
    that closed it) makes it due again."""
    return (
        finding.kind in SELF_CLOSING_KINDS
        and finding.task_status == TaskStatus.DONE
        and finding.closed_by_id is None
    )


def _reopen(finding: Finding, evaluation: FollowupEvaluation, infusion: Infusion, at: datetime) -> None:
    Finding.objects.filter(pk=finding.pk).update(
        task_status=TaskStatus.OPEN, closed_at=None, evaluation=evaluation
    )
    finding.task_status, finding.closed_at = TaskStatus.OPEN, None
    alert = finding.alert
    if ALERT_SYNDROMES.get(finding.kind) and (alert is None or alert.status not in ACTIVE_STATUSES):
        _alert_for(finding, infusion, at)


def _close_stale_tasks(infusion: Infusion, still_found: set[str], at: datetime) -> None:
    """Overdue-visit and reminder tasks whose finding the newest result no longer holds are done:
    the visit was documented, the IgG checked, or a newer reminder replaced it."""
    stale = Finding.objects.filter(
        infusion=infusion, kind__in=list(SELF_CLOSING_KINDS), task_status=TaskStatus.OPEN
    ).exclude(key__in=still_found)
    alert_ids = set(stale.exclude(alert=None).values_list("alert_id", flat=True))
    stale.update(task_status=TaskStatus.DONE, closed_at=at)
    for alert_id in alert_ids:
        if not Finding.objects.filter(alert_id=alert_id, task_status=TaskStatus.OPEN).exists():
            alert_services.alert_close_followup(alert_id=alert_id, reason="visit documented", now=at)


def overdue_visits_scan(*, now: datetime | None = None) -> dict:
    """Re-evaluate every followed course that has a follow-up result, when a visit window closed or a
    reminder fell due since its last evaluation, or when it has an open visit or check task and a row
    was recorded since (it may document the visit or be the check); evaluate a first time the
    followed courses past day 30 that have none (VISIT-8: a course seen only through its toxicity
    weeks). The new results' overdue visits and due checks become tasks."""
    at = now or timezone.now()
    followed = Infusion.objects.filter(FOLLOWED)
    newest = FollowupEvaluation.objects.filter(infusion=OuterRef("infusion")).order_by("-evaluated_at", "-id")
    open_task = Finding.objects.filter(
        infusion=OuterRef("infusion"), kind__in=list(SELF_CLOSING_KINDS), task_status=TaskStatus.OPEN
    )
    recorded_since = Observation.objects.filter(
        infusion=OuterRef("infusion"), recorded_at__gt=OuterRef("evaluated_at")
    )
    latest = {
        ev.infusion_id: ev
        for ev in FollowupEvaluation.objects.filter(
            infusion__in=followed, pk=Subquery(newest.values("pk")[:1])
        )
        .annotate(
            reminders=F("result__reminders"),
            open_task=Exists(open_task),
            recorded_since=Exists(recorded_since),
        )
        .only("id", "infusion_id", "evaluated_at", "indication_group", "visit_template_version")
    }
    first = list(
        followed.filter(infused_at__lte=at - timedelta(hours=FOLLOWED_WITHOUT_DATA_FROM_HOURS))
        .filter(~Exists(FollowupEvaluation.objects.filter(infusion=OuterRef("pk"))))
        .order_by("infused_at", "id")
        .values_list("pk", flat=True)[:FIRST_EVALUATIONS_PER_SCAN]
    )
    infusions = Infusion.objects.filter(pk__in=[*latest, *first]).select_related(
        "patient", "product", "care_team"
    )
    evaluated = 0
    for infusion in infusions:
        ev = latest.get(infusion.pk)
        if ev is not None and not _due_again(infusion, ev, at):
            continue
        with transaction.atomic(durable=True):
            course_evaluate(infusion=infusion, now=at)
        evaluated += 1
    return {"courses": len(latest), "first_evaluated": len(first), "evaluated": evaluated}


def _due_again(infusion: Infusion, ev: FollowupEvaluation, at: datetime) -> bool:
    """Whether a window closed or a reminder fell due since ``ev``, or a row recorded since may close
    one of its open tasks."""
    if ev.open_task and ev.recorded_since:
        return True
    template = template_for(IndicationGroup(ev.indication_group), ev.visit_template_version)
    since, until = infusion.hours_after(ev.evaluated_at), infusion.hours_after(at)
    closes = [v.closes_hours for v in template.visits] + _reminder_due_hours(ev.reminders)
    return any(since < t <= until for t in closes)


def _reminder_due_hours(reminders: list[dict] | None) -> list[float]:
    """When the stored result's reminders fall due, and the next weekly CMV PCR after that."""
    out: list[float] = []
    for r in reminders or []:
        due = r.get("due_hours")
        if due is not None:
            out.append(float(due))
            if r.get("code") == FindingKind.CMV_PCR_DUE:
                out.append(float(due) + CMV_INTERVAL_HOURS)
    return out


def task_close(*, finding: Finding, user, now: datetime | None = None) -> Finding:
    """A coordinator (or physician) marks a follow-up task done."""
    if not can(user, "patient.manage", finding.care_team_id) and not can(
        user, "finding.attribute", finding.care_team_id
    ):
        raise PermissionDenied("Only a coordinator or a physician can close a follow-up task")
    with transaction.atomic(durable=True):
        Finding.objects.filter(pk=finding.pk, task_status=TaskStatus.OPEN).update(
            task_status=TaskStatus.DONE, closed_at=now or timezone.now(), closed_by=user
        )
    finding.refresh_from_db()
    return finding
