"""Alert inbox, alert detail with its timeline, on-call, operations alarms and the health check."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

import carttrack
from accounts.models import CareTeam, Role, User
from accounts.permissions import can, capability_required, require
from accounts.zones import in_care_team_zone
from monitoring.models import CheckType

from . import selectors, services, story
from .forms import EscalationPolicyForm, StepFormSet
from .models import Alert, Channel, EscalationPolicy, OnCallSchedule, Target
from .policy import DEFAULT_POLICY, PolicySnapshot, PolicyStep


def _errors(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return " ".join(m for msgs in exc.message_dict.values() for m in msgs)
    return " ".join(exc.messages)


def _inbox_context(request) -> dict:
    user = request.user
    alerts = selectors.inbox_alerts(user)
    for alert in alerts:
        alert.can_ack = can(user, "alert.acknowledge", alert.care_team_id)
        alert.can_resolve = can(user, "alert.resolve", alert.care_team_id)
    tasks = list(selectors.open_check_tasks(user))
    for task in tasks:
        task.can_record = can(user, "check.record_missed", task.care_team_id)
        task.label = (
            CheckType(task.check_type).label if task.check_type in CheckType.values else task.check_type
        )
    return {"alerts": alerts, "tasks": tasks, "now": timezone.now(), "unread": selectors.unread_count(user)}


@login_required
@capability_required("alert.view")
@require_GET
@in_care_team_zone
def inbox(request):
    return render(request, "alerts/inbox.html", _inbox_context(request))


@login_required
@capability_required("alert.view")
@require_GET
@never_cache
@in_care_team_zone
def inbox_items(request):
    """The htmx-polled part of the inbox (sent with ``X-Background-Poll: 1``)."""
    return render(request, "alerts/partials/inbox_items.html", _inbox_context(request))


@login_required
@require_GET
def alert_link(request, alert_id: int):
    """The short link in notifications (no patient id in it): redirect to the scoped detail page."""
    alert = get_object_or_404(selectors.alerts_visible_to(request.user), pk=alert_id)
    return redirect("alerts:detail_full", patient_id=alert.patient_id, alert_id=alert.pk)


@login_required
@capability_required("alert.view")
@require_GET
def alert_detail(request, patient_id: int, alert_id: int):
    try:
        alert = selectors.alert_detail(request.user, alert_id, patient_id)
    except Alert.DoesNotExist as exc:
        raise Http404("No such alert") from exc
    services.notifications_mark_read(user=request.user, alert_ids=[alert.pk])
    events, notifications = list(alert.events.all()), list(alert.notifications.all())
    context = {
        "alert": alert,
        "events": events,
        "story": story.story(alert, events, notifications),
        "steps": list(alert.steps.all()),
        "notifications": notifications,
        "pending": selectors.pending_steps(alert),
        "can_ack": can(request.user, "alert.acknowledge", alert.care_team_id),
        "can_resolve": can(request.user, "alert.resolve", alert.care_team_id),
        "now": timezone.now(),
    }
    with timezone.override(ZoneInfo(alert.care_team.time_zone)):
        return render(request, "alerts/detail.html", context)


def _scoped_alert(request, alert_id: int) -> Alert:
    return get_object_or_404(selectors.alerts_visible_to(request.user), pk=alert_id)


def _back(request, alert: Alert):
    if request.POST.get("next") == "inbox":
        return redirect("alerts:inbox")
    return redirect("alerts:detail_full", patient_id=alert.patient_id, alert_id=alert.pk)


def _respond(request, alert_id: int, act, field: str, done: str):
    """One response to an alert (``act(alert=…, user=…, <field>=<the posted text>)``), then back."""
    alert = _scoped_alert(request, alert_id)
    try:
        act(alert=alert, user=request.user, **{field: request.POST.get(field, "")})
        messages.success(request, done.format(title=alert.title))
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    return _back(request, alert)


@login_required
@require_POST
def acknowledge(request, alert_id: int):
    return _respond(
        request,
        alert_id,
        services.alert_acknowledge,
        "note",
        "{title} acknowledged. Add a note when you have acted.",
    )


@login_required
@require_POST
def add_note(request, alert_id: int):
    return _respond(request, alert_id, services.alert_add_note, "text", "Note added.")


@login_required
@require_POST
def resolve(request, alert_id: int):
    return _respond(request, alert_id, services.alert_resolve, "note", "{title} resolved.")


@login_required
@require_POST
def record_missed(request, task_id: int):
    task = selectors.check_task_for(request.user, task_id)
    if task is None:
        raise Http404("No such task")
    try:
        services.check_task_record_missed(task=task, reason=request.POST.get("reason", ""), user=request.user)
        messages.success(request, "Reason recorded.")
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    return redirect("alerts:inbox")


# --- On-call ---------------------------------------------------------------------------------
@login_required
@require_GET
def oncall(request):
    return render(
        request,
        "alerts/oncall.html",
        {"teams": selectors.oncall_overview(request.user), "now": timezone.now()},
    )


def _managed_schedule(request, schedule_id: int) -> OnCallSchedule:
    schedule = get_object_or_404(
        OnCallSchedule.objects.filter(team_id__in=request.user.team_ids()).select_related("team"),
        pk=schedule_id,
    )
    require(request.user, "schedule.manage", schedule.team_id)
    return schedule


def _parse_local(value: str, tz: ZoneInfo, field: str) -> datetime:
    """A wall time of the schedule's zone through the clinical core's one rule (INPUT-12): a time the
    clocks skip or repeat for daylight saving is refused, not guessed an hour wrong."""
    try:
        return carttrack.parse_timestamp(value, zone=tz.key, field=field)
    except carttrack.ObservationError as exc:
        raise ValidationError({field: [exc.problem or str(exc)]}) from None


@login_required
@require_POST
def oncall_override(request, schedule_id: int):
    schedule = _managed_schedule(request, schedule_id)
    try:
        user = User.objects.filter(
            memberships__team_id=schedule.team_id, pk=request.POST.get("user") or 0
        ).first()
        if user is None:
            raise ValidationError({"user": ["Pick a member of the care team."]})
        services.oncall_override_create(
            schedule=schedule,
            user=user,
            by=request.user,
            reason=request.POST.get("reason", ""),
            starts_at=_parse_local(request.POST.get("starts_at", ""), schedule.tz, "starts_at"),
            ends_at=_parse_local(request.POST.get("ends_at", ""), schedule.tz, "ends_at"),
        )
        messages.success(request, f"{user} is on call for the override period.")
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    return redirect("alerts:oncall")


@login_required
@require_POST
def oncall_swap(request, schedule_id: int):
    schedule = _managed_schedule(request, schedule_id)
    try:
        services.oncall_swap(
            schedule=schedule,
            shift_a=int(request.POST.get("shift_a", "")),
            shift_b=int(request.POST.get("shift_b", "")),
            by=request.user,
            reason=request.POST.get("reason", ""),
        )
        messages.success(request, "Shifts swapped.")
    except ValueError:
        messages.error(request, "Pick two shifts to swap.")
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    return redirect("alerts:oncall")


# --- Operations alarms and health ------------------------------------------------------------
@login_required
@capability_required("schedule.manage")
@require_GET
@in_care_team_zone
def operations(request):
    ok, health = services.escalation_health()
    return render(
        request,
        "alerts/operations.html",
        {"alarms": selectors.recent_alarms(request.user), "health_ok": ok, "health": health},
    )


@login_required
@require_POST
def clear_alarm(request, alarm_id: int):
    alarm = get_object_or_404(selectors.open_alarms(request.user), pk=alarm_id)
    services.clear_alarm(alarm=alarm, by=request.user)
    return redirect("alerts:operations")


@require_GET
@never_cache
def health_escalations(request):
    """200 when the auditor ran within the last 3 minutes and nothing is late, else 503 (JSON body naming
    what is late and by how much, no patient data; ``alerts.outage``)."""
    ok, body = services.escalation_health()
    return JsonResponse(body, status=200 if ok else 503)


# --- Escalation policies ---------------------------------------------------------------------------
def _policy_data(team: CareTeam) -> PolicySnapshot:
    """The team's policy (the built-in default if it has none yet)."""
    policy = EscalationPolicy.objects.filter(team=team).first()
    return PolicySnapshot.of(policy) if policy is not None else DEFAULT_POLICY


