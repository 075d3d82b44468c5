"""REST API of follow-up results, readable per patient and per course. Follow-up observations are
written through the observation endpoint (``/api/observations/``) with the follow-up kinds
(sledai, medication_status, myositis_core_set, ssc_assessment), the same validation and rules.

``GET /api/followup-results/?patient=ID`` or ``?course=ID``: the latest result of each course (or of
that course); ``GET /api/followup-results/{id}/``: one stored result. Scoped like every read (another
team's patient answers 404 / is not listed).
"""

from __future__ import annotations

from django.db.models import OuterRef, Subquery
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets

from monitoring.api.access import ApiViewSetMixin
from monitoring.api.errors import ERRORS
from monitoring.api.inputs import ID_PATTERN, int_query_param
from monitoring.models import Infusion

from .models import FollowupEvaluation
from .serializers import FollowupResultSerializer


@extend_schema_view(
    list=extend_schema(
        summary="Latest follow-up result of each course",
        parameters=[
            OpenApiParameter("patient", OpenApiTypes.INT, description="Only this patient's courses"),
            OpenApiParameter("course", OpenApiTypes.INT, description="Only this course (infusion id)"),
        ],
        responses={200: FollowupResultSerializer(many=True), **ERRORS},
    ),
    retrieve=extend_schema(
        summary="One stored follow-up result", responses={200: FollowupResultSerializer, **ERRORS}
    ),
)
class FollowupResultViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = FollowupResultSerializer
    read_scope = "observations:read"
    lookup_value_regex = ID_PATTERN

    def get_queryset(self):
        infusions = self.limit_to_token_team(Infusion.objects.visible_to(self.request.user))
        qs = FollowupEvaluation.objects.filter(infusion__in=infusions).select_related("infusion")
        if self.action == "list":
            patient_id = int_query_param(self.request, "patient")
            course_id = int_query_param(self.request, "course")
            if patient_id is not None:
                qs = qs.filter(infusion__patient_id=patient_id)
            if course_id is not None:
                qs = qs.filter(infusion_id=course_id)
            newest = FollowupEvaluation.objects.filter(infusion=OuterRef("infusion")).order_by(
                "-evaluated_at", "-id"
            )
            qs = qs.filter(pk=Subquery(newest.values("pk")[:1]))
        return qs.order_by("infusion__infused_at", "id")
