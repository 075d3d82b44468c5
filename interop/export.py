"""FHIR R4 export (FHIR-8, FHIR-6): a patient's courses as a ``collection`` Bundle, and a cohort as
NDJSON.  Patient (the site's MRN identifier only), per infusion a Procedure and the product as a
Medication, the observations (``interop.resources``), grade Observations with
``derivedFrom``, and per CRS/ICANS episode a Condition and an AdverseEvent on the HL7 AdverseEvent
Clinical Research R4 backport profile."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from fhirclient.models.fhirelementfactory import FHIRElementFactory

from monitoring.models import Infusion, Patient, Sex

from . import codes, course, matching, selectors
from .resources import row_resources

GENDER = {Sex.FEMALE: "female", Sex.MALE: "male", Sex.OTHER: "other", Sex.UNKNOWN: "unknown"}
GRADING = "ASTCT 2019 consensus grading"
#: Drugs whose administrations are an episode's mitigating actions (FHIR-6).
MITIGATING = frozenset(
    {
        "tocilizumab",
        "dexamethasone",
        "methylprednisolone",
        "hydrocortisone",
        "prednisone",
        "prednisolone",
        "anakinra",
        "siltuximab",
    }
)


def checked(resource: dict[str, Any]) -> dict[str, Any]:
    """``resource`` as SMART's R4 model writes it (raises on anything that is not R4)."""
    return FHIRElementFactory.instantiate(resource["resourceType"], resource).as_json()


def patient_resource(patient: Patient) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "identifier": [{"system": matching.mrn_system(), "value": patient.mrn}],
        "gender": GENDER.get(patient.sex, "unknown"),
        "birthDate": patient.date_of_birth.isoformat(),
    }


def _product(infusion: Infusion) -> dict[str, Any]:
    """The CAR-T product as a ``Medication``: in R4 the infusion's ``Procedure.usedReference`` takes
    Device, Medication or Substance and ``AdverseEvent.suspectEntity.instance`` no
    BiologicallyDerivedProduct, so a Medication is the type both may point at (FHIR-6)."""
    return {
        "resourceType": "Medication",
        "id": f"product-{infusion.pk}",
        "code": {
            "coding": [{"system": codes.LOCAL_PRODUCT, "code": str(infusion.product_id)}],
            "text": f"{infusion.product.name} ({infusion.product.target_antigen} CAR-T cells)",
        },
    }


def _procedure(infusion: Infusion, patient_ref: str) -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": f"infusion-{infusion.pk}",
        "status": "completed",
        "code": {
            "coding": [{"system": codes.LOCAL_OBSERVATION, "code": "car-t-infusion"}],
            "text": "CAR-T cell infusion",
        },
        "subject": {"reference": patient_ref},
        "performedDateTime": infusion.infused_at.isoformat(),
        "usedReference": [{"reference": f"Medication/product-{infusion.pk}"}],
    }


def _grade_observations(infusion, points, refs_of, patient_ref) -> list[dict[str, Any]]:
    """One grade Observation per change of a syndrome's grade, derivedFrom what drove it."""
    out = []
    for syndrome in course.SYNDROMES:
        last = None
        for point in points:
            grade = point.grades[syndrome]
            if grade == last:
                continue
            last = grade
            derived = [{"reference": r} for row in point.drivers[syndrome] for r in refs_of.get(row, [])]
            resource = {
                "resourceType": "Observation",
                "id": f"{syndrome}-grade-{point.row_id}",
                "status": "final",
                "category": [{"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": "exam"}]}],
                "code": {
                    "coding": [{"system": codes.LOCAL_OBSERVATION, "code": f"{syndrome}-grade"}],
                    "text": f"{syndrome.upper()} grade ({GRADING})",
                },
                "subject": {"reference": patient_ref},
                "effectiveDateTime": point.at.isoformat(),
                **(
                    {"valueInteger": grade}
                    if grade is not None
                    else {"dataAbsentReason": {"text": "not graded: no finding recorded"}}
                ),
            }
            if derived:
                resource["derivedFrom"] = derived
            out.append(resource)
    return out


