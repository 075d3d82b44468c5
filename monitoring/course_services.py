"""Writes of patients and infusions (keyword-only, one durable transaction each): what the API's
patient and infusion endpoints save.  Observations and closing a course are in ``services``.

Each write checks the user's capability for the care team it touches (``patient.manage``) and is
kept in the row's history with the user who made it (django-simple-history).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import CareTeam
from accounts.permissions import require

from .models import Infusion, Patient, Product
from .services import ObservationConflict

#: A transfer to another team is not an edit: an update never changes these.
FIXED_ON_UPDATE = frozenset({"id", "care_team", "care_team_id", "created_at"})


def patient_create(*, user, care_team: CareTeam, fields: Mapping[str, Any]) -> Patient:
    """A new patient of ``care_team`` with ``fields`` (validated by the caller's form or serializer)."""
    require(user, "patient.manage", care_team.pk)
    patient = Patient(care_team=care_team, **{k: v for k, v in fields.items() if k != "care_team"})
    patient._history_user = user
    with transaction.atomic(durable=True):
        patient.save()
    return patient


def patient_update(*, patient: Patient, user, changes: Mapping[str, Any]) -> Patient:
    """Change ``patient``'s fields (never its care team)."""
    require(user, "patient.manage", patient.care_team_id)
    fixed = sorted(FIXED_ON_UPDATE & set(changes))
    if fixed:
        raise ValueError(f"patient_update cannot change {', '.join(fixed)}")
    with transaction.atomic(durable=True):
        for name, value in changes.items():
            setattr(patient, name, value)
        patient._history_user = user
        patient.save()
    return patient


def infusion_create(*, patient: Patient, product: Product, infused_at: datetime, user) -> Infusion:
    """Record day 0 of a course for ``patient`` (in the patient's care team).

    Raises ObservationConflict while the patient still has an active infusion (one at a time)."""
    require(user, "patient.manage", patient.care_team_id)
    infusion = Infusion(
        patient=patient, product=product, care_team_id=patient.care_team_id, infused_at=infused_at
    )
    infusion._history_user = user
    try:
        with transaction.atomic(durable=True):
            infusion.save()
    except IntegrityError:
        raise ObservationConflict(
            "This patient already has an active infusion: close it before recording a new one."
        ) from None
    return infusion
