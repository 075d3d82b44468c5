"""API representation of follow-up results: one course's latest stored result (CASE-8 fields plus
visits, findings, relapses and the settings that produced it)."""

from __future__ import annotations

from rest_framework import serializers

from .models import Finding, FollowupEvaluation


class FollowupFindingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Finding
        fields = ["id", "kind", "urgency", "recipient", "subject", "text", "t_hours", "task_status", "alert"]
        read_only_fields = fields


class FollowupResultSerializer(serializers.ModelSerializer):
    patient = serializers.IntegerField(source="infusion.patient_id", read_only=True)
    course = serializers.IntegerField(
        source="infusion_id", read_only=True, help_text="The infusion (course) id"
    )
    result = serializers.JSONField(
        read_only=True, help_text="The clinical core's follow-up result (case-file followup object and more)"
    )

    class Meta:
        model = FollowupEvaluation
        fields = [
            "id",
            "patient",
            "course",
            "evaluated_at",
            "rule_set",
            "visit_template_version",
            "indication_group",
            "observation_count",
            "result",
        ]
        read_only_fields = fields
