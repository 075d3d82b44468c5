"""The CapabilityStatement at ``/fhir/metadata`` (FHIR-8), with the project's local code systems
contained in it (FHIR-2, FHIR-4: published with the capability statement)."""

from __future__ import annotations

from typing import Any

from carttrack.vocabulary import DRUGS, O2_DEVICES, VASOPRESSORS

from . import codes, importer

RELEASED = "2026-12-03"
DOCUMENTATION = (
    f"POST a transaction or batch Bundle of at most {importer.MAX_ENTRIES} entries to the base URL; "
    "Observations and MedicationAdministrations need an identifier; patients are matched by MRN "
    "identifier and never created."
)
SECURITY = (
    "Integration token (Authorization: Bearer) with scope fhir:write to import, fhir:read to export, "
    "bounded by the token's care team; reads are access-logged."
)

IN_BUNDLES = (
    "Created only as an entry of a transaction or batch Bundle posted to the base (request POST), "
    "idempotent by identifier; request.ifNoneExist is honoured as a conditional create for "
    "identifier=system|value (or identifier=value) and refused for any other search; exported in "
    "$everything and $export."
)
PATIENT_ONLY = "Matched by MRN identifier, never created by an import; exported in $everything."
EXPORTED_ONLY = "Derived by CAR-T Track and exported in $everything and $export; never imported."
EXPORTED_TYPES = ("Procedure", "Condition", "AdverseEvent", "Medication")


def _code_system(cid: str, url: str, title: str, concepts: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "resourceType": "CodeSystem",
        "id": cid,
        "url": url,
        "name": cid.replace("-", "_").title().replace("_", ""),
        "title": title,
        "status": "active",
        "content": "complete",
        "concept": [{"code": c, "display": d} for c, d in concepts],
    }


def local_code_systems() -> list[dict[str, Any]]:
    observation_codes = [
        (codes.O2_DEVICE_CODE, "Oxygen delivery device"),
        (codes.VASOPRESSORS_CODE, "Vasopressors running"),
        (codes.ICE_CODE, "ICE score"),
        (codes.CRS_GRADE_CODE, "CRS grade (ASTCT 2019)"),
        (codes.ICANS_GRADE_CODE, "ICANS grade (ASTCT 2019)"),
        (codes.ICAHT_EARLY_GRADE_CODE, "Early ICAHT grade (EHA/EBMT)"),
        (codes.ICAHT_LATE_GRADE_CODE, "Late ICAHT grade (EHA/EBMT)"),
        ("car-t-infusion", "CAR-T cell infusion"),
        *((f"{codes.RECORD_PREFIX}{k}", f"CAR-T Track {k} record") for k in codes.RECORD_KINDS),
    ]
    return [
        _code_system(
            "observation", codes.LOCAL_OBSERVATION, "CAR-T Track observation codes", observation_codes
        ),
        _code_system(
            "o2-device", codes.LOCAL_O2_DEVICE, "Oxygen delivery devices", [(d, d) for d in O2_DEVICES]
        ),
        _code_system(
            "drug",
            codes.LOCAL_DRUG,
            "Drugs of the clinical core",
            [(d, d) for d in sorted({*DRUGS, *VASOPRESSORS})],
        ),
        _code_system("ice-item", codes.LOCAL_ICE_ITEM, "ICE items", [(i, i) for i in codes.ICE_ITEMS]),
        _code_system(
            "toxicity",
            codes.LOCAL_TOXICITY,
            "CAR-T toxicities without an ICD-10-CM code of their own",
            list(codes.LOCAL_TOXICITY_CODES.items()),
        ),
    ]


def statement(base_url: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "id": "carttrack",
        "url": f"{base_url}metadata",
        "name": "CarTTrack",
        "title": "CAR-T Track FHIR interface",
        "status": "active",
        "date": RELEASED,
        "publisher": "CAR-T Track",
        "kind": "instance",
        "implementation": {"description": "CAR-T Track", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "contained": local_code_systems(),
        "rest": [
            {
                "mode": "server",
                "documentation": DOCUMENTATION,
                "security": {"description": SECURITY},
                # Only what is served: resources arrive in a transaction or batch Bundle posted to
                # the base, and leave in $everything and $export (no resource-level read or create).
                "resource": [
                    {
                        "type": "Patient",
                        "documentation": PATIENT_ONLY,
                        "operation": [
                            {
                                "name": "everything",
                                "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                            }
                        ],
                    },
                    {
                        "type": "Observation",
                        "documentation": IN_BUNDLES,
                        "supportedProfile": [codes.VITAL_SIGNS_PROFILE],
                        "conditionalCreate": True,
                    },
                    {
                        "type": "MedicationAdministration",
                        "documentation": IN_BUNDLES,
                        "conditionalCreate": True,
                    },
                    *({"type": t, "documentation": EXPORTED_ONLY} for t in EXPORTED_TYPES),
                ],
                "interaction": [{"code": "transaction"}, {"code": "batch"}],
                "operation": [
                    {
                        "name": "export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                        "documentation": (
                            "GET [base]/$export answers the cohort of the token's care team at once as "
                            "application/fhir+ndjson (no asynchronous kick-off and status polling)."
                        ),
                    }
                ],
            }
        ],
    }
