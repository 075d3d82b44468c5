"""REST API of the alerts app: alerts of my care teams, acknowledge and resolve (physicians).

Scoped like every patient query (``Alert.objects.visible_to(user)``: another team's alert is 404);
acknowledging and resolving need the capabilities ``alert.acknowledge`` / ``alert.resolve`` in the
alert's team and go through ``alerts.services``.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from monitoring.api.access import ApiViewSetMixin
from monitoring.api.errors import CONFLICT, ERRORS
from monitoring.api.inputs import ID_PATTERN, choice_query_param, int_query_param

from . import services
from .models import Alert, AlertStatus, Syndrome
from .serializers import (
    AlertAcknowledgeSerializer,
    AlertNoteSerializer,
    AlertResolveSerializer,
    AlertSerializer,
)


@extend_schema_view(
    list=extend_schema(
        summary="Alerts of my care teams, newest first",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=AlertStatus.values),
            OpenApiParameter("active", OpenApiTypes.BOOL, description="Only open or acknowledged alerts"),
            OpenApiParameter("syndrome", OpenApiTypes.STR, enum=Syndrome.values),
            OpenApiParameter("patient", OpenApiTypes.INT, description="Only this patient's alerts"),
        ],
        responses={200: AlertSerializer(many=True), 400: ERRORS[400]},
    ),
    retrieve=extend_schema(summary="One alert with its timeline", responses={200: AlertSerializer, **ERRORS}),
)
class AlertViewSet(
    ApiViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = AlertSerializer
    lookup_value_regex = ID_PATTERN
    capabilities = {
        "list": "alert.view",
        "retrieve": "alert.view",
        "acknowledge": "alert.acknowledge",
        "resolve": "alert.resolve",
        "note": "alert.acknowledge",
    }
    read_scope = "alerts:read"
    scopes = {"acknowledge": "alerts:write", "resolve": "alerts:write", "note": "alerts:write"}

    def get_queryset(self):
        qs = self.limit_to_token_team(Alert.objects.visible_to(self.request.user))
        if self.action == "list":
            status_ = choice_query_param(self.request, "status", AlertStatus.choices)
            if status_:
                qs = qs.filter(status=status_)
            active = choice_query_param(
                self.request, "active", [("true", "true"), ("false", "false"), ("1", "1"), ("0", "0")]
            )
            if active in ("true", "1"):
                qs = qs.active()
            elif active in ("false", "0"):
                qs = qs.exclude(status__in=[AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED])
            syndrome = choice_query_param(self.request, "syndrome", Syndrome.choices)
            if syndrome:
                qs = qs.filter(syndrome=syndrome)
            patient_id = int_query_param(self.request, "patient")
            if patient_id is not None:
                qs = qs.filter(patient_id=patient_id)
        return qs.prefetch_related("events").order_by("-opened_at", "-id")

    def _act(self, request, capability: str, serializer_class, service) -> Response:
        """The shape of every alert action: find the alert (404 outside my teams), check the
        capability in its team, validate the body, call the service, answer the fresh alert."""
        alert = self.get_object()
        self.require(capability, alert.care_team_id)
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        service(alert, serializer.validated_data)
        fresh = self.get_queryset().get(pk=alert.pk)
        return Response(AlertSerializer(fresh).data)

    @extend_schema(
        summary="Acknowledge an alert (physicians): stops its pending escalation steps",
        request=AlertAcknowledgeSerializer,
        responses={200: AlertSerializer, **ERRORS, **CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._act(
            request,
            "alert.acknowledge",
            AlertAcknowledgeSerializer,
            lambda alert, data: services.alert_acknowledge(alert=alert, user=request.user, note=data["note"]),
        )

    @extend_schema(
        summary="Add a note to an alert: what was done or ordered (physicians; stops the reminder)",
        request=AlertNoteSerializer,
        responses={200: AlertSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def note(self, request, pk=None):
        return self._act(
            request,
            "alert.acknowledge",
            AlertNoteSerializer,
            lambda alert, data: services.alert_add_note(alert=alert, user=request.user, text=data["text"]),
        )

    @extend_schema(
        summary="Resolve an alert with a note (physicians)",
        request=AlertResolveSerializer,
        responses={200: AlertSerializer, **ERRORS, **CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._act(
            request,
            "alert.resolve",
            AlertResolveSerializer,
            lambda alert, data: services.alert_resolve(alert=alert, user=request.user, note=data["note"]),
        )
