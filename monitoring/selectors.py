"""Reads of the monitoring app, always scoped to the user (another team's patient is a 404).

Lists use a bounded number of queries whatever the number of patients (the census and the
nurse's "My patients" list are polled by every tablet on the ward).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404

import carttrack
from carttrack.risk import risk_order

from . import handoff, schedules
from .models import (
    GradeEvaluation,
    Infusion,
    InfusionStatus,
    Observation,
    ObservationKind,
    Patient,
)

#: Vitals older than this look stale on the screens (routine interval 4 h; MON-4).
VITALS_STALE_AFTER = timedelta(hours=4)
#: A neuro domain not re-assessed for this long is shown as stale (B-6).
NEURO_STALE_AFTER = timedelta(hours=24)


def patient_get(*, user, patient_id: int) -> Patient:
    """The patient if visible to ``user``; 404 otherwise (also for another team's patient)."""
    return get_object_or_404(Patient.objects.visible_to(user).select_related("care_team"), pk=patient_id)


def infusion_current(*, patient: Patient) -> Infusion | None:
    """The active infusion of the patient, else the most recent one (closed)."""
    infusions = Infusion.objects.filter(patient=patient).select_related(
        "product__monitoring_template", "care_team", "patient"
    )
    return infusions.filter(status=InfusionStatus.ACTIVE).first() or infusions.order_by("-infused_at").first()


def observation_get(*, user, patient_id: int, observation_id: int) -> Observation:
    obs = (
        Observation.objects.visible_to(user)
        .select_related("infusion__patient", "infusion__care_team", "infusion__product", "recorded_by")
        .filter(pk=observation_id, infusion__patient_id=patient_id)
        .first()
    )
    if obs is None:
        raise Http404("No such observation")
    return obs


def evaluation_latest(*, infusion: Infusion) -> GradeEvaluation | None:
    return (
        GradeEvaluation.objects.filter(infusion=infusion)
        .select_related("decision_policy")
        .order_by("-evaluated_at", "-id")
        .first()
    )


#: How the clinical core's CRS domains (StandingValue.domain) read on the vitals form.
STANDING_LABELS = {
    "temperature": "Temperature",
    "blood_pressure": "Blood pressure",
    "vasopressors": "Vasopressors",
    "oxygen": "Oxygen",
}


def standing_values(*, evaluation: GradeEvaluation | None, infusion: Infusion, now: datetime) -> list[dict]:
    """The CRS standing values of the latest evaluation (A-14): what stands until the nurse
    re-assesses it, with its age at ``now`` and whether it is stale (older than the current grade's
    vitals interval, as the clinical core set it)."""
    if evaluation is None:
        return []
    now_h = infusion.hours_after(now)
    out = []
    for v in ((evaluation.result or {}).get("crs") or {}).get("standing") or []:
        age_h = max(0.0, now_h - float(v["t_hours"]))
        out.append(
            {
                "domain": v["domain"],
                "label": STANDING_LABELS.get(v["domain"], v["domain"].replace("_", " ").capitalize()),
                "text": v["text"],
                "recorded_at": infusion.infused_at + timedelta(hours=float(v["t_hours"])),
                "age": timedelta(hours=age_h),
                "stale": age_h > float(v["stale_after_hours"]),
            }
        )
    return out


@dataclass(frozen=True)
class NeuroScore:
    """One scored neuro check: ICE (0–10, 10 = normal) or CAPD (0–32, 0 = normal)."""

    tool: str
    total: int | None  # None: an item was not assessable (B-1), no total
    observed_at: datetime

    @property
    def text(self) -> str:
        if self.tool == "ICE":
            return "ICE not assessable" if self.total is None else f"ICE {self.total}/10"
        return f"CAPD {self.total}"


@dataclass(frozen=True)
class NeuroScores:
    """The latest score since day 0 and the pre-infusion baseline shown beside it (B-1, ICE-6:
    grades are absolute; a baseline such as in neuropsychiatric lupus is shown, not subtracted)."""

    latest: NeuroScore | None
    baseline: NeuroScore | None


def _neuro_score(obs: Observation) -> NeuroScore | None:
    try:
        parsed = carttrack.parse_observation({**obs.payload, "kind": obs.kind, "t_hours": 0.0})
    except carttrack.ObservationError:  # stored under older rules: not shown rather than a broken page
        return None
    if getattr(parsed, "capd_given", False) and parsed.capd_total is not None:
        return NeuroScore("CAPD", parsed.capd_total, obs.observed_at)
    if getattr(parsed, "ice_given", False) and parsed.ice is not None:
        return NeuroScore("ICE", parsed.ice.total, obs.observed_at)
    return None


def neuro_scores(*, infusion: Infusion, scan: int = 20) -> NeuroScores:
    """Latest ICE/CAPD score since the infusion and the last one before it (the baseline)."""
    current = Observation.objects.current().filter(infusion=infusion, kind=ObservationKind.NEURO)

    def newest(rows) -> NeuroScore | None:
        for obs in rows.order_by("-observed_at", "-id")[:scan]:
            score = _neuro_score(obs)
            if score is not None:
                return score
        return None

    return NeuroScores(
        latest=newest(current.filter(observed_at__gte=infusion.infused_at)),
        baseline=newest(current.filter(observed_at__lt=infusion.infused_at)),
    )


def observations_recent(*, infusion: Infusion, limit: int = 30) -> list[Observation]:
    """Newest first, every status (amended and entered-in-error rows stay visible, marked)."""
    return list(
        Observation.objects.filter(infusion=infusion)
        .select_related("recorded_by", "supersedes", "superseded_by")
        .order_by("-observed_at", "-id")[:limit]
    )


def last_current_at(*, infusion: Infusion, kind: str) -> datetime | None:
    obs = Observation.objects.current().filter(infusion=infusion, kind=kind).order_by("-observed_at").first()
    return obs.observed_at if obs else None


@dataclass
class PatientRow:
    """One line of "My patients"."""

    infusion: Infusion
    patient: Patient
    day: int
    evaluation: GradeEvaluation | None
    last_vitals_at: datetime | None
    vitals_age: timedelta | None
    vitals_stale: bool
    checks: list[schedules.CheckStatus] = field(default_factory=list)
    open_alerts: int = 0

    @property
    def top_grade(self) -> int:
        ev = self.evaluation
        return max(ev.crs_grade or 0, ev.icans_grade or 0) if ev else 0

    @property
    def name(self) -> str:
        return f"{self.patient.family_name}, {self.patient.given_name}"

    @property
    def overdue(self) -> list[schedules.CheckStatus]:
        return [c for c in self.checks if c.is_overdue]

    @property
    def due_soon(self) -> list[schedules.CheckStatus]:
        return [c for c in self.checks if c.state == "due"]


#: How "My patients" can be ordered; risk (highest grade, open alerts, overdue checks) by default.
MY_PATIENTS_SORTS = {
    "risk": "Risk: highest grade, then open alerts, then overdue checks",
    "name": "Name",
    "day": "Day after infusion (latest infusion first)",
}


def _my_patients_key(sort: str):
    if sort == "name":
        return lambda r: (r.name.lower(), r.patient.mrn)
    if sort == "day":
        return lambda r: (r.day, r.name.lower())
    return lambda r: risk_order(
        top_grade=r.top_grade, open_alerts=r.open_alerts, overdue_checks=len(r.overdue), name=r.name
    )


def my_patients(*, user, now: datetime, sort: str = "risk") -> list[PatientRow]:
    """Active infusions of the user's teams with grade, vitals age, checks and open alerts, in the
    order asked for (``MY_PATIENTS_SORTS``; ≈ 7 queries in total)."""
    latest_eval_id = (
        GradeEvaluation.objects.filter(infusion_id=OuterRef("pk"))
        .order_by("-evaluated_at", "-id")
        .values("id")[:1]
    )
    last_vitals = (
        Observation.objects.current()
        .filter(infusion_id=OuterRef("pk"), kind=ObservationKind.VITALS)
        .order_by("-observed_at")
        .values("observed_at")[:1]
    )
    infusions = list(
        Infusion.objects.visible_to(user)
        .active()
        .select_related("patient", "product__monitoring_template", "care_team")
        .annotate(_latest_eval_id=Subquery(latest_eval_id), _last_vitals_at=Subquery(last_vitals))
        .order_by("patient__family_name", "patient__given_name")
    )
    evaluations = GradeEvaluation.objects.in_bulk([i._latest_eval_id for i in infusions if i._latest_eval_id])
    checks = schedules.checks_for_infusions(infusions, now=now)
    alerts = handoff.alerting().open_alert_counts([i.pk for i in infusions]) if infusions else {}
    rows = []
    for inf in infusions:
        age = now - inf._last_vitals_at if inf._last_vitals_at else None
        rows.append(
            PatientRow(
                infusion=inf,
                patient=inf.patient,
                day=inf.day_post_infusion(now),
                evaluation=evaluations.get(inf._latest_eval_id),
                last_vitals_at=inf._last_vitals_at,
                vitals_age=age,
                vitals_stale=age is None or age > VITALS_STALE_AFTER,
                checks=checks.get(inf.pk, []),
                open_alerts=alerts.get(inf.pk, 0),
            )
        )
    rows.sort(key=_my_patients_key(sort))
    return rows


def patients_to_manage(*, user, team_ids: list[int]) -> list[tuple[Patient, Infusion | None]]:
    """The patients of ``team_ids`` visible to ``user``, each with its current course (the active
    infusion, else the latest), for the coordinator's list. Two queries whatever the number."""
    patients = list(
        Patient.objects.visible_to(user)
        .filter(care_team_id__in=team_ids)
        .select_related("care_team")
        .order_by("family_name", "given_name", "id")
    )
    current: dict[int, Infusion] = {}
    infusions = (
        Infusion.objects.filter(patient__in=patients)
        .select_related("product", "care_team")
        .order_by("patient_id", "-infused_at")
    )
    for infusion in infusions:
        held = current.get(infusion.patient_id)
        if held is None or (
            infusion.status == InfusionStatus.ACTIVE and held.status != InfusionStatus.ACTIVE
        ):
            current[infusion.patient_id] = infusion
    return [(patient, current.get(patient.pk)) for patient in patients]
