"""The API's pagination: ``?limit=&offset=`` with bounds, and a clear 400 for anything else.

DRF's ``LimitOffsetPagination`` silently ignores a limit it cannot read and passes any offset to the
database, where one beyond the integer range is a server error.  Here a limit is 1 to ``MAX_LIMIT``,
an offset 0 to ``MAX_OFFSET``; anything else (not a whole number, negative, too large) is a 400
naming the parameter and its allowed range.
"""

from __future__ import annotations

import re

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

MAX_LIMIT = 500
MAX_OFFSET = 2**31 - 1
_WHOLE_NUMBER = re.compile(r"[0-9]{1,12}")


def _bounded(request, name: str, low: int, high: int, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    value = int(raw) if _WHOLE_NUMBER.fullmatch(raw) else None
    if value is None or not low <= value <= high:
        shown = raw if len(raw) <= 20 else raw[:20] + "…"
        raise ValidationError({name: [f"{name} must be a whole number from {low} to {high}, not {shown!r}."]})
    return value


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = MAX_LIMIT

    def get_limit(self, request) -> int:
        return _bounded(request, self.limit_query_param, 1, MAX_LIMIT, self.default_limit)

    def get_offset(self, request) -> int:
        return _bounded(request, self.offset_query_param, 0, MAX_OFFSET, 0)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": MAX_LIMIT},
            self.offset_query_param: {"minimum": 0, "maximum": MAX_OFFSET},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
