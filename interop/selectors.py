"""Reads of the FHIR interface and the registry reports, scoped to the care teams a request may
reach (``interop.auth.team_ids``): another team's patient is simply not found."""

from __future__ import annotations

from collections.abc import Collection

from monitoring.models import Infusion, Observation, Patient


def patient_in(*, team_ids: Collection[int], patient_id: int) -> Patient | None:
    return (
        Patient.objects.filter(pk=patient_id, care_team_id__in=team_ids).select_related("care_team").first()
    )


def infusions_of(*, patient: Patient) -> list[Infusion]:
    return list(
        Infusion.objects.filter(patient=patient)
        .select_related("product", "care_team", "patient")
        .order_by("infused_at")
    )


def cohort(*, team_ids: Collection[int]) -> list[tuple[Patient, list[Infusion]]]:
    patients = Patient.objects.filter(care_team_id__in=team_ids).order_by("pk")
    by_patient: dict[int, list[Infusion]] = {}
    for infusion in (
        Infusion.objects.filter(patient__in=patients)
        .select_related("product", "care_team", "patient")
        .order_by("infused_at")
    ):
        by_patient.setdefault(infusion.patient_id, []).append(infusion)
    return [(p, by_patient.get(p.pk, [])) for p in patients]


def current_rows(*, infusion: Infusion) -> list[Observation]:
    """The course's observations in force (not superseded, not entered in error), in time order."""
    return list(Observation.objects.current().filter(infusion=infusion).order_by("observed_at", "id"))
