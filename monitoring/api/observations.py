"""Observations: list and read within the caller's care teams; record (idempotent by
``client_uuid``), amend and mark entered in error through ``monitoring.services``, answering with the
observation and the grade it produced."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import services
from ..models import GradeEvaluation, Infusion, Observation, ObservationKind, ObservationStatus
from ..serializers import (
    ObservationAmendSerializer,
    ObservationCreateSerializer,
    ObservationEnteredInErrorSerializer,
    ObservationSerializer,
    new_observation_data,
)
from .access import ApiViewSetMixin
from .errors import CONFLICT, ERRORS
from .inputs import ID_PATTERN, check_payload_values, choice_query_param, int_query_param


def observation_response(
    observation: Observation, evaluation: GradeEvaluation | None, code: int, *, new: bool = False
) -> Response:
    """``new``: the row was just inserted, so nothing supersedes it yet (saves a query), and its
    representation is built directly (:func:`~monitoring.serializers.new_observation_data`)."""
    if new:
        return Response(new_observation_data(observation, evaluation), status=code)
    context = {"evaluations": {observation.pk: evaluation}, "new_rows": set()}
    return Response(ObservationSerializer(observation, context=context).data, status=code)


def first_evaluation_of(observation: Observation) -> GradeEvaluation | None:
    """The evaluation that recording ``observation`` produced (for an idempotent replay)."""
    return GradeEvaluation.objects.filter(triggered_by=observation).order_by("evaluated_at", "id").first()


@extend_schema_view(
    list=extend_schema(
        summary="Observations of my care teams (filter by infusion), with status and corrections",
        parameters=[
            OpenApiParameter("infusion", OpenApiTypes.INT, description="Only this infusion's observations"),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=ObservationKind.values),
            OpenApiParameter("status", OpenApiTypes.STR, enum=ObservationStatus.values),
        ],
        responses={200: ObservationSerializer(many=True), 400: ERRORS[400]},
    ),
    retrieve=extend_schema(summary="One observation", responses={200: ObservationSerializer, **ERRORS}),
)
class ObservationViewSet(
    ApiViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = ObservationSerializer
    lookup_value_regex = ID_PATTERN
    capabilities = {
        "create": "observation.record",
        "amend": "observation.amend",
        "entered_in_error": "observation.amend",
    }
    read_scope = "observations:read"
    scopes = {
        "create": "observations:write",
        "amend": "observations:write",
        "entered_in_error": "observations:write",
    }

    def get_queryset(self):
        qs = self.limit_to_token_team(
            Observation.objects.visible_to(self.request.user), "infusion__care_team_id"
        ).select_related("superseded_by")
        if self.action == "list":
            infusion_id = int_query_param(self.request, "infusion")
            if infusion_id is not None:
                qs = qs.filter(infusion_id=infusion_id)
            kind = choice_query_param(self.request, "kind", ObservationKind.choices)
            if kind:
                qs = qs.filter(kind=kind)
            status_ = choice_query_param(self.request, "status", ObservationStatus.choices)
            if status_:
                qs = qs.filter(status=status_)
        return qs.order_by("observed_at", "id")

    @extend_schema(
        summary="Record an observation (idempotent by client_uuid)",
        description=(
            "First POST stores the observation, grades the infusion and answers 201 with the "
            "observation and its grade. A replay with the same `client_uuid` and body answers 200 "
            "with the same body and stores nothing; the same `client_uuid` with a different body "
            "answers 409. Invalid values answer 400 naming the field and the allowed range."
        ),
        request=ObservationCreateSerializer,
        responses={
            201: ObservationSerializer,
            200: OpenApiResponse(
                ObservationSerializer, description="Replay of an already stored observation"
            ),
            **ERRORS,
            **CONFLICT,
        },
    )
    def create(self, request, *args, **kwargs):
        serializer = ObservationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        check_payload_values(data["payload"])
        # The service finds the infusion among those visible to the caller (else 400 "no such
        # infusion"), checks observation.record (and the physician-only events) in the infusion's
        # team and raises PermissionDenied (403); no second check here.
        observation, evaluation, created = services.observation_record(
            infusion=data["infusion"],
            within=services.InfusionScope.for_user(request.user, infusion_teams=self.token_team_ids()),
            kind=data["kind"],
            payload=data["payload"],
            observed_at=data["observed_at"],
            recorded_by=request.user,
            client_uuid=data["client_uuid"],
            source=data["source"],
        )
        if not created:
            evaluation = first_evaluation_of(observation)
        return observation_response(
            observation, evaluation, status.HTTP_201_CREATED if created else status.HTTP_200_OK, new=created
        )

    @extend_schema(
        summary="Amend an observation: stores a corrected row that supersedes it",
        request=ObservationAmendSerializer,
        responses={201: ObservationSerializer, **ERRORS, **CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def amend(self, request, pk=None):
        original = self.get_correctable()
        serializer = ObservationAmendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        check_payload_values(data["payload"])
        kwargs = {"observed_at": data["observed_at"]} if "observed_at" in data else {}
        observation, evaluation = services.observation_amend(
            original=original, payload=data["payload"], reason=data["reason"], user=request.user, **kwargs
        )
        return observation_response(observation, evaluation, status.HTTP_201_CREATED, new=True)

    @extend_schema(
        summary="Mark an observation entered in error (kept, but no longer graded)",
        request=ObservationEnteredInErrorSerializer,
        responses={201: ObservationSerializer, **ERRORS, **CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path="entered-in-error")
    def entered_in_error(self, request, pk=None):
        original = self.get_correctable()
        serializer = ObservationEnteredInErrorSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        observation, evaluation = services.observation_mark_entered_in_error(
            original=original, reason=serializer.validated_data["reason"], user=request.user
        )
        return observation_response(observation, evaluation, status.HTTP_201_CREATED, new=True)

    def get_correctable(self) -> Observation:
        original = self.get_object()
        infusion = Infusion.objects.select_related("patient", "product", "care_team").get(
            pk=original.infusion_id
        )
        original.infusion = infusion
        self.require("observation.amend", infusion.care_team_id)
        return original
