"""DRF serializers of the monitoring API (shapes only: writes go through ``monitoring.services``).

Observation bodies use the case-file vocabulary (CASE-3): ``kind`` plus a ``payload`` with the
fields of that kind, e.g. ``{"kind": "vitals", "payload": {"temp_c": 39.1, "hr": 120}}``.  The
clinical core validates the payload; the serializers only check the envelope.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import CareTeam
from accounts.permissions import team_ids_with

from . import registration
from .models import (
    CloseReason,
    GradeEvaluation,
    Infusion,
    Observation,
    ObservationKind,
    ObservationSource,
    Patient,
    Product,
)

MAX_REASON_LENGTH = 2000


def _checked(rule, value):
    """``value`` after the service's own rule (``monitoring.registration``), its message as this
    field's error, so the API and the screens refuse the same values with the same words."""
    try:
        rule(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError([m for ms in exc.message_dict.values() for m in ms]) from None
    return value


class PatientSerializer(serializers.ModelSerializer):
    indication_category = serializers.CharField(read_only=True)

    class Meta:
        model = Patient
        fields = ["id", *registration.PATIENT_FIELDS, "indication_category", "care_team", "created_at"]
        read_only_fields = ["id", "created_at"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and "care_team" in fields and not fields["care_team"].read_only:
            # Only the teams where the user may manage patients can be chosen: anything else is
            # "does not exist" (400), never a way to move a patient into another team.
            fields["care_team"].queryset = CareTeam.objects.filter(
                pk__in=team_ids_with(request.user, "patient.manage")
            )
        return fields

    def validate_date_of_birth(self, value: date) -> date:
        return _checked(registration.check_date_of_birth, value)


class PatientUpdateSerializer(PatientSerializer):
    """Updates keep the patient in its care team (a transfer is not an edit)."""

    class Meta(PatientSerializer.Meta):
        read_only_fields = ["id", "created_at", "care_team"]


class InfusionSerializer(serializers.ModelSerializer):
    close_reason = serializers.ChoiceField(
        choices=[("", "Not closed"), *CloseReason.choices], read_only=True, help_text="Empty while active"
    )
    day_post_infusion = serializers.SerializerMethodField()

    class Meta:
        model = Infusion
        fields = [
            "id",
            "patient",
            "product",
            "care_team",
            "infused_at",
            "status",
            "closed_at",
            "close_reason",
            "day_post_infusion",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.INT)
    def get_day_post_infusion(self, obj: Infusion) -> int:
        return obj.day_post_infusion()


@extend_schema_field(OpenApiTypes.DATETIME)
class RecordedTimeField(serializers.CharField):
    """An ISO-8601 time kept as sent: the service reads it through the clinical core's one rule
    (``carttrack.parse_timestamp``: with its offset, or a wall time read in the care team's zone)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault(
            "help_text",
            "ISO 8601 with its UTC offset, e.g. 2025-03-01T08:30:00+01:00; without one it is read in "
            "the care team's time zone (a time skipped or repeated by a daylight-saving change is refused)",
        )
        super().__init__(**kwargs)


class InfusionCreateSerializer(serializers.Serializer):
    patient = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    infused_at = RecordedTimeField(
        help_text="ISO 8601 with its UTC offset, e.g. 2025-03-01T08:30:00+01:00; without one it is read in "
        "the patient's care team's time zone (a time skipped or repeated by a daylight-saving change is "
        "refused)"
    )


class InfusionCloseSerializer(serializers.Serializer):
    close_reason = serializers.ChoiceField(choices=CloseReason.choices)
    closed_at = RecordedTimeField(
        required=False, help_text="Defaults to now; without offset: the team's zone"
    )


class GradeSummarySerializer(serializers.ModelSerializer):
    """The grade a new observation produced (returned with the observation)."""

    class Meta:
        model = GradeEvaluation
        fields = [
            "id",
            "evaluated_at",
            "crs_grade",
            "crs_max",
            "icans_grade",
            "icans_max",
            "icans_incomplete",
            "sepsis_alert",
            "rule_set",
            "decision_policy",
            "policy_recorded",
        ]
        read_only_fields = fields


class ObservationSerializer(serializers.ModelSerializer):
    superseded_by = serializers.SerializerMethodField()
    grade = serializers.SerializerMethodField()

    class Meta:
        model = Observation
        fields = [
            "id",
            "client_uuid",
            "infusion",
            "kind",
            "payload",
            "observed_at",
            "recorded_at",
            "recorded_by",
            "status",
            "supersedes",
            "superseded_by",
            "reason",
            "source",
            "grade",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_superseded_by(self, obj: Observation) -> int | None:
        if obj.pk in self.context.get("new_rows", ()):
            return None
        try:
            return obj.superseded_by.pk
        except Observation.superseded_by.RelatedObjectDoesNotExist:
            return None

    @extend_schema_field(GradeSummarySerializer(allow_null=True))
    def get_grade(self, obj: Observation):
        """The evaluation this observation triggered (only on write responses)."""
        evaluation = self.context.get("evaluations", {}).get(obj.pk)
        return GradeSummarySerializer(evaluation).data if evaluation is not None else None


#: Formats datetimes exactly as the serializers' DateTimeFields do (ISO 8601, server time zone, "Z").
_DATETIME = serializers.DateTimeField()
_UUID = serializers.UUIDField()
_GRADE_SUMMARY_FIELDS = tuple(GradeSummarySerializer.Meta.fields)


def _datetime(value):
    return None if value is None else _DATETIME.to_representation(value)


def new_observation_data(obs: Observation, evaluation: GradeEvaluation | None) -> dict:
    """:class:`ObservationSerializer`'s representation of a row that was just inserted (nothing
    supersedes it yet), with the grade it produced, built without DRF constructing a dozen field
    objects per response: the observation POST answers with this.  ``tests/api`` checks that it is
    identical to the serializer's output."""
    grade = None
    if evaluation is not None:
        grade = {name: getattr(evaluation, name) for name in _GRADE_SUMMARY_FIELDS}
        grade["evaluated_at"] = _datetime(evaluation.evaluated_at)
    return {
        "id": obs.pk,
        "client_uuid": _UUID.to_representation(obs.client_uuid),
        "infusion": obs.infusion_id,
        "kind": obs.kind,
        "payload": obs.payload,
        "observed_at": _datetime(obs.observed_at),
        "recorded_at": _datetime(obs.recorded_at),
        "recorded_by": obs.recorded_by_id,
        "status": obs.status,
        "supersedes": obs.supersedes_id,
        "superseded_by": None,
        "reason": obs.reason,
        "source": obs.source,
        "grade": grade,
    }


class ObservationCreateSerializer(serializers.Serializer):
    client_uuid = serializers.UUIDField(
        help_text="Idempotency key: a retry with the same key stores nothing new"
    )
    infusion = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    kind = serializers.ChoiceField(choices=ObservationKind.choices)
    observed_at = RecordedTimeField()
    payload = serializers.DictField(
        help_text="The fields of this kind of observation, as in the case-file format (CASE-3)"
    )
    source = serializers.ChoiceField(
        choices=[(ObservationSource.API, "API"), (ObservationSource.DEVICE, "Device/EHR interface")],
        default=ObservationSource.API,
    )

    def validate_payload(self, value: dict) -> dict:
        for reserved, instead in (("kind", "kind"), ("t_hours", "observed_at")):
            if reserved in value:
                raise serializers.ValidationError(f"'{reserved}' is not part of the payload: send {instead}.")
        return value


class ObservationAmendSerializer(serializers.Serializer):
    payload = serializers.DictField(help_text="The corrected fields (the whole observation, not a patch)")
    observed_at = RecordedTimeField(required=False, help_text="Defaults to the original time")
    reason = serializers.CharField(max_length=MAX_REASON_LENGTH, help_text="Why it is corrected")

    validate_payload = ObservationCreateSerializer.validate_payload


class ObservationEnteredInErrorSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=MAX_REASON_LENGTH, help_text="Why it was entered in error")


class GradeEvaluationSerializer(serializers.ModelSerializer):
    class Meta:
        model = GradeEvaluation
        fields = [
            "id",
            "infusion",
            "triggered_by",
            "evaluated_at",
            "crs_grade",
            "crs_max",
            "icans_grade",
            "icans_max",
            "icans_incomplete",
            "icaht_early",
            "icaht_early_provisional",
            "icaht_late",
            "sepsis_alert",
            "iec_hs_screen_positive",
            "licats_screen_positive",
            "drivers",
            "suggestions",
            "withheld",
            "computed",
            "rule_set",
            "decision_policy",
            "policy_recorded",
            "settings",
            "observation_count",
        ]
        read_only_fields = fields


class ErrorSerializer(serializers.Serializer):
    """An error: ``detail`` for request-level errors, otherwise ``{field: [messages]}``."""

    detail = serializers.CharField(required=False)
