"""Who an imported resource is about (FHIR-7): the patient matched by identifier (the site's MRN
system, setting ``FHIR_MRN_SYSTEM``) within the integration's care team, never created; and the
course (infusion) its time belongs to."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from monitoring import services
from monitoring.models import Infusion, InfusionStatus, Patient

from .reading import EntryRefused, Problem, Reading

DEFAULT_MRN_SYSTEM = "https://carttrack.org/fhir/sid/mrn"


def mrn_system() -> str:
    """The identifier system of the site's MRNs (setting ``FHIR_MRN_SYSTEM``)."""
    return getattr(settings, "FHIR_MRN_SYSTEM", DEFAULT_MRN_SYSTEM)


def bundle_patients(entries: list[dict]) -> dict[str, tuple[str, str]]:
    """fullUrl / Patient/id of each Patient entry → its MRN identifier (for in-bundle references)."""
    found: dict[str, tuple[str, str]] = {}
    for entry in entries:
        resource = entry.get("resource")
        if not isinstance(resource, dict) or resource.get("resourceType") != "Patient":
            continue
        identifiers = resource.get("identifier")
        ident = next(
            (
                (str(i["system"]), str(i["value"]))
                for i in (identifiers if isinstance(identifiers, list) else [])
                if isinstance(i, dict) and i.get("system") == mrn_system() and i.get("value")
            ),
            None,
        )
        if ident is None:
            continue
        for key in (entry.get("fullUrl"), f"Patient/{resource.get('id')}" if resource.get("id") else None):
            if key:
                found[str(key)] = ident
    return found


class Lookups:
    """What one bundle has already looked up: patients by MRN and their courses (a bundle of 50
    vitals usually names a handful of patients)."""

    def __init__(self) -> None:
        self.patients: dict[str, Patient | None] = {}
        self.courses: dict[int, list[Infusion]] = {}

    def patient(self, mrn: str, team_ids) -> Patient | None:
        if mrn not in self.patients:
            self.patients[mrn] = (
                Patient.objects.filter(mrn=mrn, care_team_id__in=team_ids).select_related("care_team").first()
            )
        return self.patients[mrn]

    def infusions(self, patient: Patient) -> list[Infusion]:
        if patient.pk not in self.courses:
            self.courses[patient.pk] = list(Infusion.objects.filter(patient=patient).order_by("-infused_at"))
        return self.courses[patient.pk]


def patient_for(reading: Reading, bundle_patients, team_ids, where: str, lookups: Lookups) -> Patient:
    ident = reading.patient or bundle_patients.get(reading.patient_ref or "")
    if ident is None:
        raise EntryRefused(
            [
                Problem(
                    f"{where}: subject {reading.patient_ref!r} is not a Patient entry of this bundle with "
                    f"an MRN identifier ({mrn_system()})",
                    "subject",
                    "not-found",
                )
            ]
        )
    system, value = ident
    if system != mrn_system():
        raise EntryRefused(
            [
                Problem(
                    f"{where}: patient identifier system {system!r} is not this site's; "
                    f"accepted: {mrn_system()}",
                    "subject.identifier.system",
                    "not-found",
                )
            ]
        )
    patient = lookups.patient(value, team_ids)
    if patient is None:
        raise EntryRefused(
            [
                Problem(
                    f"{where}: no patient with MRN {value!r} in this integration's care team; patients are "
                    "registered by a coordinator, never created by an import",
                    "subject.identifier",
                    "not-found",
                )
            ]
        )
    return patient


def infusion_for(patient: Patient, observed_at, where: str, lookups: Lookups) -> Infusion:
    """The course the time falls in: the patient's active infusion if the time can belong to it, else
    the newest infusion at most 30 days after the time (a baseline value)."""
    candidates = [
        i for i in lookups.infusions(patient) if i.infused_at <= observed_at + services.MAX_BEFORE_INFUSION
    ]
    infusion = next((i for i in candidates if i.status == InfusionStatus.ACTIVE), None) or next(
        iter(candidates), None
    )
    if infusion is None:
        raise EntryRefused(
            [
                Problem(
                    f"{where}: patient {patient.mrn} has no CAR-T infusion this time belongs to",
                    "effective[x]",
                    "not-found",
                )
            ]
        )
    return infusion


def patient_entry(index: int, resource: dict, team_ids) -> dict[str, Any] | list[Problem]:
    ident = next(
        (
            i.get("value")
            for i in resource.get("identifier") or []
            if isinstance(i, dict) and i.get("system") == mrn_system()
        ),
        None,
    )
    patient = Patient.objects.filter(mrn=ident, care_team_id__in=team_ids).first() if ident else None
    if patient is None:
        return [
            Problem(
                f"entry[{index}] Patient: no patient with an MRN ({mrn_system()}) {ident!r} in this "
                "integration's care team; an import never creates a patient",
                "Patient.identifier",
                "not-found",
            )
        ]
    return {"response": {"status": "200 OK", "location": f"Patient/{patient.pk}"}}
