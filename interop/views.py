"""HTTP of the FHIR interface (docs/interop.md): ``POST /fhir/`` (import), ``GET /fhir/metadata``,
``GET /fhir/Patient/<id>/$everything`` and ``GET /fhir/$export`` (a cohort).  Answers are FHIR JSON
(``application/fhir+json``); every error is an OperationOutcome."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.views import APIView

from audit.middleware import record_accesses

from . import auth, capability, export, importer, outcome, selectors

FHIR_JSON = "application/fhir+json"


class _Parser(JSONParser):
    """application/json and application/fhir+json; JSON nested too deeply is a 400, not a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON nested too deeply") from None


class _FhirParser(_Parser):
    media_type = FHIR_JSON


def fhir_response(body: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type=FHIR_JSON)


# The FHIR interface is described by its own CapabilityStatement (/fhir/metadata), not by the REST
# API's OpenAPI schema, whose serializers do not apply to FHIR resources.
class FhirView(APIView):
    schema = None  # DRF: left out of the generated OpenAPI schema
    authentication_classes = auth.AUTHENTICATION
    parser_classes = [_FhirParser, _Parser]

    def handle_exception(self, exc):
        response = super().handle_exception(exc)  # DRF's status, headers (WWW-Authenticate) and text
        detail = getattr(exc, "detail", None) or str(exc)
        code = {401: "login", 403: "forbidden", 404: "not-found", 415: "not-supported"}.get(
            response.status_code, "invalid"
        )
        answer = fhir_response(outcome.single(str(detail), code=code), response.status_code)
        for header in ("WWW-Authenticate", "Allow"):
            if header in response:
                answer[header] = response[header]
        return answer


class ImportView(FhirView):
    """POST a transaction or batch Bundle (at most 50 entries)."""

    permission_classes = [auth.FhirScope.for_(auth.WRITE)]

    def post(self, request):
        token = request.auth
        result = importer.import_bundle(
            bundle=request.data,
            user=request.user,
            team_ids=auth.team_ids(request, auth.WRITE),
            source_system=getattr(token, "name", "") or request.user.get_username(),
        )
        return fhir_response(result.body, result.http_status)


class EverythingView(FhirView):
    """GET a patient's courses as a collection Bundle (access-logged by audit's middleware: the URL
    names the patient)."""

    permission_classes = [auth.FhirScope.for_(auth.READ)]

    def get(self, request, patient_id: int):
        patient = selectors.patient_in(team_ids=auth.team_ids(request, auth.READ), patient_id=patient_id)
        if patient is None:
            raise exceptions.NotFound("No such patient in your care teams.")
        return fhir_response(export.patient_bundle(patient, selectors.infusions_of(patient=patient)))


class CohortExportView(FhirView):
    """GET every course of the teams the token (or the coordinator) may export, as NDJSON; one
    access-log row per patient."""

    permission_classes = [auth.FhirScope.for_(auth.READ), auth.CohortExport]

    def get(self, request):
        cohort = selectors.cohort(team_ids=auth.team_ids(request, auth.READ))
        lines = "".join(export.cohort_ndjson(cohort))
        record_accesses(request, [p.pk for p, _ in cohort])
        return HttpResponse(lines, content_type="application/fhir+ndjson")


class MetadataView(FhirView):
    """The CapabilityStatement (public, as FHIR servers publish it: it holds no patient data)."""

    authentication_classes = []
    permission_classes = []

    def get(self, request):
        return fhir_response(capability.statement(request.build_absolute_uri("/fhir/")))