def _ae_grade(grade: int) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": f"{GRADING} grade {grade} (the value set's displays say CTCAE)"}
    if grade in codes.NCIT_GRADE:
        concept["coding"] = [
            {
                "system": codes.NCIT,
                "code": codes.NCIT_GRADE[grade],
                "display": codes.NCIT_GRADE_DISPLAY[grade],
            }
        ]
    return {"url": f"{codes.AE_EXT}/ae-grade", "valueCodeableConcept": concept}


def _episode_resources(infusion, episode: course.Episode, refs_of, meds, patient_ref) -> list[dict[str, Any]]:
    grade = episode.maximum
    icd = codes.ICD10_BY_GRADE[episode.syndrome].get(grade, codes.ICD10_BY_GRADE[episode.syndrome][None])
    event_code = {
        "coding": [
            {
                "system": codes.ICD10CM,
                "code": icd,
                "display": codes.ICD10_DISPLAY[episode.syndrome].format(grade=grade),
            },
            {
                "system": codes.ICD10CM,
                "code": codes.ICD10_CODE_FIRST,
                "display": "Complication of immune effector cellular therapy (code first)",
            },
        ],
        "text": f"{episode.syndrome.upper()} grade {grade} ({GRADING})",
    }
    key = f"{episode.syndrome}-{infusion.pk}-{episode.number}"
    evidence = [{"reference": r} for row in episode.driver_rows() for r in refs_of.get(row, [])]
    condition = {
        "resourceType": "Condition",
        "id": key,
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active" if episode.resolved is None else "resolved",
                }
            ]
        },
        "code": event_code,
        "subject": {"reference": patient_ref},
        "onsetDateTime": episode.onset.isoformat(),
        **({"abatementDateTime": episode.resolved.isoformat()} if episode.resolved else {}),
        **({"evidence": [{"detail": evidence}]} if evidence else {}),
    }
    extensions = [_ae_grade(grade)]
    if episode.resolved:
        extensions.append(
            {"url": f"{codes.AE_EXT}/resolve-date", "valueDateTime": episode.resolved.isoformat()}
        )
    for row in meds:
        if (
            row.payload.get("drug") in MITIGATING
            and row.observed_at >= episode.onset
            and (episode.resolved is None or row.observed_at <= episode.resolved)
        ):
            extensions.append(
                {
                    "url": f"{codes.AE_EXT}/mitigating-action",
                    "valueReference": {"reference": f"MedicationAdministration/{row.pk}-med"},
                }
            )
    adverse_event = {
        "resourceType": "AdverseEvent",
        "id": key,
        "meta": {"profile": [codes.AE_PROFILE]},
        "extension": extensions,
        "actuality": "actual",
        "event": event_code,
        "subject": {"reference": patient_ref},
        "date": episode.onset.isoformat(),
        "resultingCondition": [{"reference": f"Condition/{key}"}],
        "outcome": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/adverse-event-outcome",
                    "code": "ongoing" if episode.resolved is None else "resolved",
                }
            ]
        },
        "suspectEntity": [{"instance": {"reference": f"Medication/product-{infusion.pk}"}}],
    }
    return [condition, adverse_event]


def course_resources(infusion: Infusion) -> Iterator[dict[str, Any]]:
    """The resources of one course (without the Patient)."""
    patient_ref = f"Patient/{infusion.patient_id}"
    yield _product(infusion)
    yield _procedure(infusion, patient_ref)
    rows = selectors.current_rows(infusion=infusion)
    refs_of: dict[int, list[str]] = {}
    subject = {
        "reference": patient_ref,
        "identifier": {"system": matching.mrn_system(), "value": infusion.patient.mrn},
    }
    for row in rows:
        made = row_resources(row, subject)
        refs_of[row.pk] = made.refs
        yield from made.resources
    points = course.timeline(infusion)
    yield from _grade_observations(infusion, points, refs_of, patient_ref)
    meds = [r for r in rows if r.kind == "medication"]
    for syndrome in course.SYNDROMES:
        for episode in course.episodes(points, syndrome):
            yield from _episode_resources(infusion, episode, refs_of, meds, patient_ref)


def patient_bundle(patient: Patient, infusions: Iterable[Infusion]) -> dict[str, Any]:
    """A ``collection`` Bundle of the patient and the given courses, each resource checked as R4."""
    resources = [patient_resource(patient)]
    for infusion in infusions:
        resources.extend(course_resources(infusion))
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"urn:carttrack:{r['resourceType']}/{r['id']}", "resource": checked(r)}
            for r in resources
        ],
    }


def cohort_ndjson(patients: Iterable[tuple[Patient, list[Infusion]]]) -> Iterator[str]:
    """The cohort as NDJSON (bulk data): one resource per line."""
    for patient, infusions in patients:
        yield json.dumps(checked(patient_resource(patient))) + "\n"
        for infusion in infusions:
            for resource in course_resources(infusion):
                yield json.dumps(checked(resource)) + "\n"
