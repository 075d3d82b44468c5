"""Django admin for the monitoring app.

Patients, infusions, observations and grades are scoped to the admin's care teams (superusers see
all).  Observations and grade evaluations are read-only here: clinical facts are append-only and are
corrected on the ward screens or through the API (amend / entered-in-error), never edited in admin.
Decision policies are versioned rows: a change is a new row, validated by the clinical core.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin

import carttrack

from .models import (
    DecisionPolicy,
    GradeEvaluation,
    Infusion,
    MissedCheck,
    MonitoringTemplate,
    Observation,
    Patient,
    Product,
)


class TeamScopedAdmin(admin.ModelAdmin):
    """Limits the change list and lookups to the user's care teams."""

    team_path = "care_team_id"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        teams = request.user.team_ids() if request.user.is_authenticated else []
        return qs.filter(**{f"{self.team_path}__in": teams})


class ReadOnlyAdmin(TeamScopedAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MonitoringTemplate)
class MonitoringTemplateAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "label_version",
        "vitals_interval_hours",
        "neuro_interval_hours",
        "labs_interval_hours",
        "vitals_days",
        "overdue_grace_minutes",
    )


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "target_antigen",
        "tocilizumab_mg_per_kg_under_30kg",
        "high_icans_risk",
        "monitoring_template",
    )
    list_select_related = ("monitoring_template",)


@admin.register(Patient)
class PatientAdmin(TeamScopedAdmin):
    list_display = ("mrn", "family_name", "given_name", "date_of_birth", "indication", "care_team")
    list_filter = ("care_team", "indication")
    search_fields = ("mrn", "family_name", "given_name")
    list_select_related = ("care_team",)

    def has_delete_permission(self, request, obj=None):
        return False  # the record is kept; close the infusion instead


@admin.register(Infusion)
class InfusionAdmin(TeamScopedAdmin):
    list_display = ("patient", "product", "infused_at", "status", "close_reason", "care_team")
    list_filter = ("status", "product", "care_team")
    list_select_related = ("patient", "product", "care_team")
    search_fields = ("patient__mrn", "patient__family_name")
    raw_id_fields = ("patient",)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Observation)
class ObservationAdmin(ReadOnlyAdmin):
    team_path = "infusion__care_team_id"
    list_display = ("observed_at", "infusion", "kind", "status", "recorded_by", "recorded_at", "source")
    list_filter = ("kind", "status", "source")
    list_select_related = ("infusion__patient", "infusion__product", "recorded_by")
    search_fields = ("infusion__patient__mrn", "client_uuid")
    date_hierarchy = "observed_at"


@admin.register(GradeEvaluation)
class GradeEvaluationAdmin(ReadOnlyAdmin):
    team_path = "infusion__care_team_id"
    list_display = (
        "evaluated_at",
        "infusion",
        "crs_grade",
        "crs_max",
        "icans_grade",
        "icans_max",
        "rule_set",
    )
    list_select_related = ("infusion__patient", "infusion__product")
    search_fields = ("infusion__patient__mrn",)


@admin.register(MissedCheck)
class MissedCheckAdmin(ReadOnlyAdmin):
    team_path = "infusion__care_team_id"
    list_display = ("infusion", "check_type", "due_at", "reason", "recorded_by", "recorded_at")
    list_select_related = ("infusion__patient", "infusion__product", "recorded_by")


class DecisionPolicyForm(forms.ModelForm):
    class Meta:
        model = DecisionPolicy
        fields = ("overrides", "note")

    def clean_overrides(self):
        overrides = self.cleaned_data["overrides"] or {}
        if not isinstance(overrides, dict):
            raise forms.ValidationError("Overrides must be a JSON object of setting name → value.")
        known = set(carttrack.DecisionSettings().to_dict())
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise forms.ValidationError(
                f"Unknown settings: {', '.join(unknown)}. Known: {', '.join(sorted(known))}"
            )
        try:
            carttrack.DecisionSettings.from_dict(overrides)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return overrides


@admin.register(DecisionPolicy)
class DecisionPolicyAdmin(admin.ModelAdmin):
    """Versioned: add a new policy row; existing rows explain past grades and stay unchanged."""

    form = DecisionPolicyForm
    list_display = ("created_at", "note", "created_by")

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
