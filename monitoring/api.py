"""REST API of the monitoring app: patients, infusions, observations and grades.

Every query is scoped through ``Patient.objects.visible_to(user)`` (or the infusion/observation
equivalents): another team's record answers 404.  Capabilities come from
``accounts.permissions`` (403 when the role lacks one).  Clinical writes go through
``monitoring.services``; the API only translates HTTP to service calls and errors to status codes:
400 for invalid input (``{"field": ["message naming the allowed range"]}``), 404 for records the
user cannot see, 403 for a missing capability, 409 for a conflict (same idempotency key with a
different body, or a correction that lost the race).  Nothing here answers 500 on bad input.
"""

from __future__ import annotations

import functools
import math
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.models import ApiToken
from accounts.permissions import HasCapability, HasScope, api_team_ids, can
from accounts.tokens import ApiTokenAuthentication

from . import registration, services
from .models import (
    GradeEvaluation,
    Infusion,
    InfusionStatus,
    Observation,
    ObservationKind,
    ObservationStatus,
    Patient,
)
from .serializers import (
    ErrorSerializer,
    GradeEvaluationSerializer,
    InfusionCloseSerializer,
    InfusionCreateSerializer,
    InfusionSerializer,
    ObservationAmendSerializer,
    ObservationCreateSerializer,
    ObservationEnteredInErrorSerializer,
    ObservationSerializer,
    PatientSerializer,
    PatientUpdateSerializer,
    new_observation_data,
)

MAX_ID = 2**63 - 1
CLOCK_SKEW = timedelta(minutes=5)
ID_PATTERN = r"[0-9]{1,18}"


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Documents the integration tokens (``Authorization: Bearer ctk_…``) in the OpenAPI schema."""

    target_class = "accounts.tokens.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "Integration token with scopes"}


# --- errors ----------------------------------------------------------------------------------------


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the record."
    default_code = "conflict"


def validation_error_body(error: DjangoValidationError) -> dict[str, list[str]]:
    """``{"field": ["message"]}`` from a Django ValidationError (``non_field_errors`` if unkeyed)."""
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(m) for m in messages]
            for field, messages in error.message_dict.items()
        }
    return {"non_field_errors": [str(m) for m in error.messages]}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus Django ValidationError → 400 and a lost uniqueness race → 409."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(validation_error_body(exc))
    elif isinstance(exc, services.ObservationConflict):
        exc = Conflict(str(exc))
    elif isinstance(exc, IntegrityError):
        exc = Conflict("The record changed at the same time; reload it and try again.")
    return drf_exception_handler(exc, context)


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, plus: JSON nested deeper than Python can parse is a 400, not a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply") from None


ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input: field → messages"),
    403: OpenApiResponse(ErrorSerializer, description="Your role does not allow this"),
    404: OpenApiResponse(ErrorSerializer, description="Not found (or not one of your teams' patients)"),
}
CONFLICT = {409: OpenApiResponse(ErrorSerializer, description="Conflict")}


class ApiViewSetMixin:
    """Shared behaviour: our error mapping, the capability check per action and, for integration
    tokens (``Authorization: Bearer …``), the token's scopes and care team."""

    #: action name → capability; actions not listed need ``patient.view``
    capabilities: dict[str, str] = {}
    #: action name → API token scope; actions not listed use ``read_scope``; ``None`` = not for tokens
    scopes: dict[str, str | None] = {}
    read_scope = "patients:read"

    authentication_classes = [
        *api_settings.DEFAULT_AUTHENTICATION_CLASSES,
        *(
            []
            if ApiTokenAuthentication in api_settings.DEFAULT_AUTHENTICATION_CLASSES
            else [ApiTokenAuthentication]
        ),
    ]

    parser_classes = [SafeJSONParser, FormParser, MultiPartParser]

    def get_exception_handler(self):
        return api_exception_handler

    def get_permissions(self):
        action_name = getattr(self, "action", None) or ""
        capability = self.capabilities.get(action_name, "patient.view")
        return [
            IsAuthenticated(),
            capability_permission(capability)(),
            TokenScope(self.scope_for(action_name)),
        ]

    def scope_for(self, action_name: str) -> str | None:
        return self.scopes.get(action_name, self.read_scope)

    def token_team_ids(self) -> list[int] | None:
        """With an integration token: the one care team it may reach (else None = no extra limit)."""
        if isinstance(getattr(self.request, "auth", None), ApiToken):
            scope = self.scope_for(getattr(self, "action", None) or "")
            return api_team_ids(self.request, scope) if scope else []
        return None

    def limit_to_token_team(self, qs, field: str = "care_team_id"):
        team_ids = self.token_team_ids()
        return qs if team_ids is None else qs.filter(**{f"{field}__in": team_ids})

    def require(self, capability: str, team_id: int) -> None:
        """Object-level check in the record's team (a role in another team does not count)."""
        if not can(self.request.user, capability, team_id):
            raise exceptions.PermissionDenied(f"Your role does not allow {capability} for this patient.")