@login_required
@require_GET
def policies(request):
    teams = CareTeam.objects.filter(pk__in=request.user.team_ids()).order_by("name")
    rows = []
    users = {u.pk: u for u in User.objects.filter(memberships__team__in=teams).distinct()}
    for team in teams:
        data = _policy_data(team)
        rows.append(
            {
                "team": team,
                "policy": data,
                "final_by": _channels_text(data.final_channels),
                "steps": [
                    {
                        "who": _target_text(step, users),
                        "by": _channels_text(step.channels),
                        "wait": step.wait_minutes,
                    }
                    for step in data.steps
                ],
                "is_default": data.policy_id is None,
                "can_manage": can(request.user, "policy.manage", team.pk),
            }
        )
    return render(request, "alerts/policies.html", {"rows": rows})


def _channels_text(channels) -> str:
    labels = dict(Channel.choices)
    return ", ".join(labels.get(c, c) for c in channels or [])


def _target_text(step: PolicyStep, users: dict) -> str:
    text = dict(Target.choices).get(step.target, step.target)
    if step.target == Target.ROLE:
        text += f": {dict(Role.choices).get(step.role or Role.PHYSICIAN)}"
    elif step.target == Target.USER:
        text += f": {users.get(step.user_id, 'nobody (no longer in the team)')}"
    return text


@login_required
@require_http_methods(["GET", "POST"])
def policy_edit(request, team_id: int):
    team = get_object_or_404(CareTeam.objects.filter(pk__in=request.user.team_ids()), pk=team_id)
    require(request.user, "policy.manage", team.pk)
    members = User.objects.filter(memberships__team=team, is_active=True).distinct().order_by("username")
    data = _policy_data(team)
    if request.method == "POST":
        form = EscalationPolicyForm(request.POST)
        formset = StepFormSet(request.POST, prefix="steps", form_kwargs={"members": members})
        if form.is_valid() and formset.is_valid():
            chosen = [s for s in (f.step() for f in formset.forms) if s is not None]
            try:
                services.escalation_policy_save(
                    team=team, by=request.user, policy=form.cleaned_data, steps=chosen
                )
            except ValidationError as exc:
                form.add_error(None, _errors(exc))
            else:
                messages.success(
                    request, f"Escalation policy of {team} saved; it applies to alerts opened from now on."
                )
                return redirect("alerts:policies")
        status = 422
    else:
        stored = data.to_json()
        form = EscalationPolicyForm(initial={k: stored[k] for k in EscalationPolicyForm.base_fields})
        initial = [
            {
                "target": s.target,
                "role": s.role,
                "user": s.user_id,
                "channels": list(s.channels),
                "wait_minutes": s.wait_minutes,
            }
            for s in data.steps
        ]
        formset = StepFormSet(prefix="steps", initial=initial, form_kwargs={"members": members})
        status = 200
    return render(
        request, "alerts/policy_edit.html", {"team": team, "form": form, "formset": formset}, status=status
    )
