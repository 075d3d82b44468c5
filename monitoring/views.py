"""One piece: every tablet screen shares the patient decorator, the entry forms and the htmx responses.

The nurse's tablet screens: My patients, the patient page with its entry forms and grade panel,
amend / entered-in-error / attribution.  Clinical logic stays in ``carttrack``; writes go through
``monitoring.services``; reads through ``monitoring.selectors`` (scoped: another team's patient is 404).

htmx: a form posts to ``record`` and gets back its own re-rendered form (fresh with a new client UUID
after a save, or with the errors and everything typed) plus out-of-band swaps of the grade panel,
the checks and the recent observations.  Without JavaScript the same views work as plain POST →
redirect.  Status codes: 422 invalid input, 403 role lacks the capability, 409 conflict.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

import carttrack
from accounts.permissions import can, require
from accounts.zones import in_care_team_zone
from carttrack import units

from . import grading, handoff, schedules, selectors, services
from .forms import FORMS, form_key_for
from .forms.base import ObservationForm
from .forms.review import AttributionForm, MissedCheckForm, ReasonForm
from .forms.vitals import VitalsForm
from .models import CheckType, InfusionStatus, ObservationKind, ObservationSource, ObservationStatus, Patient

POLL_SECONDS = 60


def patient_view(view: Callable) -> Callable:
    """Login required; the patient is found through the scoping selector (404 otherwise), the user
    needs ``patient.view`` for its team, and times are shown and parsed in the care team's zone."""

    @login_required
    @functools.wraps(view)
    def wrapped(request: HttpRequest, patient_id: int, *args, **kwargs) -> HttpResponse:
        patient = selectors.patient_get(user=request.user, patient_id=patient_id)
        require(request.user, "patient.view", patient.care_team_id)
        with timezone.override(ZoneInfo(patient.care_team.time_zone)):
            return view(request, patient, *args, **kwargs)

    return wrapped


def _neuro_form_key(patient: Patient, infusion) -> str:
    """CAPD below 12.0 years at infusion or with developmental delay, else ICE (B-4, ICE-4)."""
    age = patient.age_years_at(infusion.infused_at if infusion else timezone.now())
    settings = grading.settings_for(infusion) if infusion else carttrack.DecisionSettings()
    threshold = settings.capd_below_age_years
    return "capd" if patient.developmental_delay or age < threshold else "ice"


def _entry_keys(request: HttpRequest, patient: Patient, infusion) -> list[str]:
    keys = ["vitals", _neuro_form_key(patient, infusion), "lab", "medication", "event", "clinical_flag"]
    return keys


def _panel_context(request: HttpRequest, patient: Patient, infusion) -> dict:
    now = timezone.now()
    evaluation = selectors.evaluation_latest(infusion=infusion) if infusion else None
    checks = schedules.checks_for_infusions([infusion], now=now).get(infusion.pk, []) if infusion else []
    last_vitals = (
        selectors.last_current_at(infusion=infusion, kind=ObservationKind.VITALS) if infusion else None
    )
    last_neuro = (
        selectors.last_current_at(infusion=infusion, kind=ObservationKind.NEURO) if infusion else None
    )
    team = patient.care_team_id
    return {
        "patient": patient,
        "infusion": infusion,
        "evaluation": evaluation,
        "checks": checks,
        "now": now,
        "last_vitals": last_vitals,
        "vitals_stale": last_vitals is None or now - last_vitals > selectors.VITALS_STALE_AFTER,
        "last_neuro": last_neuro,
        "neuro_stale": last_neuro is None or now - last_neuro > selectors.NEURO_STALE_AFTER,
        "observations": selectors.observations_recent(infusion=infusion) if infusion else [],
        "neuro": selectors.neuro_scores(infusion=infusion) if infusion else None,
        "can_record": can(request.user, "observation.record", team),
        "can_amend": can(request.user, "observation.amend", team),
        "can_attribute": can(request.user, "finding.attribute", team),
        "can_diagnose": can(request.user, "event.record_diagnosis", team),
        "can_record_missed": can(request.user, "check.record_missed", team),
        "active": infusion is not None and infusion.status == InfusionStatus.ACTIVE,
    }