@functools.cache
def capability_permission(capability: str) -> type[HasCapability]:
    """One permission class per capability (built once, not per request)."""
    return HasCapability.for_(capability)


class TokenScope(BasePermission):
    """Integration tokens need the action's scope; people signed in are governed by their roles."""

    message = "This API token does not carry the scope this action needs."

    def __init__(self, scope: str | None):
        self.scope = scope

    def has_permission(self, request, view) -> bool:
        if not isinstance(getattr(request, "auth", None), ApiToken):
            return True
        return self.scope is not None and scope_permission(self.scope)().has_permission(request, view)


@functools.cache
def scope_permission(scope: str) -> type[HasScope]:
    """One permission class per token scope (built once, not per request)."""
    return HasScope.for_(scope)


#: Larger than any physiological or laboratory value (the widest hard limit is 2 000 000 ng/mL).
MAX_PAYLOAD_NUMBER = 10**12
MAX_PAYLOAD_DEPTH = 8


def check_payload_values(payload: dict) -> None:
    """Reject what no clinical value can be before it reaches the core or the database: NUL
    characters (PostgreSQL cannot store them in JSON), absurdly large numbers and deep nesting.
    Raises a 400 keyed by the payload field, like the clinical core's own errors."""

    def walk(value: Any, field: str, depth: int) -> None:
        if depth > MAX_PAYLOAD_DEPTH:
            raise exceptions.ValidationError({field: ["is nested too deeply"]})
        if isinstance(value, str):
            if "\x00" in value:
                raise exceptions.ValidationError({field: ["must not contain NUL characters"]})
        elif isinstance(value, bool) or value is None:
            return
        elif isinstance(value, int | float):
            if abs(value) > MAX_PAYLOAD_NUMBER or (isinstance(value, float) and not math.isfinite(value)):
                raise exceptions.ValidationError(
                    {
                        field: [
                            f"{field} is not a plausible number (allowed: at most {MAX_PAYLOAD_NUMBER:.0e})"
                        ]
                    }
                )
        elif isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in str(key):
                    raise exceptions.ValidationError({field: ["field names must not contain NUL characters"]})
                walk(item, field, depth + 1)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item, field, depth + 1)

    for key, value in payload.items():
        name = str(key)
        if "\x00" in name:
            raise exceptions.ValidationError({"payload": ["field names must not contain NUL characters"]})
        walk(value, name, 1)


