"""Who may use the FHIR interface: the one place that decides it (docs/interop.md).

Integration tokens (``Authorization: Bearer ctk_…``, ``accounts.ApiToken``) with their own scopes,
``fhir:write`` to import and ``fhir:read`` to export, each bounded by the token's care team; a person
signed in needs the capability behind the scope in the record's team.  Everything in the app asks
:func:`team_ids` and :data:`AUTHENTICATION`, so a change of the token mechanism (accounts) changes
this module only."""

from __future__ import annotations

from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission

from accounts.models import ApiToken
from accounts.permissions import HasScope, api_team_ids, can
from accounts.tokens import ApiTokenAuthentication

WRITE = "fhir:write"
READ = "fhir:read"

#: Token first: a bad or missing token is a 401 with ``WWW-Authenticate: Bearer``.
AUTHENTICATION = [ApiTokenAuthentication, SessionAuthentication]


def team_ids(request, scope: str) -> list[int]:
    """The care teams ``request`` may act on with ``scope`` (empty: none)."""
    return api_team_ids(request, scope)


class FhirScope(BasePermission):
    """``permission_classes = [FhirScope.for_(auth.WRITE)]``."""

    scope = READ
    message = "This token or role does not carry the FHIR scope this request needs."

    @classmethod
    def for_(cls, scope: str) -> type[FhirScope]:
        return type(f"FhirScope_{scope.replace(':', '_')}", (cls,), {"scope": scope})

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated) and HasScope.for_(
            self.scope
        )().has_permission(request, view)


class CohortExport(BasePermission):
    """A whole cohort: a token with ``fhir:read``, or a person who may export (``export.csv``)."""

    message = "Your role does not allow exporting the cohort (export.csv)."

    def has_permission(self, request, view) -> bool:
        return isinstance(getattr(request, "auth", None), ApiToken) or can(request.user, "export.csv")