def _with_standing(form: ObservationForm, infusion) -> ObservationForm:
    """The vitals form shows the standing oxygen and vasopressor values (A-14) it leaves unchanged."""
    if isinstance(form, VitalsForm) and infusion is not None:
        form.standing = selectors.standing_values(
            evaluation=selectors.evaluation_latest(infusion=infusion), infusion=infusion, now=timezone.now()
        )
    return form


def _entry_forms(
    request, patient, infusion, bound: ObservationForm | None = None, bound_key: str = ""
) -> list:
    out = []
    for key in _entry_keys(request, patient, infusion):
        form = _with_standing(bound if key == bound_key and bound is not None else FORMS[key](), infusion)
        out.append(
            {
                "key": key,
                "form": form,
                "url": reverse("monitoring:record", args=[patient.pk, key]),
                "open": key == (bound_key or "vitals"),
            }
        )
    return out


MY_PATIENTS_SORT_KEY = "carttrack_my_patients_sort"


@login_required
@require_GET
@in_care_team_zone
def my_patients(request: HttpRequest) -> HttpResponse:
    # Highest risk first, unless the nurse chose another order: a chosen order is kept for this
    # session, so "My patients" in the navigation opens in it again (a refresh keeps the address).
    sort = request.GET.get("sort") or request.session.get(MY_PATIENTS_SORT_KEY, "risk")
    sort = sort if sort in selectors.MY_PATIENTS_SORTS else "risk"
    if "sort" in request.GET and request.session.get(MY_PATIENTS_SORT_KEY) != sort:
        request.session[MY_PATIENTS_SORT_KEY] = sort
    rows = selectors.my_patients(user=request.user, now=timezone.now(), sort=sort)
    context = {
        "rows": rows,
        "poll_seconds": POLL_SECONDS,
        "now": timezone.now(),
        "sort": sort,
        "sorts": selectors.MY_PATIENTS_SORTS,
    }
    if request.htmx and request.GET.get("partial"):
        return render(request, "monitoring/partials/patient_rows.html", context)
    return render(request, "monitoring/my_patients.html", context)


@patient_view
@require_GET
def patient_detail(request: HttpRequest, patient: Patient) -> HttpResponse:
    infusion = selectors.infusion_current(patient=patient)
    context = _panel_context(request, patient, infusion)
    context["entries"] = _entry_forms(request, patient, infusion)
    context["poll_seconds"] = POLL_SECONDS
    return render(request, "monitoring/patient_detail.html", context)


@patient_view
@require_GET
def grade_panel(request: HttpRequest, patient: Patient) -> HttpResponse:
    infusion = selectors.infusion_current(patient=patient)
    return render(request, "monitoring/partials/grade_panel.html", _panel_context(request, patient, infusion))


def _apply_core_error(form: ObservationForm, exc: ValidationError) -> None:
    """Every error of the core beside its field (without the core's "field temp_c:" prefix: the
    field's label says which) or, for the record as a whole, at the top of the form."""
    for field, errors in exc.message_dict.items():
        target = form.form_field_for(field)
        for message in errors:
            if target:
                form.add_error(target, message.removeprefix(f"field {field}: "))
            elif field == "__all__" or message.startswith("field "):
                form.add_error(None, message)
            else:
                form.add_error(None, f"{field.replace('_', ' ')}: {message}")


def _ask_to_confirm(form: ObservationForm, exc: services.UnusualValues) -> None:
    """The service found unusual values (soft limits) and stored nothing: ask the nurse to confirm."""
    form.soft_warnings = [w.message for w in exc.warnings]
    for w in exc.warnings:
        target = form.form_field_for(w.field)
        text = f"Unusual value — please check: {w.message}"
        if w.field == "temp_c" and w.value < 34:
            text += f" ({w.value:g} or {w.value * 10:g}?)"
        form.add_error(target, text)
    form.add_error("confirm_unusual", "Tick to confirm the unusual value, then save again.")


def _convert_temperature(data) -> str:
    """°F typed in the °C field: convert it (or switch the unit) without saving."""
    action = data.get("action")
    try:
        value = float(data.get("temperature", ""))
    except ValueError:
        return ""
    if action == "temp_convert":
        data["temperature"] = f"{units.f_to_c(value):.1f}"
        data["temp_unit"] = "C"
        return f"Converted {value:g} °F to {data['temperature']} °C — check and save."
    if action == "temp_unit_f":
        data["temp_unit"] = "F"
        return f"Unit switched to °F ({value:g} °F = {units.f_to_c(value):.1f} °C) — check and save."
    return ""


