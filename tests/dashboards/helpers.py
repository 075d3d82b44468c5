"""Builders for dashboard tests: observations, evaluations and alerts written directly as rows
(the dashboards only read them; the grading itself is tested in tests/monitoring)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from alerts.models import Alert, AlertStatus, Urgency
from monitoring.models import GradeEvaluation, Infusion, Observation, ObservationStatus


def obs(infusion: Infusion, kind: str, payload: dict, *, hours: float, user, **kwargs) -> Observation:
    at = infusion.infused_at + timedelta(hours=hours)
    return Observation.objects.create(
        infusion=infusion,
        kind=kind,
        payload=payload,
        observed_at=at,
        recorded_at=kwargs.pop("recorded_at", at),
        recorded_by=user,
        **kwargs,
    )


def amend(original: Observation, payload: dict, *, user, reason: str = "typo") -> Observation:
    return Observation.objects.create(
        infusion=original.infusion,
        kind=original.kind,
        payload=payload,
        observed_at=original.observed_at,
        recorded_by=user,
        status=ObservationStatus.AMENDED,
        supersedes=original,
        reason=reason,
    )


def void(original: Observation, *, user, reason: str = "wrong patient") -> Observation:
    return Observation.objects.create(
        infusion=original.infusion,
        kind=original.kind,
        payload=original.payload,
        observed_at=original.observed_at,
        recorded_by=user,
        status=ObservationStatus.ENTERED_IN_ERROR,
        supersedes=original,
        reason=reason,
    )


def evaluation(
    infusion: Infusion,
    *,
    hours: float,
    crs: int | None = 0,
    icans: int | None = 0,
    crs_max: int | None = None,
    icans_max: int | None = None,
    trigger: Observation | None = None,
    **kwargs,
) -> GradeEvaluation:
    at = infusion.infused_at + timedelta(hours=hours)
    return GradeEvaluation.objects.create(
        infusion=infusion,
        triggered_by=trigger,
        evaluated_at=at,
        crs_grade=crs,
        crs_max=crs if crs_max is None else crs_max,
        icans_grade=icans,
        icans_max=icans if icans_max is None else icans_max,
        rule_set="astct-2019/carttrack-1",
        **kwargs,
    )


def alert(
    infusion: Infusion,
    *,
    syndrome: str = "crs",
    grade: int | None = 2,
    opened_at: datetime | None = None,
    acknowledged_at: datetime | None = None,
    acknowledged_by=None,
    status: str | None = None,
) -> Alert:
    if status is None:
        status = AlertStatus.ACKNOWLEDGED if acknowledged_at else AlertStatus.OPEN
    return Alert.objects.create(
        infusion=infusion,
        patient=infusion.patient,
        care_team=infusion.care_team,
        syndrome=syndrome,
        grade=grade,
        current_grade=grade,
        urgency=Urgency.URGENT,
        status=status,
        opened_at=opened_at or timezone.now(),
        acknowledged_at=acknowledged_at,
        acknowledged_by=acknowledged_by,
        resolved_at=timezone.now() if status == AlertStatus.RESOLVED else None,
    )
