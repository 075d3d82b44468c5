"""Access log of patient-record reads."""

from __future__ import annotations

import logging

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError

from accounts.models import ApiToken

from .models import AccessLog

logger = logging.getLogger(__name__)

# Routes that show one patient's data without a ``patient_id`` kwarg: view name ->
# (model label, URL kwarg holding its id, lookup from that model to the patient id).
PATIENT_OF_ROUTE: dict[str, tuple[str, str, str]] = {
    "api-patient-detail": ("monitoring.Patient", "pk", "id"),
    "api-infusion-detail": ("monitoring.Infusion", "pk", "patient_id"),
    "api-infusion-grades": ("monitoring.Infusion", "pk", "patient_id"),
    "api-infusion-latest-grade": ("monitoring.Infusion", "pk", "patient_id"),
    "api-observation-detail": ("monitoring.Observation", "pk", "infusion__patient_id"),
    "api-grade-detail": ("monitoring.GradeEvaluation", "pk", "infusion__patient_id"),
    "api-alert-detail": ("alerts.Alert", "pk", "patient_id"),
    "alerts:detail": ("alerts.Alert", "alert_id", "patient_id"),
    "audit:observation": ("monitoring.Observation", "observation_id", "infusion__patient_id"),
}
READ_METHODS = frozenset({"GET", "HEAD"})


def client_ip(request) -> str | None:
    """The client address: REMOTE_ADDR, or with ``TRUSTED_PROXY_COUNT`` proxies in front, the
    address the outermost trusted proxy saw (the right-most entries of X-Forwarded-For are ours)."""
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def patient_id_of(request) -> int | None:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return None
    raw = match.kwargs.get("patient_id")
    if raw is None and match.view_name in PATIENT_OF_ROUTE:
        label, kwarg, lookup = PATIENT_OF_ROUTE[match.view_name]
        try:
            model = apps.get_model(label)
        except LookupError:
            return None
        raw = model._default_manager.filter(pk=match.kwargs.get(kwarg)).values_list(lookup, flat=True).first()
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def record_access(request, patient_id: int) -> None:
    record_accesses(request, [patient_id])


def record_accesses(request, patient_ids) -> None:
    """One access-log row per patient whose data ``request`` returned (pages, API reads, exports)."""
    user = request.user
    common = {
        "user_id": user.pk,
        "username": user.get_username(),
        "view_name": (request.resolver_match.view_name if request.resolver_match else "")[:120],
        "path": request.path[:300],
        "method": request.method,
        "ip_address": client_ip(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
        "via_api_token": isinstance(getattr(request, "auth", None), ApiToken),
    }
    AccessLog.objects.bulk_create([AccessLog(patient_id=pk, **common) for pk in dict.fromkeys(patient_ids)])


class AccessLogMiddleware:
    """Logs every successful (2xx) GET/HEAD of a URL that names one patient: who, which patient,
    when, IP and user agent.  Background polls are reads too and are logged.  A failed or
    forbidden request showed nothing, so it is not a read (404/403 are not logged)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method in READ_METHODS and 200 <= response.status_code < 300:
            patient_id = patient_id_of(request)
            user = getattr(request, "user", None)  # DRF copies token users back onto the request
            if patient_id is not None and user is not None and user.is_authenticated:
                try:
                    record_access(request, patient_id)
                except DatabaseError:
                    # The page was already served; losing the trail must be loud, not a 500 for the nurse.
                    logger.exception("access log write failed for patient id %s", patient_id)
        return response
