"""The coordinator's registry screen (REG-3): which reports are due, done and checked; one report
per course and period with the observations behind each value; the cohort CSV per registry."""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import capability_required, team_ids_with
from audit.middleware import record_accesses
from monitoring.models import Infusion

from . import registry, services
from .models import Registry, ReportState

CAPABILITY = "export.csv"


def _infusions(user):
    return Infusion.objects.filter(care_team_id__in=team_ids_with(user, CAPABILITY)).select_related(
        "patient", "product", "care_team"
    )


def _infusion(user, infusion_id: int) -> Infusion:
    found = _infusions(user).filter(pk=infusion_id).first()
    if found is None:
        raise Http404("No such course in your care teams.")
    return found


@require_GET
@login_required
@capability_required(CAPABILITY)
def overview(request):
    rows = [
        {
            "infusion": infusion,
            "registry": name,
            "registry_label": Registry(name).label,
            "period": period,
            "state": state,
            "state_label": ReportState(state).label,
            "zone": infusion.care_team.time_zone,
        }
        for infusion, name, period, state in registry.due(
            _infusions(request.user).order_by("infused_at"), now=timezone.now()
        )
    ]
    counts = [(label, sum(1 for r in rows if r["state"] == value)) for value, label in ReportState.choices]
    return render(
        request,
        "interop/registry_overview.html",
        {"rows": rows, "counts": counts, "states": ReportState.choices, "registries": Registry.choices},
    )


@require_GET
@login_required
@capability_required(CAPABILITY)
def report(request, infusion_id: int):
    infusion = _infusion(request.user, infusion_id)
    name = request.GET.get("registry", Registry.CIBMTR)
    if name not in Registry.values:
        raise Http404("Unknown registry.")
    periods = registry.PERIODS[name](infusion)
    period = next((p for p in periods if p.key == request.GET.get("period", "day-100")), None)
    if period is None:
        raise Http404("Unknown period.")
    built = registry.build(infusion, name, period)
    record_accesses(request, [infusion.patient_id])
    evidence = sorted(built.evidence.values(), key=lambda o: (o.observed_at, o.pk))
    return render(
        request,
        "interop/registry_report.html",
        {
            "report": built,
            "registry_label": Registry(name).label,
            "evidence": evidence,
            "zone": infusion.care_team.time_zone,
            "states": ReportState.choices,
        },
    )


@require_POST
@login_required
@capability_required(CAPABILITY)
def mark(request, infusion_id: int):
    infusion = _infusion(request.user, infusion_id)
    try:
        row = services.registry_report_mark(
            infusion=infusion,
            registry_name=request.POST.get("registry", ""),
            period_key=request.POST.get("period", ""),
            state=request.POST.get("state", ""),
            user=request.user,
        )
    except ValidationError as exc:
        return HttpResponse("; ".join(exc.messages), status=400, content_type="text/plain; charset=utf-8")
    period = next(p for p in registry.PERIODS[row.registry](infusion) if p.key == row.period)
    messages.success(
        request,
        f"{row.get_registry_display()}, {period.label}, {infusion.patient.family_name}: "
        f"{row.get_state_display()}",
    )
    return redirect("interop:registry")


@require_GET
@login_required
@capability_required(CAPABILITY)
def cohort_csv(request, registry_name: str):
    if registry_name not in Registry.values:
        raise Http404("Unknown registry.")
    infusions = list(_infusions(request.user).order_by("infused_at"))
    now = timezone.now()
    rows = registry.cohort_rows(infusions=infusions, registry=registry_name, now=now)
    record_accesses(request, [i.patient_id for i in infusions])
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows(rows)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{registry_name}-{now:%Y%m%d-%H%M}.csv"'
    response["Cache-Control"] = "no-store"
    return response
