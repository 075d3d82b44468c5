"""Who may call what: the viewset mixin every API viewset extends (error mapping, one capability per
action, and for integration tokens their scopes and the one care team they reach), the permission
classes it builds, and the token scheme documented in the OpenAPI schema."""

from __future__ import annotations

import functools

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.settings import api_settings

from accounts.models import ApiToken
from accounts.permissions import HasCapability, HasScope, api_team_ids, can
from accounts.tokens import ApiTokenAuthentication

from .errors import SafeJSONParser, api_exception_handler


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Documents the integration tokens (``Authorization: Bearer ctk_…``) in the OpenAPI schema."""

    target_class = "accounts.tokens.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "Integration token with scopes"}


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