def _form_response(
    request, patient, infusion, key, form, *, status: int = 200, notice: str = "", saved=None, evaluation=None
) -> HttpResponse:
    if request.htmx:
        context = _panel_context(request, patient, infusion)
        context.update(
            entry={
                "key": key,
                "form": _with_standing(form, infusion),
                "open": True,
                "url": reverse("monitoring:record", args=[patient.pk, key]),
            },
            notice=notice,
            saved=saved,
            saved_evaluation=evaluation,
            oob=True,
        )
        return render(request, "monitoring/partials/record_response.html", context, status=status)
    if saved is not None:
        messages.success(request, notice)
        return redirect("monitoring:patient_detail", patient_id=patient.pk)
    context = _panel_context(request, patient, infusion)
    context["entries"] = _entry_forms(request, patient, infusion, bound=form, bound_key=key)
    context["notice"] = notice
    return render(request, "monitoring/patient_detail.html", context, status=status)


@patient_view
@require_POST
def record(request: HttpRequest, patient: Patient, form_key: str) -> HttpResponse:
    form_class = FORMS.get(form_key)
    if form_class is None:
        raise Http404("Unknown form")
    infusion = selectors.infusion_current(patient=patient)
    if infusion is None:
        raise Http404("This patient has no infusion record")
    require(request.user, "observation.record", patient.care_team_id)
    data = request.POST.copy()
    notice = _convert_temperature(data) if form_key == "vitals" and data.get("action") else ""
    form = form_class(data)
    if notice:
        return _form_response(request, patient, infusion, form_key, form, status=200, notice=notice)
    if not form.is_valid():
        return _form_response(request, patient, infusion, form_key, form, status=422)
    payload = form.payload()
    observed_at = form.cleaned_data["observed_at"]
    try:
        obs, evaluation, created = services.observation_record(
            infusion=infusion,
            kind=form.KIND,
            payload=payload,
            observed_at=observed_at,
            recorded_by=request.user,
            client_uuid=form.cleaned_data["client_uuid"],
            source=ObservationSource.TABLET,
            unusual_confirmed=bool(form.cleaned_data.get("confirm_unusual")),
        )
    except services.UnusualValues as exc:
        _ask_to_confirm(form, exc)
        return _form_response(request, patient, infusion, form_key, form, status=422)
    except ValidationError as exc:
        _apply_core_error(form, exc)
        return _form_response(request, patient, infusion, form_key, form, status=422)
    except services.ObservationConflict as exc:
        form.add_error(None, exc.message)
        return _form_response(request, patient, infusion, form_key, form, status=409)
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
        return _form_response(request, patient, infusion, form_key, form, status=403)
    notice = f"{form.TITLE} saved at {timezone.localtime(obs.recorded_at):%H:%M %Z}."
    if not created:
        notice = f"{form.TITLE} was already saved (double tap) — stored once."
    return _form_response(
        request, patient, infusion, form_key, form_class(), notice=notice, saved=obs, evaluation=evaluation
    )


def _correction_target(request, patient, observation_id):
    original = selectors.observation_get(
        user=request.user, patient_id=patient.pk, observation_id=observation_id
    )
    require(request.user, "observation.amend", patient.care_team_id)
    return original


