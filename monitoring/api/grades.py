"""Grade evaluations of the caller's care teams, newest first (read only)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets

from ..models import GradeEvaluation, Infusion
from ..serializers import GradeEvaluationSerializer
from .access import ApiViewSetMixin
from .errors import ERRORS
from .inputs import ID_PATTERN, int_query_param


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
