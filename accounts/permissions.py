"""The roles-and-permissions matrix: one table, one check, used by views, the API and admin.

A capability is granted to a user *for a care team* through a membership with one of the roles
listed.  Views first find the patient through ``Patient.objects.visible_to(user)`` (another team's
patient is a 404), then check the capability for that patient's team (a missing capability is 403).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from .models import ApiToken, Role

NURSE, PHYSICIAN, COORDINATOR, ADMIN = Role.NURSE, Role.PHYSICIAN, Role.COORDINATOR, Role.ADMIN
CLINICAL = frozenset({NURSE, PHYSICIAN})
EVERYONE = frozenset({NURSE, PHYSICIAN, COORDINATOR, ADMIN})

MATRIX: dict[str, frozenset[str]] = {
    # Patient record
    "patient.view": EVERYONE,
    "patient.manage": frozenset({COORDINATOR, ADMIN}),  # register patients, infusions, close them
    # Observations
    "observation.record": CLINICAL,
    "observation.amend": CLINICAL,
    "finding.attribute": frozenset({PHYSICIAN}),  # attribute fever/hypotension/hypoxia to another cause
    "event.record_diagnosis": frozenset({PHYSICIAN}),  # "CRS diagnosed", death and its attribution
    # Alerts
    "alert.view": EVERYONE,
    "alert.acknowledge": frozenset({PHYSICIAN}),
    "alert.resolve": frozenset({PHYSICIAN}),
    "check.record_missed": CLINICAL,
    # Dashboards, exports, schedules
    "dashboard.view": EVERYONE,
    "analytics.view": frozenset({PHYSICIAN, COORDINATOR, ADMIN}),
    "export.csv": frozenset({COORDINATOR, ADMIN}),
    "schedule.manage": frozenset({COORDINATOR, ADMIN}),
    "policy.manage": frozenset({COORDINATOR, ADMIN}),
    # Administration
    "audit.view": frozenset({ADMIN}),
    "account.manage": frozenset({ADMIN}),  # unlock, reset two-factor, issue/revoke tokens (own teams)
}


def roles_for(capability: str) -> frozenset[str]:
    try:
        return MATRIX[capability]
    except KeyError as exc:  # a typo must never silently grant or deny
        raise KeyError(f"unknown capability {capability!r}; known: {', '.join(sorted(MATRIX))}") from exc


def can(user: Any, capability: str, team_id: int | None = None) -> bool:
    """Whether ``user`` holds ``capability`` in ``team_id`` (in any of their teams if None)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    roles = roles_for(capability)
    return any(held & roles for team, held in user.team_roles().items() if team_id is None or team == team_id)


def team_ids_with(user: Any, capability: str) -> list[int]:
    """The care teams in which ``user`` holds ``capability``."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    return user.team_ids(*roles_for(capability))


def require(user: Any, capability: str, team_id: int | None = None) -> None:
    if not can(user, capability, team_id):
        raise PermissionDenied(f"Your role does not allow {capability}")


def capability_required(capability: str) -> Callable:
    """View decorator: the user must hold ``capability`` in at least one team (else 403)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            require(request.user, capability)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class HasCapability(BasePermission):
    """DRF permission: ``permission_classes = [HasCapability.for_("alert.acknowledge")]``.

    Checks that the user holds the capability in some team; object-level checks use the
    object's care team (``obj.care_team_id``, or via ``obj.patient`` / ``obj.infusion``).
    """

    capability = "patient.view"

    @classmethod
    def for_(cls, capability: str) -> type[HasCapability]:
        roles_for(capability)
        return type(f"Has_{capability.replace('.', '_')}", (cls,), {"capability": capability})

    def has_permission(self, request, view) -> bool:
        return can(request.user, self.capability)

    def has_object_permission(self, request, view, obj) -> bool:
        return can(request.user, self.capability, care_team_id_of(obj))


def care_team_id_of(obj: Any) -> int | None:
    for path in ("care_team_id", "patient.care_team_id", "infusion.care_team_id"):
        target = obj
        try:
            for attr in path.split("."):
                target = getattr(target, attr)
        except AttributeError:
            continue
        return target
    return None


# --- API scopes --------------------------------------------------------------------------------
# An integration token carries explicit scopes; a signed-in person has the scopes their roles give
# through the matrix above, so the two paths can never disagree about what a role may do.
SCOPE_CAPABILITY: dict[str, str] = {
    "patients:read": "patient.view",
    "observations:read": "patient.view",
    "observations:write": "observation.record",
    "alerts:read": "alert.view",
    "alerts:write": "alert.acknowledge",
    "fhir:write": "observation.record",
    "fhir:read": "patient.view",
}


def scopes_for_user(user: Any, team_id: int | None = None) -> frozenset[str]:
    """The API scopes a signed-in user holds (in ``team_id``, or in any team if None)."""
    return frozenset(scope for scope, cap in SCOPE_CAPABILITY.items() if can(user, cap, team_id))


def _api_token(request) -> Any:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiToken) else None


class HasScope(BasePermission):
    """DRF permission: ``permission_classes = [HasScope.for_("observations:write")]``.

    With an integration token (``Authorization: Bearer …``) the token must carry the scope and an
    object must belong to the token's care team; a session user needs a role that grants the
    scope in the object's team.
    """

    scope = "patients:read"

    @classmethod
    def for_(cls, scope: str) -> type[HasScope]:
        if scope not in SCOPE_CAPABILITY:
            raise KeyError(f"unknown scope {scope!r}; known: {', '.join(sorted(SCOPE_CAPABILITY))}")
        return type(f"HasScope_{scope.replace(':', '_')}", (cls,), {"scope": scope})

    def has_permission(self, request, view) -> bool:
        token = _api_token(request)
        if token is not None:
            return self.scope in token.scopes and token.is_usable()
        return self.scope in scopes_for_user(request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        team_id = care_team_id_of(obj)
        token = _api_token(request)
        if token is not None:
            return self.scope in token.scopes and token.team_id == team_id
        return self.scope in scopes_for_user(request.user, team_id)


def api_team_ids(request, scope: str) -> list[int]:
    """Care teams a request may act on with ``scope`` (for filtering API querysets)."""
    token = _api_token(request)
    if token is not None:
        return [token.team_id] if scope in token.scopes and token.is_usable() else []
    return team_ids_with(request.user, SCOPE_CAPABILITY[scope])
