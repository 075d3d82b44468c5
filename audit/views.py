"""The audit view (capability ``audit.view``): access log, a patient's trail, an observation's chain.

Times are shown as on every other screen: the access log (across the auditor's teams) in the
auditor's care-team zone, a patient's trail and an observation's chain in that patient's team zone,
each with the zone's abbreviation; the ``datetime`` attribute of each ``<time>`` keeps the ISO time
with its offset for whoever copies it.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.permissions import capability_required
from accounts.zones import in_care_team_zone
from monitoring.models import Patient

from . import selectors


class AccessLogFilter(forms.Form):
    username = forms.CharField(label="User (username)", required=False, max_length=150)
    patient = forms.ModelChoiceField(label="Patient", queryset=Patient.objects.none(), required=False)
    date_from = forms.DateField(
        label="From (date)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To (date, inclusive)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = Patient.objects.filter(
            care_team_id__in=selectors.audit_team_ids(user)
        )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError("‘From’ must be on or before ‘To’.")
        return data


@require_GET
@login_required
@capability_required("audit.view")
@in_care_team_zone
def access_log(request):
    form = AccessLogFilter(request.GET or None, user=request.user)
    entries = selectors.access_log(request.user).none()
    if not request.GET or form.is_valid():
        data = form.cleaned_data if request.GET else {}
        patient = data.get("patient")
        entries = selectors.access_log(
            request.user,
            username=data.get("username", ""),
            patient_id=patient.pk if patient else None,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        ).select_related("patient")
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/access_log.html",
        {"form": form, "page": page, "query": query.urlencode()},
        status=400 if request.GET and form.errors else 200,
    )


@require_GET
@login_required
def patient_audit(request, patient_id: int):
    patient = selectors.auditable_patient(request.user, patient_id)
    with timezone.override(ZoneInfo(patient.care_team.time_zone)):
        return render(
            request,
            "audit/patient.html",
            {
                "patient": patient,
                "accesses": selectors.access_log(request.user, patient_id=patient.pk)[:200],
                "changes": selectors.patient_change_history(patient),
                "chains": selectors.amended_observations(patient),
            },
        )


@require_GET
@login_required
def observation_audit(request, observation_id: int):
    chain = selectors.observation_history(request.user, observation_id)
    patient = chain[0].infusion.patient
    with timezone.override(ZoneInfo(patient.care_team.time_zone)):
        return render(
            request,
            "audit/observation.html",
            {"chain": chain, "patient": patient, "focus_id": observation_id},
        )
