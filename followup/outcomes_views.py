"""The coordinators' outcomes page (OUTCOME-1…OUTCOME-3): DORIS and LLDAS rates at months 3, 6 and 12
with their denominators and the not-assessed count, drug-free remission at 6 and 12 months, time to
B-cell reconstitution and relapse-free survival (Kaplan–Meier with the number at risk), by product,
indication and infusion date range; groups under n = 10 carry a caution.

The cohort is read in a fixed number of queries whatever its size (the courses, then all their
observations); each course is evaluated through the clinical core.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

import carttrack
from accounts.permissions import team_ids_with
from carttrack.followup import outcomes as cohort_outcomes
from monitoring import grading
from monitoring.models import Indication, Infusion, Product
from monitoring.replica import reads_from_replica

from . import course_reading
from .survival import KaplanMeier, kaplan_meier

WIDTH, HEIGHT, PAD = 560, 220, 36
LABEL = "Relapse-free survival, months after infusion"


class OutcomeFilter(forms.Form):
    product = forms.ModelChoiceField(
        queryset=Product.objects.all(), required=False, empty_label="All products"
    )
    indication = forms.ChoiceField(choices=[("", "All indications"), *Indication.choices], required=False)
    infused_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    infused_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


def cohort(*, team_ids: list[int], data: dict, tz: ZoneInfo) -> list[cohort_outcomes.CohortMember]:
    """One member per course of the filtered cohort (two queries for the courses and their rows)."""
    qs = Infusion.objects.filter(care_team_id__in=team_ids).select_related("patient", "product", "care_team")
    if data.get("product"):
        qs = qs.filter(product=data["product"])
    if data.get("indication"):
        qs = qs.filter(patient__indication=data["indication"])
    if data.get("infused_from"):
        qs = qs.filter(infused_at__gte=datetime.combine(data["infused_from"], time.min, tzinfo=tz))
    if data.get("infused_to"):
        qs = qs.filter(infused_at__lte=datetime.combine(data["infused_to"], time.max, tzinfo=tz))
    infusions = list(qs.order_by("infused_at", "id"))
    rows = course_reading.current_rows([i.pk for i in infusions])
    policy_id = grading.latest_policy_id()  # read once for the cohort, not once per course
    members = []
    for infusion in infusions:
        infusion.policy_id = policy_id
        result = carttrack.evaluate_followup(
            carttrack.parse_patient(grading.patient_dict(infusion)),
            course_reading.parsed_observations(infusion, rows[infusion.pk]),
            settings=course_reading.followup_settings(None),
            decision_settings=grading.settings_for(infusion),
        )
        if result is None:
            continue
        follow_up = grading.follow_up_dict(infusion) or {}
        members.append(
            cohort_outcomes.CohortMember(
                patient_id=str(infusion.patient_id),
                result=result,
                followed_to_hours=result.last_hours,
                death_hours=follow_up.get("death_hours"),
            )
        )
    return members


def km_svg(km: KaplanMeier | None) -> SafeString:
    if km is None or not km.steps:
        return mark_safe("")
    x_max = max(24.0, km.steps[-1][0])

    def x(month: float) -> float:
        return PAD + month / x_max * (WIDTH - 2 * PAD)

    def y(p: float) -> float:
        return HEIGHT - PAD - p * (HEIGHT - 2 * PAD)

    path = [f"M{x(0):.1f},{y(1):.1f}"]
    level = 1.0
    for month, p in km.steps:
        path.append(f"H{x(month):.1f}V{y(p):.1f}")
        level = p
    path.append(f"H{x(x_max):.1f}V{y(level):.1f}")
    ticks = "".join(
        f'<text x="{x(m):.1f}" y="{HEIGHT - 18}" font-size="11" text-anchor="middle">{m}</text>'
        for m, _n in km.at_risk
    )
    return mark_safe(  # noqa: S308 - numbers only, the label escaped
        f'<svg class="km" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{LABEL}">'
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>'
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>'
        f'<text x="4" y="{PAD - 10}" font-size="11">relapse-free (100 % at top)</text>'
        f'<path d="{"".join(path)}" fill="none" stroke="#1f5fa8" stroke-width="2"/>{ticks}'
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 4}" font-size="11" text-anchor="middle">'
        "months after infusion</text>"
        "</svg>"
    )


@login_required
@require_GET
@reads_from_replica
def outcomes(request: HttpRequest) -> HttpResponse:
    team_ids = team_ids_with(request.user, "analytics.view")
    if not team_ids:
        raise PermissionDenied("Your role does not allow analytics.view")
    membership = request.user.memberships.select_related("team").first()
    tz = ZoneInfo(membership.team.time_zone if membership else "UTC")  # times shown in the team's zone
    form = OutcomeFilter(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    members = cohort(team_ids=team_ids, data=data, tz=tz)
    times = [cohort_outcomes.relapse_free_survival(m) for m in members]
    km = kaplan_meier(times)
    context = {
        "form": form,
        "n": len(members),
        "caution": len(members) < cohort_outcomes.SMALL_GROUP_N,
        "small_n": cohort_outcomes.SMALL_GROUP_N,
        "rates": cohort_outcomes.landmark_rates(members),
        "reconstitution": cohort_outcomes.reconstitution_summary(members),
        "km": km,
        "km_svg": km_svg(km),
        "now": timezone.now(),
    }
    with timezone.override(tz):
        return render(request, "followup/outcomes.html", context)
