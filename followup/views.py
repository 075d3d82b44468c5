"""Follow-up screens: the patient's follow-up page (every course, remission status, renal response,
serology, B cells, the visit schedule, trajectories), the visit form per disease, the planned
course's eligibility work-up and washout checklist, the coordinators' task list and the outcomes.

Clinical logic stays in ``carttrack.followup``; writes go through ``monitoring.services`` (the same
observation path as the ward tablets) and ``followup.services``. Times are shown in the care team's
zone with the zone named (``monitoring.views.patient_view`` sets it). Status codes: 422 invalid input,
403 role lacks the capability.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.form_errors import add_service_errors
from accounts.permissions import can, require
from accounts.zones import in_care_team_zone
from carttrack.followup.groups import LUPUS_GROUPS
from carttrack.followup.visits import Record, VisitState
from monitoring import services as observation_services
from monitoring.models import InfusionStatus, ObservationSource, Patient
from monitoring.views import patient_view

from . import charts, course_reading, course_start, licats, planning, selectors, services
from .forms import VisitForm
from .models import Finding


@patient_view
@require_GET
def patient_followup(request: HttpRequest, patient: Patient) -> HttpResponse:
    now = timezone.now()
    course_id = request.GET.get("course")
    courses, course = selectors.course_view(
        patient=patient, infusion_id=int(course_id) if course_id and course_id.isdigit() else None, now=now
    )
    lines = selectors.trajectories(patient=patient, courses=courses) if courses else []
    context = {
        "patient": patient,
        "courses": courses,
        "course": course,
        "result": course.result if course else None,
        "trajectories": [(t, charts.svg(t)) for t in lines],
        "planned": selectors.planned_course(patient=patient),
        "now": now,
        "can_record": can(request.user, "observation.record", patient.care_team_id),
        "can_manage": can(request.user, "patient.manage", patient.care_team_id),
        "can_mark_licats": can(request.user, "finding.attribute", patient.care_team_id),
        "states": VisitState,
        "lupus": course is not None and course.group in LUPUS_GROUPS,
    }
    return render(request, "followup/patient.html", context)


def _course_or_404(patient: Patient, infusion_id: int):
    infusion = next((c for c in selectors.courses_of(patient) if c.pk == infusion_id), None)
    if infusion is None:
        raise Http404("No such course")
    return infusion


def _current_regimen(infusion) -> list[dict]:
    rows = course_reading.current_rows([infusion.pk])[infusion.pk]
    regimens = [payload for _id, _inf, kind, payload, _at in rows if kind == "medication_status"]
    return list(regimens[-1].get("drugs") or []) if regimens else []


@patient_view
@require_http_methods(["GET", "POST"])
def visit_record(request: HttpRequest, patient: Patient, infusion_id: int) -> HttpResponse:
    """The follow-up visit form of one course; saving records each part as one observation."""
    infusion = _course_or_404(patient, infusion_id)
    require(request.user, "observation.record", patient.care_team_id)
    group = selectors.group_of(infusion)
    regimen = _current_regimen(infusion)
    status = 200
    if request.method == "POST":
        form = VisitForm(request.POST, group=group, regimen=regimen)
        if form.is_valid() and _record_visit(request, form, infusion):
            messages.success(request, "Follow-up visit saved.")
            return redirect(f"{reverse('followup:patient', args=[patient.pk])}?course={infusion.pk}")
        status = 422
    else:
        form = VisitForm(
            group=group,
            regimen=regimen,
            initial={"observed_at": timezone.localtime(timezone.now()).strftime("%Y-%m-%dT%H:%M")},
        )
    context = {
        "patient": patient,
        "infusion": infusion,
        "form": form,
        "group": group,
        "lupus": group in LUPUS_GROUPS,
        "records": Record,
        "closed": infusion.status != InfusionStatus.ACTIVE,
    }
    return render(request, "followup/visit_form.html", context, status=status)


#: Errors about the visit as a whole (its time, its course), not about one part's payload.
ENVELOPE_FIELDS = frozenset({"observed_at", "infusion", "kind", "payload", NON_FIELD_ERRORS})


def _record_visit(request: HttpRequest, form: VisitForm, infusion) -> bool:
    """Record every part of the visit as one observation each, in one transaction (all or none):
    each payload is parsed once, by the observation service, and a refused part is named in its
    message. A resubmitted visit (same form UUID) stores nothing twice."""
    observed_at: datetime = form.cleaned_data["observed_at"]
    parts = form.payloads()
    if not parts:
        form.add_error(
            None, "Nothing to save: record the disease assessment, the medications or a lab value."
        )
        return False
    writes = [
        observation_services.ObservationWrite(
            infusion_id=infusion.pk,
            kind=kind,
            payload=payload,
            observed_at=observed_at,
            client_uuid=form.part_uuid(kind),
        )
        for kind, payload in parts
    ]
    try:
        observation_services.observations_write_all(
            writes=writes, user=request.user, source=ObservationSource.TABLET
        )
    except observation_services.WriteFailed as failed:
        error = failed.error
        if isinstance(error, PermissionDenied):
            raise error from failed
        if isinstance(error, observation_services.ObservationConflict):
            form.add_error(None, error.message)
            return False
        kind = parts[failed.index][0] if failed.index is not None else ""
        by_field = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
        for field, errors in by_field.items():
            for message in errors:
                if field in ENVELOPE_FIELDS:
                    form.add_error(None, message if field == NON_FIELD_ERRORS else f"{field}: {message}")
                elif kind == "medication" and field == "dose_mg":  # the one medication: IVIG, typed in g
                    grams = form.cleaned_data["ivig_g"]
                    form.add_error("ivig_g", f"{grams:g} g is {grams * 1000:g} mg: {message}")
                else:
                    form.add_error(None, f"{kind.replace('_', ' ')} — {field}: {message}")
        return False
    return True


@patient_view
@require_http_methods(["GET", "POST"])
def licats_mark(
    request: HttpRequest, patient: Patient, infusion_id: int, observation_id: int
) -> HttpResponse:
    """The physician marks descriptors of a recorded SLEDAI-2K visit as part of a LICATS episode
    (D-5): a correction of that observation, with the physician's name and reason."""
    infusion = _course_or_404(patient, infusion_id)
    if not can(request.user, "finding.attribute", patient.care_team_id):
        reason = observation_services.LICATS_PHYSICIAN_ONLY  # the API's refusal too (D-5)
        return render(request, "403.html", {"reason": reason}, status=403)
    rows = course_reading.current_rows([infusion.pk])[infusion.pk]
    visits = licats.sledai_visits(infusion, course_reading.parsed_observations(infusion, rows))
    visit = next((v for v in visits if v.observation_id == observation_id), None)
    if visit is None:
        raise Http404("No current SLEDAI-2K visit with a descriptor present")
    form = licats.LicatsForm(request.POST or None, visit=visit)
    if request.method == "POST" and form.is_valid():
        original = infusion.observations.get(pk=observation_id)
        try:
            observation_services.observation_amend(
                original=original,
                payload=form.payload(original),
                reason=form.correction_reason(),
                user=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except observation_services.ObservationConflict as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "LICATS episode recorded; the follow-up result was recalculated.")
            return redirect(f"{reverse('followup:patient', args=[patient.pk])}?course={infusion.pk}")
    context = {"patient": patient, "infusion": infusion, "visit": visit, "form": form}
    return render(request, "followup/licats.html", context, status=422 if form.errors else 200)


