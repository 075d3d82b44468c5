"""FHIR R4 export (issue 15 item 2; FHIR-1, FHIR-6, FHIR-8): a course as a collection Bundle that
independent validators accept (HL7's FHIR R4 JSON schema through ``jsonschema``, and
``fhir.resources``' pydantic R4B models; not the library that wrote it), with the AdverseEvent
backport elements, grade Observations with derivedFrom, scoped and access-logged reads, the cohort
in bulk, and the CapabilityStatement."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B import get_fhir_model_class
from rest_framework.test import APIClient

from accounts.tokens import issue_api_token
from audit.models import AccessLog
from tests.api.conftest import client_for

from . import r4_schema
from .course_builder import record_course

pytestmark = pytest.mark.django_db


def validate_r4(resource: dict) -> None:
    """Raises if ``resource`` (a Bundle: and each of its entries) is not valid FHIR R4: HL7's R4 JSON
    schema (FHIR-1), naming each resource's type, id and error; then the pydantic R4B models, a second
    independent reading (stricter on some primitives, e.g. it found ids with underscores)."""
    r4_schema.validate(resource)
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def by_type(bundle: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for entry in bundle["entry"]:
        found.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    return found


@pytest.fixture
def course(infusion, nurse):
    record_course(infusion, nurse)
    return infusion


def test_the_everything_bundle_validates_and_carries_the_episode(gateway, course):
    response = gateway.get(f"/fhir/Patient/{course.patient_id}/$everything")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/fhir+json"
    bundle = response.json()
    validate_r4(bundle)
    for entry in bundle["entry"]:
        validate_r4(entry["resource"])
    resources = by_type(bundle)
    # every resource type the export writes is in this course, so each was validated above
    assert set(resources) == {
        "Patient",
        "Medication",
        "Procedure",
        "Observation",
        "MedicationAdministration",
        "Condition",
        "AdverseEvent",
    }
    assert resources["Patient"][0]["identifier"] == [
        {"system": "https://carttrack.org/fhir/sid/mrn", "value": course.patient.mrn}
    ]
    assert "name" not in resources["Patient"][0]  # only the identifiers the site allows
    (procedure,) = resources["Procedure"]
    assert procedure["usedReference"] == [{"reference": f"Medication/product-{course.pk}"}]
    (crs_event,) = [a for a in resources["AdverseEvent"] if a["id"].startswith("crs-")]
    assert crs_event["meta"]["profile"] == [
        "http://hl7.org/fhir/uv/ae-research-backport-ig/StructureDefinition/AdverseEvent-clinical-research"
    ]
    codes = [c["code"] for c in crs_event["event"]["coding"]]
    assert codes == ["D89.833", "T80.82"]  # grade 3, code first T80.82
    ext = {e["url"].rsplit("/", 1)[-1]: e for e in crs_event["extension"] if "mitigating" not in e["url"]}
    grade = ext["ae-grade"]["valueCodeableConcept"]
    assert grade["coding"][0]["code"] == "C41340" and "ASTCT 2019" in grade["text"]
    assert "resolve-date" in ext
    mitigating = [
        e["extension"][0]["valueReference"]["reference"]
        for e in crs_event["extension"]
        if "mitigating" in e["url"]
    ]
    administrations = {m["id"]: m for m in resources["MedicationAdministration"]}
    assert sorted(
        administrations[r.split("/")[1]]["medicationCodeableConcept"]["coding"][0]["code"] for r in mitigating
    ) == ["dexamethasone", "tocilizumab"]
    assert ext["suspect-entity"]["extension"][0] == {
        "url": "instance",
        "valueReference": {"reference": f"Medication/product-{course.pk}"},
    }
    condition = next(c for c in resources["Condition"] if c["id"] == crs_event["id"])
    assert condition["clinicalStatus"]["coding"][0]["code"] == "resolved"
    grades = [o for o in resources["Observation"] if o["code"]["coding"][0]["code"] == "crs-grade"]
    assert [g.get("valueInteger") for g in grades] == [0, 1, 2, 3, 0]
    ids = {o["id"] for o in resources["Observation"]}
    fever = next(g for g in grades if g.get("valueInteger") == 1)
    assert any(ref["reference"].endswith("-temp-c") for ref in fever["derivedFrom"])
    assert all(
        ref["reference"].split("/")[1] in ids | set(administrations)
        for g in grades
        for ref in g.get("derivedFrom", [])
    )
    alt = next(o for o in resources["Observation"] if o["code"]["coding"][0]["code"] == "1742-6")
    assert alt["referenceRange"] == [
        {"high": {"value": 45, "unit": "U/L", "system": "http://unitsofmeasure.org", "code": "U/L"}}
    ]


def test_the_r4_validator_names_each_resource_and_what_r4_does_not_allow():
    """The R4 (4.0.1) schema is not the R4B models: a resource type R4B added is refused, and each
    error names the entry's resource type and id."""
    r4b_only = {"resourceType": "ClinicalUseDefinition", "id": "x", "type": "indication"}
    get_fhir_model_class("ClinicalUseDefinition").model_validate(r4b_only)  # valid R4B
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": r4b_only},
            {"resource": {"resourceType": "Observation", "id": "o-1", "status": "done", "code": {}}},
            {"resource": {"resourceType": "Patient", "id": "p_1", "birthDate": "1962-5-1"}},
        ],
    }
    found = r4_schema.errors(bundle)
    assert [m.split(" does not match ")[0] for m in found] == [
        "ClinicalUseDefinition/x: resourceType: 'ClinicalUseDefinition' is not a FHIR R4 resource type",
        "Observation/o-1: status: 'done' is not one of "
        "['registered', 'preliminary', 'final', 'amended', 'corrected', 'cancelled', 'entered-in-error', "
        "'unknown']",
        "Patient/p_1: birthDate: '1962-5-1'",
        "Patient/p_1: id: 'p_1'",
    ]
    with pytest.raises(AssertionError, match="Observation/o-1: status"):
        validate_r4(bundle)


