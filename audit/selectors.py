"""Reads for the audit view, always scoped to the care teams where the user may audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.permissions import require, team_ids_with
from monitoring.models import Infusion, Observation, Patient

from .models import AccessLog


def audit_team_ids(user) -> list[int]:
    return team_ids_with(user, "audit.view")


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def access_log(
    user,
    *,
    username: str = "",
    patient_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AccessLog]:
    """Reads of patient records in the user's audit teams, newest first (``date_to`` inclusive)."""
    qs = AccessLog.objects.filter(
        patient_id__in=Patient.objects.filter(care_team_id__in=audit_team_ids(user)).values("id")
    )
    if username:
        qs = qs.filter(username__iexact=username.strip())
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    if date_from is not None:
        qs = qs.filter(at__gte=_day_start(date_from))
    if date_to is not None:
        qs = qs.filter(at__lt=_day_start(date_to + timedelta(days=1)))
    return qs.order_by("-at", "-id")


def auditable_patient(user, patient_id: int) -> Patient:
    """The patient if visible to the user (else 404) and the user may audit its team (else 403)."""
    patient = get_object_or_404(Patient.objects.visible_to(user), pk=patient_id)
    require(user, "audit.view", patient.care_team_id)
    return patient


@dataclass(frozen=True)
class Change:
    record: str
    record_id: int
    at: datetime
    by: str
    action: str
    changes: tuple[tuple[str, str, str], ...]  # (field's name in words, old, new)


_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


def _in_words(row, name: str, old, new) -> tuple[str, str, str]:
    """A changed field by its name ("time zone", "close reason") and its values by their labels
    ("Large B-cell lymphoma", not the stored code)."""
    try:
        field = row._meta.get_field(name)
    except FieldDoesNotExist:
        return name.replace("_", " "), str(old), str(new)
    labels = dict(field.flatchoices) if field.choices else {}
    return str(field.verbose_name), str(labels.get(old, old)), str(labels.get(new, new))


def _changes_of(label: str, history_qs) -> list[Change]:
    rows = list(history_qs.select_related("history_user").order_by("id", "history_date", "history_id"))
    out: list[Change] = []
    previous_by_id: dict[int, object] = {}
    for row in rows:
        previous = previous_by_id.get(row.id)
        diff: tuple[tuple[str, str, str], ...] = ()
        if previous is not None:
            delta = row.diff_against(previous)
            diff = tuple(_in_words(row, c.field, c.old, c.new) for c in delta.changes)
        previous_by_id[row.id] = row
        out.append(
            Change(
                record=label,
                record_id=row.id,
                at=row.history_date,
                by=str(row.history_user) if row.history_user_id else "system",
                action=_ACTIONS.get(row.history_type, row.history_type),
                changes=diff,
            )
        )
    return out


def patient_change_history(patient: Patient) -> list[Change]:
    """Every change to the patient's record and infusions, newest first."""
    changes = _changes_of("Patient", Patient.history.filter(id=patient.pk))
    changes += _changes_of("Infusion", Infusion.history.filter(patient_id=patient.pk))
    return sorted(changes, key=lambda c: c.at, reverse=True)


def observation_chain(observation: Observation) -> list[Observation]:
    """The whole amendment chain an observation belongs to, oldest (original) first."""
    first = observation
    seen = {first.pk}
    while first.supersedes_id is not None and first.supersedes_id not in seen:
        first = Observation.objects.select_related("recorded_by").get(pk=first.supersedes_id)
        seen.add(first.pk)
    chain = [first]
    current = first
    while True:
        following = Observation.objects.select_related("recorded_by").filter(supersedes_id=current.pk).first()
        if following is None or following.pk in {o.pk for o in chain}:
            break
        chain.append(following)
        current = following
    return chain


def observation_history(user, observation_id: int) -> list[Observation]:
    """The amendment chain of one observation visible to ``user`` (another team's: 404)."""
    observation = get_object_or_404(
        Observation.objects.visible_to(user).select_related("infusion", "recorded_by"), pk=observation_id
    )
    require(user, "audit.view", observation.infusion.care_team_id)
    return observation_chain(observation)


def amended_observations(patient: Patient) -> list[list[Observation]]:
    """Every amendment chain of the patient (observations that were amended or entered in error)."""
    corrections = (
        Observation.objects.filter(infusion__patient=patient, supersedes__isnull=False)
        .select_related("recorded_by")
        .order_by("observed_at", "id")
    )
    chains: list[list[Observation]] = []
    covered: set[int] = set()
    for correction in corrections:
        if correction.pk in covered:
            continue
        chain = observation_chain(correction)
        covered.update(o.pk for o in chain)
        chains.append(chain)
    return chains
