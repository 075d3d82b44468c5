"""DRF serializers of the alerts API (shapes only: writes go through ``alerts.services``)."""

from __future__ import annotations

from rest_framework import serializers

from .models import Alert, AlertEvent, EventKind


class AlertEventSerializer(serializers.ModelSerializer):
    event = serializers.ChoiceField(choices=EventKind.choices, source="kind", read_only=True)

    class Meta:
        model = AlertEvent
        fields = ["id", "at", "event", "user", "text"]
        read_only_fields = fields


class AlertSerializer(serializers.ModelSerializer):
    title = serializers.CharField(read_only=True, help_text="e.g. 'CRS grade 3'")
    events = AlertEventSerializer(many=True, read_only=True, help_text="Timeline: opened, notified, acks ...")

    class Meta:
        model = Alert
        fields = [
            "id",
            "title",
            "patient",
            "infusion",
            "care_team",
            "syndrome",
            "grade",
            "current_grade",
            "urgency",
            "status",
            "evaluation",
            "summary",
            "drivers",
            "suggestions",
            "rule_set",
            "opened_at",
            "first_notified_at",
            "acknowledged_at",
            "acknowledged_by",
            "resolved_at",
            "resolved_by",
            "last_action_at",
            "events",
        ]
        read_only_fields = fields


class AlertAcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class AlertResolveSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, help_text="What was done (kept with the alert)")


class AlertNoteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000, help_text="What was done, ordered or decided")
