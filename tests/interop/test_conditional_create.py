"""Conditional create (FHIR-7, E-1): ``request.ifNoneExist`` of a batch or transaction entry is a
search by identifier, as FHIR R4 specifies: no match creates, one match under another identifier
answers 200 OK with the stored resource's location and creates nothing, a match of the entry's own
identifier is processed as without the condition (a changed final is refused, never dropped), more
than one is 412; any other search is refused naming the entry and what is supported, never ignored."""

from __future__ import annotations

import copy

import pytest

from monitoring.models import Observation

from .conftest import load, post_bundle

pytestmark = pytest.mark.django_db

LAB = "urn:oid:1.2.840.114350.1.13.0.1.7.2.798268"


def _ferritin(infusion, *, value=None, system=None, if_none_exist=None, bundle_type="batch"):
    bundle = load("lab_ferritin_final", mrn=infusion.patient.mrn)
    bundle["type"] = bundle_type
    entry = bundle["entry"][0]
    if value is not None:
        entry["resource"]["valueQuantity"]["value"] = value
    if system is not None:
        entry["resource"]["identifier"][0]["system"] = system
        entry["request"]["ifNoneExist"] = f"identifier={system}|L-3-ferritin"  # as engines send it
    if if_none_exist is not None:
        entry["request"]["ifNoneExist"] = if_none_exist
    return bundle


def test_a_resend_under_its_own_identifier_is_200_and_other_values_are_refused_not_dropped(gateway, infusion):
    bundle = _ferritin(infusion)
    first = post_bundle(gateway, copy.deepcopy(bundle)).json()["entry"][0]["response"]
    assert first["status"] == "201 Created"
    stored = [o.payload for o in Observation.objects.filter(infusion=infusion)]
    again = post_bundle(gateway, copy.deepcopy(bundle)).json()["entry"][0]["response"]
    assert again["status"] == "200 OK" and again["location"] == first["location"]
    # The engine re-sends the result with another value, status final, as a conditional create: a
    # changed result is a conflict the sender must see, never "200, nothing changed".
    bundle["entry"][0]["resource"]["valueQuantity"]["value"] = 900
    changed = post_bundle(gateway, bundle).json()["entry"][0]["response"]
    assert changed["status"] == "422 Unprocessable Entity"
    text = changed["outcome"]["issue"][0]["diagnostics"]
    assert "L-3-ferritin is already stored with other values" in text and "'corrected'" in text
    assert [o.payload for o in Observation.objects.filter(infusion=infusion)] == stored


def test_the_condition_may_name_another_identifier_and_the_bare_value(gateway, infusion):
    post_bundle(gateway, _ferritin(infusion))
    # the same result under the lab's second identifier system: ifNoneExist names the first one
    other = _ferritin(infusion, system="urn:example:lis", if_none_exist="identifier=L-3-ferritin")
    response = post_bundle(gateway, other).json()["entry"][0]["response"]
    assert response["status"] == "200 OK"
    assert Observation.objects.filter(infusion=infusion).count() == 1
    # no match: created
    fresh = _ferritin(infusion, system="urn:example:lis", if_none_exist="identifier=urn:example:lis|L-9")
    assert post_bundle(gateway, fresh).json()["entry"][0]["response"]["status"] == "201 Created"


def test_more_than_one_match_is_412_and_stops_a_transaction(gateway, infusion):
    post_bundle(gateway, _ferritin(infusion))
    post_bundle(gateway, _ferritin(infusion, system="urn:example:lis", value=1300))
    assert Observation.objects.filter(infusion=infusion).count() == 2
    ambiguous = "identifier=L-3-ferritin"  # both systems carry this value
    batch = post_bundle(gateway, _ferritin(infusion, system="urn:example:x", if_none_exist=ambiguous))
    entry = batch.json()["entry"][0]["response"]
    assert entry["status"] == "412 Precondition Failed"
    issue = entry["outcome"]["issue"][0]
    assert issue["code"] == "multiple-matches" and issue["diagnostics"].startswith("entry[0] Observation:")
    transaction = _ferritin(infusion, system="urn:example:y", bundle_type="transaction")  # would create
    transaction["entry"] += _ferritin(infusion, system="urn:example:x", if_none_exist=ambiguous)["entry"]
    answer = post_bundle(gateway, transaction)
    assert answer.status_code == 412
    assert answer.json()["issue"][0]["diagnostics"].startswith("entry[1] Observation:")
    assert Observation.objects.filter(infusion=infusion).count() == 2  # nothing of it stored


@pytest.mark.parametrize(
    "query",
    [
        "code=http://loinc.org|2276-4",
        "identifier=a|1&identifier=b|2",
        "identifier=",
        "identifier=a|1&patient=Patient/1",
        5,
        ["identifier=a|1"],
    ],
)
def test_a_search_other_than_one_identifier_is_refused_not_ignored(gateway, infusion, query):
    body = post_bundle(gateway, _ferritin(infusion, if_none_exist=query)).json()
    response = body["entry"][0]["response"]
    assert response["status"] == "422 Unprocessable Entity"
    issue = response["outcome"]["issue"][0]
    assert issue["code"] == "not-supported"
    assert issue["diagnostics"] == (
        f"entry[0] Observation: request.ifNoneExist {query!r} is not supported; supported: "
        "identifier=system|value (or identifier=value), one identifier"
    )
    assert issue["expression"] == ["Bundle.entry[0].request.ifNoneExist"]
    assert not Observation.objects.exists()