def _after_correction(request, patient, notice: str) -> HttpResponse:
    if notice:
        messages.success(request, notice)
    url = reverse("monitoring:patient_detail", args=[patient.pk])
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@patient_view
@require_http_methods(["GET", "POST"])
def amend(request: HttpRequest, patient: Patient, observation_id: int) -> HttpResponse:
    original = _correction_target(request, patient, observation_id)
    key = form_key_for(original.kind, original.payload)
    form_class = FORMS.get(key)
    if form_class is None:
        raise Http404("This kind of observation is corrected through the API")
    status = 200
    if request.method == "POST":
        form = form_class(request.POST)
        reason_form = ReasonForm(request.POST, prefix="correction")
        if form.is_valid() and reason_form.is_valid():
            payload = form.payload()
            observed_at = form.cleaned_data["observed_at"]
            try:
                services.observation_amend(
                    original=original,
                    payload=payload,
                    reason=reason_form.cleaned_data["reason"],
                    user=request.user,
                    observed_at=observed_at,
                    client_uuid=form.cleaned_data["client_uuid"],
                    unusual_confirmed=bool(form.cleaned_data.get("confirm_unusual")),
                )
                return _after_correction(request, patient, f"{form.TITLE} amended.")
            except services.UnusualValues as exc:
                _ask_to_confirm(form, exc)
            except ValidationError as exc:
                _apply_core_error(form, exc)
            except services.ObservationConflict as exc:
                form.add_error(None, exc.message)
                status = 409
        status = status if status != 200 else 422
    else:
        initial = form_class.initial_from_payload(original.payload)
        initial["observed_at"] = timezone.localtime(original.observed_at)
        form = form_class(initial=initial)
        reason_form = ReasonForm(prefix="correction")
    return render(
        request,
        "monitoring/amend.html",
        {
            "patient": patient,
            "original": original,
            "form": form,
            "reason_form": reason_form,
            "form_key": key,
        },
        status=status,
    )


@patient_view
@require_POST
def entered_in_error(request: HttpRequest, patient: Patient, observation_id: int) -> HttpResponse:
    original = _correction_target(request, patient, observation_id)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Entered in error needs a reason — nothing was changed.")
        return redirect("monitoring:patient_detail", patient_id=patient.pk)
    try:
        services.observation_mark_entered_in_error(
            original=original,
            reason=form.cleaned_data["reason"],
            user=request.user,
            client_uuid=form.cleaned_data.get("client_uuid"),
        )
    except services.ObservationConflict as exc:
        messages.error(request, exc.message)
        return render(
            request, "monitoring/conflict.html", {"patient": patient, "message": exc.message}, status=409
        )
    return _after_correction(
        request,
        patient,
        f"{original.get_kind_display()} of "
        f"{timezone.localtime(original.observed_at):%d %b %H:%M} marked entered in error.",
    )


@patient_view
@require_http_methods(["GET", "POST"])
def attribute(request: HttpRequest, patient: Patient, observation_id: int) -> HttpResponse:
    original = _correction_target(request, patient, observation_id)
    require(request.user, "finding.attribute", patient.care_team_id)
    if original.kind != ObservationKind.VITALS or original.status == ObservationStatus.ENTERED_IN_ERROR:
        raise Http404("Only current vitals can be attributed")
    status = 200
    form = AttributionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.observation_amend(
                original=original,
                payload=form.payload(original.payload),
                reason=f"Attributed to {form.cleaned_data['cause']}: {form.cleaned_data['reason']}",
                user=request.user,
                client_uuid=form.cleaned_data["client_uuid"],
            )
            return _after_correction(request, patient, "Attribution recorded; the grade was recalculated.")
        except ValidationError as exc:
            for field, errs in exc.message_dict.items():
                for e in errs:
                    form.add_error(None, f"{field}: {e}")
            status = 422
        except services.ObservationConflict as exc:
            form.add_error(None, exc.message)
            status = 409
    elif request.method == "POST":
        status = 422
    return render(
        request,
        "monitoring/attribute.html",
        {"patient": patient, "original": original, "form": form},
        status=status,
    )


@patient_view
@require_POST
def record_missed_check(request: HttpRequest, patient: Patient, check_type: str) -> HttpResponse:
    """A nurse records why an overdue check was not done, through the one service the inbox uses too
    (``monitoring.handoff``): it refuses a closed course or a check whose reason is already recorded,
    and closes the overdue task and its alert.  Found as every tablet page finds its records: the
    patient through the scoping selector (another team's patient is a 404), then its infusion."""
    if check_type not in CheckType.values:
        raise Http404("Unknown check")
    infusion = selectors.infusion_current(patient=patient)
    if infusion is None:
        raise Http404("This patient has no infusion record")
    require(request.user, "check.record_missed", patient.care_team_id)
    form = MissedCheckForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the check was not done — nothing was recorded.")
        return _after_correction(request, patient, "")
    try:
        handoff.alerting().record_missed_check(
            infusion=infusion,
            check_type=check_type,
            due_at=form.cleaned_data["due_at"],
            reason=form.cleaned_data["reason"],
            user=request.user,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _after_correction(request, patient, "")
    return _after_correction(request, patient, f"{CheckType(check_type).label}: reason recorded.")
