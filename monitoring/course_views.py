"""The coordinator's screens that run a course without the API: the team's patients with their
current course, register a patient, start an infusion (day 0), close its monitoring.

Writes go through the same services as the API (``monitoring.registration``,
``monitoring.services.infusion_close``): the same validation, the same history rows, the same
hand-off to alerting when a course closes. Capability ``patient.manage`` (coordinators, admins):
403 for another role before any lookup; another team's patient is 404.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.form_errors import add_service_errors
from accounts.permissions import capability_required, team_ids_with

from . import registration, selectors, services
from .course_forms import InfusionCloseForm, InfusionStartForm, PatientForm
from .models import InfusionStatus, Patient

CAPABILITY = "patient.manage"


def _manageable_patient(request: HttpRequest, patient_id: int) -> Patient:
    patient = selectors.patient_get(user=request.user, patient_id=patient_id)
    if patient.care_team_id not in team_ids_with(request.user, CAPABILITY):
        raise Http404("No such patient in the care teams you manage")
    return patient


def _zone_label(patient: Patient) -> str:
    zone = ZoneInfo(patient.care_team.time_zone)
    return f"{patient.care_team.time_zone} ({timezone.localtime(timezone=zone).strftime('%Z')})"


@require_GET
@login_required
@capability_required(CAPABILITY)
def course_list(request: HttpRequest) -> HttpResponse:
    rows = selectors.patients_to_manage(user=request.user, team_ids=team_ids_with(request.user, CAPABILITY))
    return render(request, "monitoring/courses.html", {"rows": rows, "active": InfusionStatus.ACTIVE})


@require_http_methods(["GET", "POST"])
@login_required
@capability_required(CAPABILITY)
def patient_register(request: HttpRequest) -> HttpResponse:
    form = PatientForm(request.POST or None, team_ids=team_ids_with(request.user, CAPABILITY))
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in registration.PATIENT_FIELDS}
        try:
            patient = registration.patient_register(
                user=request.user, care_team_id=form.cleaned_data["care_team"].pk, **data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{patient} registered. Record the infusion when it is given.")
            return redirect("monitoring:infusion_start", patient_id=patient.pk)
    status = 422 if form.errors else 200
    return render(request, "monitoring/patient_form.html", {"form": form}, status=status)


def _course_form_view(request: HttpRequest, patient_id: int, *, closing: bool) -> HttpResponse:
    patient = _manageable_patient(request, patient_id)
    zone = ZoneInfo(patient.care_team.time_zone)
    with timezone.override(zone):
        infusion = selectors.infusion_current(patient=patient)
        active = infusion if infusion is not None and infusion.status == InfusionStatus.ACTIVE else None
        form_class = InfusionCloseForm if closing else InfusionStartForm
        form = form_class(request.POST or None, zone_label=_zone_label(patient))
        blocked = ""
        if closing and active is None:
            blocked = "This patient has no active infusion to close."
        elif not closing and active is not None:
            blocked = registration.ACTIVE_INFUSION_TEXT
        elif request.method == "POST" and form.is_valid():
            try:
                if closing:
                    services.infusion_close(
                        infusion=active,
                        closed_at=form.cleaned_data["closed_at"],
                        close_reason=form.cleaned_data["close_reason"],
                        user=request.user,
                    )
                    done = f"Monitoring of {patient} closed."
                else:
                    registration.infusion_start(
                        user=request.user,
                        patient=patient,
                        product=form.cleaned_data["product"],
                        infused_at=form.cleaned_data["infused_at"],
                    )
                    done = f"Infusion recorded: {patient} is on the census from day 0."
            except ValidationError as exc:
                add_service_errors(form, exc)
            except services.ObservationConflict as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, done)
                return redirect("monitoring:patient_detail", patient_id=patient.pk)
        context = {
            "patient": patient,
            "form": form,
            "infusion": infusion,
            "closing": closing,
            "blocked": blocked,
        }
        status = 409 if request.method == "POST" and blocked else 200
        if request.method == "POST" and form.errors:
            status = 422
        return render(request, "monitoring/infusion_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
@capability_required(CAPABILITY)
def infusion_start(request: HttpRequest, patient_id: int) -> HttpResponse:
    return _course_form_view(request, patient_id, closing=False)


@require_http_methods(["GET", "POST"])
@login_required
@capability_required(CAPABILITY)
def infusion_close(request: HttpRequest, patient_id: int) -> HttpResponse:
    return _course_form_view(request, patient_id, closing=True)
