"""How the API answers what goes wrong: Django validation errors, a service's refusal (with its
reason) and lost uniqueness races mapped to 400, 403 and 409 (``{"field": ["message"]}``), JSON
nested too deeply refused as a 400, and the error responses the OpenAPI schema documents for every
endpoint."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .. import services
from ..serializers import ErrorSerializer


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
    """DRF's handler, plus Django ValidationError → 400, a service's PermissionDenied → 403 with its
    reason (DRF's own would drop it) and a lost uniqueness race → 409."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(validation_error_body(exc))
    elif isinstance(exc, DjangoPermissionDenied) and exc.args:
        exc = exceptions.PermissionDenied(str(exc))  # the service's reason, as the screen shows it
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
