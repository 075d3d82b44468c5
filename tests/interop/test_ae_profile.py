"""The exported AdverseEvents against the AdverseEvent Clinical Research R4 backport's own rules
(``tests/interop/ae_profile.py``, independent of the export's code): every course the interop tests
build (the CRS course of ``course_builder``, the ICAHT/IEC-HS/LICATS course; the demo ward in
``test_round_trip_demo``), and the checker refusing an export with an extension taken away."""

from __future__ import annotations

import copy

import pytest

from . import ae_profile
from .course_builder import record_course
from .test_export_toxicities import toxic_course  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def _export(gateway, infusion) -> dict:
    return gateway.get(f"/fhir/Patient/{infusion.patient_id}/$everything").json()


def _event(bundle: dict, prefix: str) -> dict:
    (event,) = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "AdverseEvent" and e["resource"]["id"].startswith(prefix)
    ]
    return event


@pytest.fixture
def crs_bundle(gateway, infusion, nurse):
    record_course(infusion, nurse)
    return _export(gateway, infusion)


def test_the_crs_course_conforms(crs_bundle):
    event = _event(crs_bundle, "crs-")
    assert ae_profile.violations(crs_bundle) == []
    names = [e["url"].rsplit("/", 1)[1] for e in event["extension"]]
    assert names.count("mitigating-action") == 2 and "ae-grade" in names and "resolve-date" in names
    # Required but not recorded here: each says why (data-absent-reason); the outcome is resolved.
    assert ae_profile.stated_absent(crs_bundle) == [
        f"AdverseEvent/{event['id']}: seriousness absent (unsupported)",
        f"AdverseEvent/{event['id']}: study absent (not-applicable)",
    ]
    assert event["seriousness"]["text"].startswith("not recorded: seriousness (ICH E2A)")
    assert event["outcome"]["coding"][0]["code"] == "C49498"


def test_the_icaht_iec_hs_and_licats_course_conforms(gateway, toxic_course):  # noqa: F811
    infusion, _rows = toxic_course
    bundle = _export(gateway, infusion)
    assert ae_profile.violations(bundle) == []
    gaps = ae_profile.stated_absent(bundle)
    # no resolution defined for late ICAHT and LICATS: no outcome the profile's value set could give
    assert sorted(g.split(": ")[1] for g in gaps if "outcome" in g) == ["outcome absent (unsupported)"] * 2
    assert {g.split("/")[1].rsplit("-", 2)[0] for g in gaps if "outcome" in g} == {"icaht-late", "licats"}


@pytest.mark.parametrize("element", ["seriousness", "study", "outcome"])
def test_a_required_element_left_out_is_a_violation(crs_bundle, element):
    broken = copy.deepcopy(crs_bundle)
    event = _event(broken, "crs-")
    del event[element]
    assert ae_profile.violations(broken) == [
        f"AdverseEvent/{event['id']}: {element} absent: the profile requires it "
        "(say why with data-absent-reason)"
    ]


def test_a_reason_outside_data_absent_reason_is_a_violation(crs_bundle):
    broken = copy.deepcopy(crs_bundle)
    event = _event(broken, "crs-")
    event["seriousness"]["extension"][0]["valueCode"] = "not-recorded"
    assert ae_profile.violations(broken) == [
        f"AdverseEvent/{event['id']}: seriousness data-absent-reason 'not-recorded' "
        "is not a DataAbsentReason code"
    ]


def _without(bundle: dict, prefix: str, name: str) -> dict:
    broken = copy.deepcopy(bundle)
    event = _event(broken, prefix)
    event["extension"] = [e for e in event["extension"] if not e["url"].endswith(f"/{name}")]
    return broken


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ae-grade", "ae-grade missing on a graded toxicity (crs)"),
        ("resolve-date", "resolve-date: one valueDateTime exactly when the event is completed (resolved)"),
        ("suspect-entity", "suspect-entity missing: the product is the suspect entity"),
    ],
)
def test_an_extension_taken_away_is_a_violation(crs_bundle, name, expected):
    event = _event(crs_bundle, "crs-")
    assert ae_profile.violations(_without(crs_bundle, "crs-", name)) == [
        f"AdverseEvent/{event['id']}: {expected}"
    ]


def test_a_mitigating_action_must_be_an_item_pointing_at_an_administration_of_the_bundle(crs_bundle):
    broken = copy.deepcopy(crs_bundle)
    event = _event(broken, "crs-")
    actions = [e for e in event["extension"] if e["url"].endswith("/mitigating-action")]
    administration = actions[0]["extension"][0]["valueReference"]["reference"]
    broken["entry"] = [
        e
        for e in broken["entry"]
        if f"{e['resource']['resourceType']}/{e['resource']['id']}" != administration
    ]
    actions[1]["valueReference"] = actions[1].pop("extension")[0]["valueReference"]  # the flat form
    found = ae_profile.violations(broken)
    assert len(found) == 2
    assert "is no MedicationAdministration of the bundle" in found[0]
    assert "one 'item' sub-extension and no value of its own" in found[1]


def test_an_extension_url_must_be_the_profiles_exactly(crs_bundle):
    broken = copy.deepcopy(crs_bundle)
    event = _event(broken, "crs-")
    grade = next(e for e in event["extension"] if e["url"].endswith("/ae-grade"))
    grade["url"] = grade["url"].replace("ae-research-backport-ig", "ae-research-ig")  # the R5 IG's
    event["meta"]["profile"] = [
        "http://hl7.org/fhir/uv/ae-research-backport-ig/StructureDefinition/adverse-event-clinical-research"
    ]
    found = [f.split(": ", 1)[1] for f in ae_profile.violations(broken)]
    assert found == [
        "meta.profile does not name "
        "http://hl7.org/fhir/uv/ae-research-backport-ig/StructureDefinition/AdverseEvent-clinical-research",
        "extension 'http://hl7.org/fhir/uv/ae-research-ig/StructureDefinition/ae-grade' is not one the "
        "profile defines",
        "ae-grade missing on a graded toxicity (crs)",
    ]
