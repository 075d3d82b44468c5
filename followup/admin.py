"""Django admin of the followup app: results and findings are read-only (they come from the clinical
core and the alerting), scoped to the admin's care teams like the monitoring admin."""

from __future__ import annotations

from django.contrib import admin

from monitoring.admin import ReadOnlyAdmin, TeamScopedAdmin

from .models import Finding, FollowupEvaluation, PlannedCourse


@admin.register(FollowupEvaluation)
class FollowupEvaluationAdmin(ReadOnlyAdmin):
    team_path = "infusion__care_team_id"
    list_display = ("evaluated_at", "infusion", "indication_group", "visit_template_version", "rule_set")
    list_select_related = ("infusion__patient", "infusion__product")
    search_fields = ("infusion__patient__mrn",)


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    team_path = "care_team_id"
    list_display = ("first_seen_at", "infusion", "kind", "urgency", "task_status", "text")
    list_filter = ("kind", "urgency", "task_status")
    list_select_related = ("infusion__patient",)
    search_fields = ("infusion__patient__mrn",)


@admin.register(PlannedCourse)
class PlannedCourseAdmin(TeamScopedAdmin):
    list_display = ("patient", "status", "planned_leukapheresis_at", "product")
    list_select_related = ("patient", "product")
