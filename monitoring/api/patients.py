"""Patients and their infusions: list and read within the caller's care teams; register, update,
start and close through ``monitoring.registration`` and ``monitoring.services`` (coordinators,
admins), with the grades of an infusion."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import registration, services
from ..models import GradeEvaluation, Infusion, InfusionStatus, Patient
from ..serializers import (
    ErrorSerializer,
    GradeEvaluationSerializer,
    InfusionCloseSerializer,
    InfusionCreateSerializer,
    InfusionSerializer,
    PatientSerializer,
    PatientUpdateSerializer,
)
from .access import ApiViewSetMixin
from .errors import CONFLICT, ERRORS, Conflict
from .inputs import ID_PATTERN, choice_query_param, int_query_param


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
