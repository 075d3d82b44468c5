"""Writes of the registry screen: a coordinator marks a course's report of one period done or checked
(keyword-only, one durable transaction).  Marking it done records which toxicities' date of
diagnosis it gave, so the next period's report answers "previously reported" (REG-1)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.permissions import can
from monitoring.models import Infusion

from . import registry
from .models import Registry, RegistryReport, ReportState


def registry_report_mark(
    *, infusion: Infusion, registry_name: str, period_key: str, state: str, user
) -> RegistryReport:
    if registry_name not in Registry.values:
        raise ValidationError(
            {"registry": [f"{registry_name!r} is not one of: {', '.join(Registry.values)}"]}
        )
    periods = {p.key: p for p in registry.PERIODS[registry_name](infusion)}
    if period_key not in periods:
        raise ValidationError(
            {"period": [f"{period_key!r} is not a period of this course; allowed: {', '.join(periods)}"]}
        )
    if state not in ReportState.values:
        raise ValidationError({"state": [f"{state!r} is not one of: {', '.join(ReportState.values)}"]})
    if not can(user, "export.csv", infusion.care_team_id):
        raise PermissionDenied("Your role does not allow registry reporting (export.csv) for this patient")
    report = registry.build(infusion, registry_name, periods[period_key])
    with transaction.atomic(durable=True):
        row, _ = RegistryReport.objects.select_for_update().get_or_create(
            infusion=infusion, registry=registry_name, period=period_key
        )
        row.state = state
        if state != ReportState.DUE and not row.reported_onsets:
            row.reported_onsets = report.reported_onsets
        row.updated_at = timezone.now()
        row.updated_by = user
        row.save()
    return row
