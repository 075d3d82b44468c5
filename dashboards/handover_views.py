"""The printable shift handover (``dashboards.handover``): one care team per page, the team's zone
on every time. Reading it reads every listed patient's record, so each is written to the access log
(as the census export does)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.permissions import capability_required
from audit.middleware import record_accesses

from .handover import CAPABILITY, handover_for, handover_teams


@require_GET
@login_required
@capability_required(CAPABILITY)
def handover_index(request):
    teams = handover_teams(request.user)
    if not teams:
        raise Http404("No care team")
    return redirect("dashboards:handover_team", team_id=teams[0].pk)


@require_GET
@login_required
@capability_required(CAPABILITY)
def handover(request, team_id: int):
    sheet = handover_for(user=request.user, team_id=team_id)
    record_accesses(request, [row.census.patient_id for row in sheet.rows])
    with timezone.override(sheet.zone):
        context = {"sheet": sheet, "teams": handover_teams(request.user)}
        response = render(request, "dashboards/handover.html", context)
    response["Cache-Control"] = "no-store"
    return response
