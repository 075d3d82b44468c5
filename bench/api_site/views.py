"""The baseline of the benchmark: parse JSON and INSERT one observation row, nothing else
(no authentication, no validation, no grading, no alert enqueue)."""

import json
import uuid

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from monitoring.models import Observation, ObservationSource


@csrf_exempt
@require_POST
def bare_observation(request):
    data = json.loads(request.body)
    obs = Observation.objects.create(
        infusion_id=data["infusion"],
        kind=data["kind"],
        payload=data["payload"],
        observed_at=data["observed_at"],
        recorded_by_id=data["recorded_by"],
        client_uuid=uuid.UUID(data["client_uuid"]),
        source=ObservationSource.API,
    )
    return JsonResponse({"id": obs.pk, "client_uuid": str(obs.client_uuid)}, status=201)