@patient_view
@require_http_methods(["GET", "POST"])
def planned_course(request: HttpRequest, patient: Patient) -> HttpResponse:
    """A planned course: the eligibility work-up and the pre-leukapheresis washout checklist."""
    plan = selectors.planned_course(patient=patient)
    status = 200
    form = planning.PlanForm(request.POST or None, plan=plan)
    if request.method == "POST":
        require(request.user, "patient.manage", patient.care_team_id)
        if form.is_valid():
            planning.plan_save(patient=patient, data=form.cleaned_data, plan=plan)
            messages.success(request, "Planned course saved.")
            return redirect("followup:planned_course", patient_id=patient.pk)
        status = 422
    context = {
        "patient": patient,
        "plan": plan,
        "form": form,
        "status": planning.plan_status(plan, patient) if plan else None,
        "can_manage": can(request.user, "patient.manage", patient.care_team_id),
    }
    return render(request, "followup/planned_course.html", context, status=status)


@patient_view
@require_http_methods(["GET", "POST"])
def planned_course_start(request: HttpRequest, patient: Patient) -> HttpResponse:
    """Start the infusion of the planned course (ELIG-5): refused while items are missing, unless
    the treating physician's override is recorded."""
    require(request.user, "patient.manage", patient.care_team_id)
    plan = selectors.planned_course(patient=patient)
    if plan is None:
        raise Http404("This patient has no planned course to start")
    missing = course_start.missing_items(plan)
    zone_label = f"{patient.care_team.time_zone} ({timezone.localtime().strftime('%Z')})"
    form = course_start.PlannedStartForm(
        request.POST or None, plan=plan, missing=missing, zone_label=zone_label
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            course_start.planned_course_start(
                user=request.user,
                plan=plan,
                product=data["product"],
                dose=data["dose"],
                dose_unit=data["dose_unit"],
                infused_at=data["infused_at"],
                given_by=data["given_by"],
                override_by=data.get("override_by"),
                override_reason=data.get("override_reason") or "",
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except observation_services.ObservationConflict as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Infusion recorded: {patient} is on the census from day 0.")
            return redirect("monitoring:patient_detail", patient_id=patient.pk)
    context = {"patient": patient, "plan": plan, "form": form, "missing": missing}
    return render(request, "followup/course_start.html", context, status=422 if form.errors else 200)


@login_required
@require_GET
@in_care_team_zone
def task_list(request: HttpRequest) -> HttpResponse:
    context = {
        "tasks": selectors.open_tasks(user=request.user),
        "followed": selectors.followed_courses(user=request.user),
        "planned": selectors.planned_courses(user=request.user),
        "now": timezone.now(),
    }
    return render(request, "followup/tasks.html", context)


@login_required
@require_POST
def task_done(request: HttpRequest, finding_id: int) -> HttpResponse:
    finding = get_object_or_404(
        Finding.objects.filter(infusion__patient__in=Patient.objects.visible_to(request.user)), pk=finding_id
    )
    services.task_close(finding=finding, user=request.user)
    messages.success(request, "Task closed.")
    return redirect("followup:tasks")