def int_query_param(request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise exceptions.ValidationError({name: ["Must be a whole number."]}) from None
    if not 1 <= value <= MAX_ID:
        raise exceptions.ValidationError({name: [f"Must be between 1 and {MAX_ID}."]})
    return value


def choice_query_param(request, name: str, choices) -> str | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    allowed = [value for value, _ in choices]
    if raw not in allowed:
        raise exceptions.ValidationError({name: [f"Must be one of: {', '.join(allowed)}."]})
    return raw


# --- patients --------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Patients of my care teams", responses={200: PatientSerializer(many=True)}),
    retrieve=extend_schema(summary="One patient", responses={200: PatientSerializer, **ERRORS}),
    create=extend_schema(
        summary="Register a patient (coordinators, admins)",
        request=PatientSerializer,
        responses={201: PatientSerializer, **ERRORS},
    ),
    update=extend_schema(
        summary="Update a patient (coordinators, admins)",
        request=PatientUpdateSerializer,
        responses={200: PatientSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Update some fields of a patient (coordinators, admins)",
        request=PatientUpdateSerializer,
        responses={200: PatientSerializer, **ERRORS},
    ),
)
class PatientViewSet(
    ApiViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = PatientSerializer
    lookup_value_regex = ID_PATTERN
    capabilities = {
        "create": "patient.manage",
        "update": "patient.manage",
        "partial_update": "patient.manage",
    }
    scopes = {"create": None, "update": None, "partial_update": None}

    def get_queryset(self):
        qs = self.limit_to_token_team(Patient.objects.visible_to(self.request.user))
        return qs.order_by("family_name", "given_name", "id")

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return PatientUpdateSerializer
        return PatientSerializer

    def get_object(self):
        patient = super().get_object()
        if self.action in ("update", "partial_update"):
            self.require("patient.manage", patient.care_team_id)
        return patient

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        care_team = data.pop("care_team")
        serializer.instance = registration.patient_register(
            user=self.request.user, care_team_id=care_team.pk, **data
        )

    def perform_update(self, serializer):
        serializer.instance = registration.patient_update(
            user=self.request.user, patient=serializer.instance, **serializer.validated_data
        )


# --- infusions -------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Infusions of my care teams",
        parameters=[
            OpenApiParameter("patient", OpenApiTypes.INT, description="Only this patient's infusions"),
            OpenApiParameter("status", OpenApiTypes.STR, enum=InfusionStatus.values),
        ],
        responses={200: InfusionSerializer(many=True), 400: ERRORS[400]},
    ),
    retrieve=extend_schema(summary="One infusion", responses={200: InfusionSerializer, **ERRORS}),
)
class InfusionViewSet(
    ApiViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = InfusionSerializer
    lookup_value_regex = ID_PATTERN
    capabilities = {"create": "patient.manage", "close": "patient.manage"}
    scopes = {
        "create": None,
        "close": None,
        "grades": "observations:read",
        "latest_grade": "observations:read",
    }

    def get_queryset(self):
        qs = self.limit_to_token_team(Infusion.objects.visible_to(self.request.user)).select_related(
            "care_team"
        )
        if self.action == "list":
            patient_id = int_query_param(self.request, "patient")
            if patient_id is not None:
                qs = qs.filter(patient_id=patient_id)
            status_ = choice_query_param(self.request, "status", InfusionStatus.choices)
            if status_:
                qs = qs.filter(status=status_)
        return qs.order_by("-infused_at", "-id")

    @extend_schema(
        summary="Record an infusion (day 0) for a patient (coordinators, admins)",
        request=InfusionCreateSerializer,
        responses={201: InfusionSerializer, **ERRORS, **CONFLICT},
    )
    def create(self, request, *args, **kwargs):
        serializer = InfusionCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        patient = (
            self.limit_to_token_team(Patient.objects.visible_to(request.user))
            .filter(pk=data["patient"])
            .first()
        )
        if patient is None:
            raise exceptions.ValidationError({"patient": ["No such patient in your care teams."]})
        self.require("patient.manage", patient.care_team_id)
        try:
            infusion = registration.infusion_start(
                user=request.user, patient=patient, product=data["product"], infused_at=data["infused_at"]
            )
        except services.ObservationConflict as exc:
            raise Conflict(exc.message) from None
        return Response(InfusionSerializer(infusion).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Close monitoring of an infusion with a reason (coordinators, admins)",
        request=InfusionCloseSerializer,
        responses={200: InfusionSerializer, **ERRORS, **CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        infusion = self.get_object()
        self.require("patient.manage", infusion.care_team_id)
        serializer = InfusionCloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            infusion = services.infusion_close(
                infusion=infusion,
                closed_at=serializer.validated_data.get("closed_at") or timezone.now(),
                close_reason=serializer.validated_data["close_reason"],
                user=request.user,
            )
        except services.ObservationConflict as exc:
            raise Conflict(exc.message) from None
        infusion.refresh_from_db()
        return Response(InfusionSerializer(infusion).data)

    @extend_schema(
        summary="Grade evaluations of an infusion, newest first",
        responses={200: GradeEvaluationSerializer(many=True), 404: ERRORS[404]},
    )
    @action(detail=True, methods=["get"])
    def grades(self, request, pk=None):
        infusion = self.get_object()
        qs = GradeEvaluation.objects.filter(infusion=infusion).order_by("-evaluated_at", "-id")
        page = self.paginate_queryset(qs)
        if page is not None:
            return self.get_paginated_response(GradeEvaluationSerializer(page, many=True).data)
        return Response(GradeEvaluationSerializer(qs, many=True).data)

    @extend_schema(
        summary="The latest grade of an infusion (CRS/ICANS with drivers and suggestions)",
        responses={
            200: GradeEvaluationSerializer,
            404: OpenApiResponse(ErrorSerializer, description="Not found, or not graded yet"),
        },
    )
    @action(detail=True, methods=["get"], url_path="latest-grade")
    def latest_grade(self, request, pk=None):
        infusion = self.get_object()
        evaluation = (
            GradeEvaluation.objects.filter(infusion=infusion).order_by("-evaluated_at", "-id").first()
        )
        if evaluation is None:
            raise exceptions.NotFound("This infusion has not been graded yet (no observations).")
        return Response(GradeEvaluationSerializer(evaluation).data)


# --- observations ----------------------------------------------------------------------------------


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


# --- grades ----------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Grade evaluations of my care teams (filter by infusion), newest first",
        parameters=[
            OpenApiParameter("infusion", OpenApiTypes.INT, description="Only this infusion's grades")
        ],
        responses={200: GradeEvaluationSerializer(many=True), 400: ERRORS[400]},
    ),
    retrieve=extend_schema(
        summary="One grade evaluation", responses={200: GradeEvaluationSerializer, **ERRORS}
    ),
)
class GradeEvaluationViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = GradeEvaluationSerializer
    read_scope = "observations:read"
    lookup_value_regex = ID_PATTERN

    def get_queryset(self):
        qs = GradeEvaluation.objects.filter(
            infusion__in=self.limit_to_token_team(Infusion.objects.visible_to(self.request.user))
        )
        if self.action == "list":
            infusion_id = int_query_param(self.request, "infusion")
            if infusion_id is not None:
                qs = qs.filter(infusion_id=infusion_id)
        return qs.order_by("-evaluated_at", "-id")


__all__ = [
    "GradeEvaluationViewSet",
    "InfusionViewSet",
    "ObservationViewSet",
    "PatientViewSet",
    "api_exception_handler",
]
