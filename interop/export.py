"""FHIR R4 export (FHIR-8, FHIR-6): a patient's courses as a ``collection`` Bundle, and a cohort as
NDJSON.  Patient (the site's MRN identifier only), per infusion a Procedure and the product as a
Medication, the observations (``interop.resources``), grade Observations (CRS, ICANS, early and late
ICAHT) with ``derivedFrom``, and per CRS, ICANS, ICAHT (early, late), IEC-HS and LICATS episode a
Condition and, where it is graded or a physician confirmed it, an AdverseEvent on the HL7 AdverseEvent
Clinical Research R4 backport profile."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from fhirclient.models.fhirelementfactory import FHIRElementFactory

from carttrack.icaht import day_of
from carttrack.vocabulary import G_CSF
from monitoring import grading
from monitoring.models import Infusion, Patient, Sex

from . import codes, course, matching, selectors
from .resources import row_resources

GENDER = {Sex.FEMALE: "female", Sex.MALE: "male", Sex.OTHER: "other", Sex.UNKNOWN: "unknown"}
GRADING = "ASTCT 2019 consensus grading"
ICAHT_GRADING = "EHA/EBMT ICAHT grading (Rejeski 2023)"
ANC_ID = "-anc-per-uL"  # the id suffix of an ANC Observation (interop.resources)
RELATEDNESS = (
    "related by definition: an immune effector cell-associated toxicity of this product "
    "(no individual causality assessment recorded)"
)
SERIOUSNESS_NOT_RECORDED = (
    "not recorded: seriousness (ICH E2A) is an investigator's assessment CAR-T Track does not make"
)
NO_STUDY = "no research study: a course of clinical care"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
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


def _icaht_sources(infusion, syndrome: str, point, anc_rows, refs_of, settings) -> list[str]:
    """What an ICAHT grade is computed from (ICAHT-4, ICAHT-10): the daily ANC minima of its window
    (early day 0 to 30, late day 31 to 100), so the ANC Observations of the window recorded by then."""
    first, last = (
        (0, settings.icaht_early_end_day)
        if syndrome == "icaht-early"
        else (settings.icaht_early_end_day + 1, settings.icaht_late_end_day)
    )
    return [
        r
        for row in anc_rows
        if row.observed_at <= point.at and first <= day_of(infusion.hours_after(row.observed_at)) <= last
        for r in refs_of.get(row.pk, [])
        if r.endswith(ANC_ID)
    ]


def _grade_observations(infusion, points, refs_of, anc_rows, patient_ref) -> list[dict[str, Any]]:
    """One grade Observation per change of a syndrome's grade (CRS, ICANS, early and late ICAHT),
    derivedFrom what drove it.  An ICAHT grade whose window is still open (ICAHT-8) is ``preliminary``;
    when the window closes its grade is written again as ``final``."""
    settings = grading.settings_for(infusion)
    out = []
    for syndrome in (*course.SYNDROMES, *course.ICAHT):
        toxicity = TOXICITY[syndrome]
        last: tuple[int | None, bool] = (None, False)
        for point in points:
            grade = point.grades[syndrome]
            provisional = syndrome in point.provisional
            if (grade, provisional) == last:
                continue
            last = (grade, provisional)
            if syndrome in course.ICAHT:
                refs = _icaht_sources(infusion, syndrome, point, anc_rows, refs_of, settings)
            else:
                refs = [r for row in point.drivers[syndrome] for r in refs_of.get(row, [])]
            resource = {
                "resourceType": "Observation",
                "id": f"{syndrome}-grade-{point.row_id}",
                "status": "preliminary" if provisional else "final",
                "category": [{"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": "exam"}]}],
                "code": {
                    "coding": [{"system": codes.LOCAL_OBSERVATION, "code": codes.GRADE_CODES[syndrome]}],
                    "text": f"{toxicity.name} grade ({toxicity.grading}"
                    + (", provisional: its window is open)" if provisional else ")"),
                },
                "subject": {"reference": patient_ref},
                "effectiveDateTime": point.at.isoformat(),
                **(
                    {"valueInteger": grade}
                    if grade is not None
                    else {"dataAbsentReason": {"text": "not graded: no finding recorded"}}
                ),
            }
            if refs:
                resource["derivedFrom"] = [{"reference": r} for r in dict.fromkeys(refs)]
            out.append(resource)
    return out


@dataclass(frozen=True)
class Toxicity:
    """How one toxicity of ``course.TOXICITIES`` is written (FHIR-6)."""

    name: str
    grading: str | None  # the grading system of its ae-grade (None: not graded)
    mitigating: frozenset[str]  # drugs whose administrations during it are mitigating actions
    resolves: bool  # the clinical core determines its resolution (abatement, resolve-date)


TOXICITY = {
    "crs": Toxicity("CRS", GRADING, MITIGATING, True),
    "icans": Toxicity("ICANS", GRADING, MITIGATING, True),
    # ICAHT-5: early ICAHT resolves at the stable recovery; the late grade is by nadir (ICAHT-10).
    "icaht-early": Toxicity("Early ICAHT", ICAHT_GRADING, G_CSF, True),
    "icaht-late": Toxicity("Late ICAHT", ICAHT_GRADING, G_CSF, False),
    # Screens, not grades (C-3, LICATS-3); no resolution is recorded; LICATS treatments unconfirmed.
    "iec-hs": Toxicity("IEC-HS", None, frozenset(), False),
    "licats": Toxicity("LICATS", None, frozenset(), False),
}


def _ae_grade(grade: int, grading: str, provisional: bool) -> dict[str, Any]:
    status = ", provisional: its window is open" if provisional else ""
    text = f"{grading} grade {grade}{status} (the value set's displays say CTCAE)"
    concept: dict[str, Any] = {"text": text}
    if grade in codes.NCIT_GRADE:
        concept["coding"] = [
            {
                "system": codes.NCIT,
                "code": codes.NCIT_GRADE[grade],
                "display": codes.NCIT_GRADE_DISPLAY[grade],
            }
        ]
    return {"url": f"{codes.AE_EXT}/ae-grade", "valueCodeableConcept": concept}


def _event_code(episode: course.Episode, toxicity: Toxicity) -> dict[str, Any]:
    grade = episode.maximum
    code_first = {
        "system": codes.ICD10CM,
        "code": codes.ICD10_CODE_FIRST,
        "display": f"{codes.ICD10_CODE_FIRST_DISPLAY} (code first)",
    }
    if episode.syndrome in codes.ICD10_BY_GRADE:
        by_grade = codes.ICD10_BY_GRADE[episode.syndrome]
        specific = {
            "system": codes.ICD10CM,
            "code": by_grade.get(grade, by_grade[None]),
            "display": codes.ICD10_DISPLAY[episode.syndrome].format(grade=grade),
        }
    else:  # no ICD-10-CM code of its own in the specification: the local code (docs/interop.md)
        specific = {
            "system": codes.LOCAL_TOXICITY,
            "code": episode.syndrome,
            "display": codes.LOCAL_TOXICITY_CODES[episode.syndrome],
        }
    if toxicity.grading:
        text = f"{toxicity.name} grade {grade} ({toxicity.grading})"
    elif episode.confirmed:
        text = f"{toxicity.name}: SLEDAI-2K descriptors marked as part of it by a physician (not graded)"
    else:
        text = f"{toxicity.name} screen positive: to be evaluated by a physician (a screen, not a grade)"
    return {"coding": [specific, code_first], "text": text}


def _evidence(episode: course.Episode, refs_of, anc_rows) -> list[dict[str, str]]:
    """The observations behind an episode: its drivers; for ICAHT, whose grade is over days of ANC
    values, the ANC Observations from its onset to its resolution (or its last point)."""
    refs = [r for row in episode.driver_rows() for r in refs_of.get(row, [])]
    if episode.syndrome in course.ICAHT:
        end = episode.resolved or episode.points[-1].at
        refs += [
            r
            for row in anc_rows
            if episode.onset <= row.observed_at <= end
            for r in refs_of.get(row.pk, [])
            if r.endswith(ANC_ID)
        ]
    return [{"reference": r} for r in dict.fromkeys(refs)]


def _episode_resources(
    infusion, episode: course.Episode, refs_of, meds, anc_rows, patient_ref
) -> list[dict[str, Any]]:
    """A Condition per episode and, for what is graded or a physician confirmed, its AdverseEvent on
    the clinical research backport (whose ``actuality`` is fixed to actual: a positive screen is a
    provisional Condition only, C-3)."""
    toxicity = TOXICITY[episode.syndrome]
    grade = episode.maximum
    resolved = episode.resolved if toxicity.resolves else None
    event_code = _event_code(episode, toxicity)
    key = f"{episode.syndrome}-{infusion.pk}-{episode.number}"
    evidence = _evidence(episode, refs_of, anc_rows)
    status = "active" if resolved is None else "resolved"
    verification = "confirmed" if episode.confirmed else "provisional"
    condition = {
        "resourceType": "Condition",
        "id": key,
        **(
            {"clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": status}]}}
            if toxicity.resolves
            else {}
        ),
        "verificationStatus": {"coding": [{"system": CONDITION_VERIFICATION, "code": verification}]},
        "code": event_code,
        "subject": {"reference": patient_ref},
        "onsetDateTime": episode.onset.isoformat(),
        **({"abatementDateTime": resolved.isoformat()} if resolved else {}),
        **({"evidence": [{"detail": evidence}]} if evidence else {}),
    }
    if not episode.confirmed:
        return [condition]
    extensions = []
    if toxicity.grading:
        provisional = episode.syndrome in episode.points[-1].provisional
        extensions.append(_ae_grade(grade, toxicity.grading, provisional))
    if resolved:
        extensions.append({"url": f"{codes.AE_EXT}/resolve-date", "valueDateTime": resolved.isoformat()})
    for row in meds:
        if (
            row.payload.get("drug") in toxicity.mitigating
            and row.observed_at >= episode.onset
            and (resolved is None or row.observed_at <= resolved)
        ):
            extensions.append(
                {
                    "url": f"{codes.AE_EXT}/mitigating-action",
                    "extension": [
                        {
                            "url": "item",
                            "valueReference": {"reference": f"MedicationAdministration/{row.pk}-med"},
                        }
                    ],
                }
            )
    # The profile's suspect-entity (its suspectEntity element is 0..0) needs a causality: the product
    # by the toxicity's definition (immune effector cell-associated), no one's assessment (FHIR-6).
    extensions.append(
        {
            "url": f"{codes.AE_EXT}/suspect-entity",
            "extension": [
                {"url": "instance", "valueReference": {"reference": f"Medication/product-{infusion.pk}"}},
                {
                    "url": "causality",
                    "extension": [
                        {"url": "entityRelatedness", "valueCodeableConcept": {"text": RELATEDNESS}}
                    ],
                },
            ],
        }
    )
    extensions.append(
        {"url": f"{codes.AE_EXT}/resultingEffect", "valueReference": {"reference": f"Condition/{key}"}}
    )
    outcome = codes.AE_OUTCOME["ongoing" if resolved is None else "resolved"]
    outcome_element = (
        {"coding": [{"system": codes.NCIT, "code": outcome[0], "display": outcome[1]}]}
        if toxicity.resolves
        else _absent("unsupported", "no outcome: the grading defines no resolution for this toxicity")
    )
    adverse_event = {
        "resourceType": "AdverseEvent",
        "id": key,
        "meta": {"profile": [codes.AE_PROFILE]},
        "extension": extensions,
        "modifierExtension": [
            {"url": f"{codes.AE_EXT}/status", "valueCode": "in-progress" if resolved is None else "completed"}
        ],
        "actuality": "actual",
        "event": event_code,
        "subject": {"reference": patient_ref},
        "date": episode.onset.isoformat(),
        # Required by the profile, not recorded here: each says so (data-absent-reason, FHIR-6).
        "seriousness": _absent("unsupported", SERIOUSNESS_NOT_RECORDED),
        "outcome": outcome_element,
        "study": [{**_absent("not-applicable", ""), "display": NO_STUDY}],
    }
    return [condition, adverse_event]


def _absent(reason: str, text: str) -> dict[str, Any]:
    """An element the profile requires and the project has no value for, with FHIR's reason code."""
    return {
        "extension": [{"url": codes.DATA_ABSENT_REASON, "valueCode": reason}],
        **({"text": text} if text else {}),
    }


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
    meds = [r for r in rows if r.kind == "medication"]
    anc_rows = [r for r in rows if r.kind == "lab" and "anc_per_uL" in r.payload]
    yield from _grade_observations(infusion, points, refs_of, anc_rows, patient_ref)
    for syndrome in course.TOXICITIES:
        for episode in course.episodes(points, syndrome):
            yield from _episode_resources(infusion, episode, refs_of, meds, anc_rows, patient_ref)


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
