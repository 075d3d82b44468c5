"""Change history (django-simple-history) of every mutable record, stored in this app's tables.

Observations and grade evaluations are not here: they are append-only (a correction is a new row
that ``supersedes`` the old one), so the table itself is their history.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from django.apps import apps
from simple_history import register
from simple_history.exceptions import MultipleRegistrationsError
from simple_history.models import registered_models

HISTORY_MODELS = (
    "accounts.User",
    "accounts.CareTeam",
    "accounts.Membership",
    "accounts.ApiToken",
    "monitoring.Patient",
    "monitoring.Infusion",
    "monitoring.Product",
    "monitoring.MonitoringTemplate",
    "monitoring.DecisionPolicy",
)
# Registered once the alerting app defines them *and* has its own migrations (a historical table
# must not make ``makemigrations audit`` write another app's first migration).  When they appear,
# run ``manage.py makemigrations audit`` to add their history tables.
OPTIONAL_HISTORY_MODELS = (
    "alerts.Alert",
    "alerts.EscalationPolicy",
    "alerts.EscalationPolicyStep",
    "alerts.OnCallSchedule",
    "alerts.OnCallMember",
    "alerts.OnCallOverride",
)

# History rows must not copy secrets.
EXCLUDED_FIELDS = {
    "accounts.User": ["password", "last_login"],
    "accounts.ApiToken": ["key_hash", "last_used_at"],
}


def _has_own_migrations(app_label: str) -> bool:
    folder = Path(apps.get_app_config(app_label).path) / "migrations"
    return any(f.name[:4].isdigit() for f in folder.glob("*.py"))


def _model(label: str, *, optional: bool):
    try:
        model = apps.get_model(label)
    except LookupError:
        if optional:
            return None
        raise
    if optional and not _has_own_migrations(model._meta.app_label):
        return None
    return model


def register_models() -> None:
    for label, optional in [(m, False) for m in HISTORY_MODELS] + [
        (m, True) for m in OPTIONAL_HISTORY_MODELS
    ]:
        model = _model(label, optional=optional)
        if model is None:
            continue
        with contextlib.suppress(MultipleRegistrationsError):  # ready() may run twice in tests
            register(model, app="audit", excluded_fields=EXCLUDED_FIELDS.get(label, []))


def history_models():
    """(label, model) of every registered model, for the audit view."""
    return [(m._meta.label, m) for m in registered_models.values() if hasattr(m, "history")]