def test_an_export_is_access_logged_and_scoped(gateway, course, other_patient):
    gateway.get(f"/fhir/Patient/{course.patient_id}/$everything")
    row = AccessLog.objects.get(patient_id=course.patient_id)
    assert row.via_api_token and row.username == "ward7-gateway"
    missing = gateway.get(f"/fhir/Patient/{other_patient.pk}/$everything")
    assert missing.status_code == 404 and missing.json()["resourceType"] == "OperationOutcome"


def test_a_token_without_fhir_read_cannot_export(gateway_user, team, course):
    _token, key = issue_api_token(name="writer", user=gateway_user, team=team, scopes=["fhir:write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get(f"/fhir/Patient/{course.patient_id}/$everything").status_code == 403


def test_the_cohort_exports_in_bulk_as_valid_ndjson(gateway, course, coordinator, nurse):
    response = gateway.get("/fhir/$export")
    assert response.status_code == 200 and response["Content-Type"] == "application/fhir+ndjson"
    lines = [json.loads(line) for line in response.content.decode().splitlines()]
    for resource in lines:
        validate_r4(resource)
    assert {r["resourceType"] for r in lines} >= {
        "Patient",
        "Procedure",
        "Observation",
        "AdverseEvent",
        "Condition",
    }
    assert AccessLog.objects.filter(patient_id=course.patient_id, view_name="api-fhir-export").exists()
    assert client_for(coordinator).get("/fhir/$export").status_code == 200
    assert client_for(nurse).get("/fhir/$export").status_code == 403


def test_the_capability_statement_validates_and_publishes_the_local_codes():
    response = APIClient().get("/fhir/metadata")
    assert response.status_code == 200
    statement = response.json()
    validate_r4(statement)
    assert statement["fhirVersion"] == "4.0.1"
    contained = {c["url"]: c for c in statement["contained"]}
    assert {c["code"] for c in contained["https://carttrack.org/fhir/CodeSystem/o2-device"]["concept"]} >= {
        "room_air",
        "hfnc",
        "invasive_mv",
    }
    assert [c["code"] for c in contained["https://carttrack.org/fhir/CodeSystem/toxicity"]["concept"]] == [
        "icaht-early",
        "icaht-late",
        "iec-hs",
        "licats",
    ]
    assert [i["code"] for i in statement["rest"][0]["interaction"]] == ["transaction", "batch"]
    conditional = {r["type"] for r in statement["rest"][0]["resource"] if r.get("conditionalCreate")}
    assert conditional == {"Observation", "MedicationAdministration"}  # test_conditional_create


#: The URL of each FHIR RESTful interaction on a resource type (FHIR R4 http.html).
INTERACTION_URL = {
    "read": ("get", "/fhir/{type}/1"),
    "vread": ("get", "/fhir/{type}/1/_history/1"),
    "update": ("put", "/fhir/{type}/1"),
    "patch": ("patch", "/fhir/{type}/1"),
    "delete": ("delete", "/fhir/{type}/1"),
    "history-instance": ("get", "/fhir/{type}/1/_history"),
    "history-type": ("get", "/fhir/{type}/_history"),
    "create": ("post", "/fhir/{type}"),
    "search-type": ("get", "/fhir/{type}"),
}


def test_every_interaction_the_capability_statement_declares_is_served(gateway, course):
    """A client that trusts /fhir/metadata finds every declared interaction and operation (no 404)."""
    rest = APIClient().get("/fhir/metadata").json()["rest"][0]
    declared = []
    for resource in rest["resource"]:
        for interaction in resource.get("interaction", []):
            method, url = INTERACTION_URL[interaction["code"]]
            declared.append((method, url.format(type=resource["type"])))
        for operation in resource.get("operation", []):
            assert resource["type"] == "Patient" and operation["name"] == "everything"
            declared.append(("get", f"/fhir/Patient/{course.patient_id}/$everything"))
    declared += [("get", f"/fhir/${operation['name']}") for operation in rest["operation"]]
    for method, url in declared:
        answer = getattr(gateway, method)(url)
        assert answer.status_code != 404, (method, url)
        assert answer.status_code < 400, (method, url, answer.content[:300])


#: Reference target types of FHIR R4 (4.0.1) for the references the export writes; neither writer
#: (fhirclient) nor the pydantic models check them (R4 has no BiologicallyDerivedProduct here).
R4_TARGETS = {
    ("Procedure", "usedReference"): {"Device", "Medication", "Substance"},
    ("Procedure", "subject"): {"Patient", "Group"},
    # the backport's suspect-entity extension: instance is Medication (or BiologicallyDerivedProduct)
    ("AdverseEvent", "extension.extension.valueReference"): {
        "Medication",
        "BiologicallyDerivedProduct",
        "MedicationAdministration",  # mitigating-action item
    },
    ("AdverseEvent", "extension.valueReference"): {"Condition"},  # resultingEffect
    ("Observation", "derivedFrom"): {
        "DocumentReference",
        "ImagingStudy",
        "Media",
        "QuestionnaireResponse",
        "Observation",
        "MolecularSequence",
    },
}


def _references(value, path: str):
    for step in path.split("."):
        items = value if isinstance(value, list) else [value]
        value = [i[step] for i in items if isinstance(i, dict) and step in i]
        value = [x for v in value for x in (v if isinstance(v, list) else [v])]
    return [v["reference"] for v in value if "reference" in v]


def test_every_reference_points_at_a_type_r4_allows_there(gateway, course):
    bundle = gateway.get(f"/fhir/Patient/{course.patient_id}/$everything").json()
    checked = 0
    for entry in bundle["entry"]:
        resource = entry["resource"]
        for (rtype, path), allowed in R4_TARGETS.items():
            if resource["resourceType"] != rtype:
                continue
            for reference in _references(resource, path):
                assert reference.split("/")[0] in allowed, (rtype, path, reference)
                checked += 1
    assert checked > 10
