"""An import response's ``location`` (FHIR-7, docs/interop.md "Import"): ``<type>/<id>`` of the type
that was posted and the id the export gives that row, so the sender can match the exported resource to
what it sent; a conditional create's match answers the same."""

from __future__ import annotations

import pytest
from django.utils import timezone

from .conftest import load, post_bundle

pytestmark = pytest.mark.django_db

MAR = "urn:example:emar"
LAB = "urn:example:lis"


def _bundle(*entries: dict) -> dict:
    return {"resourceType": "Bundle", "type": "batch", "entry": list(entries)}


def _subject(mrn: str) -> dict:
    return {"identifier": {"system": "https://carttrack.org/fhir/sid/mrn", "value": mrn}}


def _tocilizumab(mrn: str, at: str, value: str = "MAR-1-toci", if_none_exist: str | None = None) -> dict:
    entry: dict = {
        "resource": {
            "resourceType": "MedicationAdministration",
            "identifier": [{"system": MAR, "value": value}],
            "status": "completed",
            "medicationCodeableConcept": {
                "coding": [{"system": "https://carttrack.org/fhir/CodeSystem/drug", "code": "tocilizumab"}]
            },
            "subject": _subject(mrn),
            "effectiveDateTime": at,
            "dosage": {
                "dose": {"value": 496, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}
            },
        },
        "request": {"method": "POST", "url": "MedicationAdministration"},
    }
    if if_none_exist:
        entry["request"]["ifNoneExist"] = if_none_exist
    return entry


def _temperature(mrn: str, at: str) -> dict:
    return {
        "resource": {
            "resourceType": "Observation",
            "identifier": [{"system": LAB, "value": "V-1-temp"}],
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "vital-signs",
                        }
                    ]
                }
            ],
            "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
            "subject": _subject(mrn),
            "effectiveDateTime": at,
            "valueQuantity": {
                "value": 38.4,
                "unit": "Cel",
                "system": "http://unitsofmeasure.org",
                "code": "Cel",
            },
        },
        "request": {"method": "POST", "url": "Observation"},
    }


def _exported(gateway, infusion) -> set[str]:
    bundle = gateway.get(f"/fhir/Patient/{infusion.patient_id}/$everything").json()
    return {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]}


def test_the_location_names_the_posted_type_and_the_exported_id(gateway, infusion):
    mrn, at = infusion.patient.mrn, timezone.now().isoformat()
    body = post_bundle(gateway, _bundle(_tocilizumab(mrn, at), _temperature(mrn, at))).json()
    given, temperature = (e["response"] for e in body["entry"])
    assert given["status"] == temperature["status"] == "201 Created"
    assert given["location"].startswith("MedicationAdministration/")
    assert temperature["location"].startswith("Observation/")
    # the sender finds what it posted in the export under the location it was answered
    exported = _exported(gateway, infusion)
    assert {given["location"], temperature["location"]} <= exported
    # the same bundle again: 200 OK, the same locations
    again = post_bundle(gateway, _bundle(_tocilizumab(mrn, at), _temperature(mrn, at))).json()
    assert [e["response"]["location"] for e in again["entry"]] == [given["location"], temperature["location"]]


def test_an_if_none_exist_match_answers_the_stored_resources_type(gateway, infusion):
    mrn, at = infusion.patient.mrn, timezone.now().isoformat()
    first = post_bundle(gateway, _bundle(_tocilizumab(mrn, at))).json()["entry"][0]["response"]
    # the eMAR sends the same dose under a new administration id, conditional on the first one
    match = _tocilizumab(mrn, at, value="MAR-2-toci", if_none_exist=f"identifier={MAR}|MAR-1-toci")
    answer = post_bundle(gateway, _bundle(match)).json()["entry"][0]["response"]
    assert answer["status"] == "200 OK"
    assert answer["location"] == first["location"]
    assert answer["location"].startswith("MedicationAdministration/")
    assert answer["location"] in _exported(gateway, infusion)


def test_a_vasopressor_administration_answers_the_observation_it_is_stored_and_exported_as(gateway, infusion):
    """CRS-14: a running vasopressor is part of the vitals, exported as the ``vasopressors`` Observation."""
    body = post_bundle(gateway, load("febrile_hypotensive_norepinephrine", mrn=infusion.patient.mrn)).json()
    location = body["entry"][-1]["response"]["location"]
    assert location.startswith("Observation/") and location.endswith("-vasopressors")
    assert location in _exported(gateway, infusion)
