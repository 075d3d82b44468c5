"""FHIR-6 beyond CRS and ICANS: a lupus-nephritis course with early and late ICAHT, a positive
IEC-HS screen and a LICATS episode a physician marked (D-5), exported the way the EHR and the
registry receive it: each episode a Condition; the graded or confirmed ones an AdverseEvent on the
clinical research backport with its grade, resolution, G-CSF as mitigating action and the product as
suspect entity; the positive screen a provisional Condition only (C-3); all valid FHIR R4."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tokens import issue_api_token
from carttrack.followup.sledai import SLEDAI_CODES
from interop import course
from monitoring.models import Indication, Observation, Patient
from tests import factories

from .conftest import post_bundle
from .course_builder import record_course
from .test_export import by_type, validate_r4

pytestmark = pytest.mark.django_db

TOXICITY = "https://carttrack.org/fhir/CodeSystem/toxicity"
NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"

#: (hours after infusion, kind, payload)
COURSE = (
    (-48, "lab", {"anc_per_uL": 3000, "creatinine_mg_dL": 0.8, "cd19_per_uL": 60}),
    (24, "lab", {"anc_per_uL": 400}),  # early ICAHT: ANC ≤ 500 from day 1 ...
    (48, "lab", {"anc_per_uL": 300, "cd19_per_uL": 0.5}),  # ... B-cell aplasia
    (60, "medication", {"drug": "filgrastim", "dose_mg": 0.3, "route": "SC"}),
    (72, "lab", {"anc_per_uL": 450}),  # ... to day 3: grade 1
    (96, "lab", {"anc_per_uL": 800}),  # recovery: day 4, 5 and 6 above 500 (ICAHT-5)
    (120, "lab", {"anc_per_uL": 1200, "creatinine_mg_dL": 1.4}),  # LICATS screen: kidney, +75 %
    (144, "lab", {"anc_per_uL": 1600}),
    (170, "lab", {"ferritin_ng_mL": 800}),
    (200, "lab", {"ferritin_ng_mL": 2000, "fibrinogen_mg_dL": 120}),  # IEC-HS screen positive
    (240, "sledai", {"items": {c: c == "rash" for c in SLEDAI_CODES}, "pga": 1.0, "licats": ["rash"]}),
    (35 * 24, "lab", {"anc_per_uL": 1200}),  # late ICAHT: two values ≤ 1500 after day 30 → grade 1
    (40 * 24, "lab", {"anc_per_uL": 1100}),
)


@pytest.fixture
def toxic_course(team, physician):
    patient = factories.make_patient(team, indication=Indication.LUPUS_NEPHRITIS, sex="F")
    infusion = factories.make_infusion(patient, infused_at=timezone.now() - timedelta(days=45))
    return infusion, record_course(infusion, physician, course=COURSE, after_infusion=True)


def _at(infusion, hours: float) -> str:
    return (infusion.infused_at + timedelta(hours=hours)).isoformat()


def _extensions(event: dict, name: str) -> list[dict]:
    return [e for e in event.get("extension", []) if e["url"].endswith(f"/{name}")]


def test_icaht_iec_hs_and_licats_episodes_reach_the_ehr_as_conditions_and_adverse_events(
    gateway, toxic_course
):
    infusion, rows = toxic_course
    bundle = gateway.get(f"/fhir/Patient/{infusion.patient_id}/$everything").json()
    validate_r4(bundle)  # the R4 schema, entry by entry, and the R4B models
    resources = by_type(bundle)
    conditions = {c["id"].rsplit("-", 2)[0]: c for c in resources["Condition"]}
    events = {a["id"].rsplit("-", 2)[0]: a for a in resources["AdverseEvent"]}
    assert set(conditions) == {"icaht-early", "icaht-late", "iec-hs", "licats"}  # no CRS, no ICANS
    assert set(events) == {"icaht-early", "icaht-late", "licats"}  # the screen is no adverse event
    product = {"url": "instance", "valueReference": {"reference": f"Medication/product-{infusion.pk}"}}
    codes = {k: [(c["system"], c["code"]) for c in v["code"]["coding"]] for k, v in conditions.items()}
    for name, coded in codes.items():  # no ICD-10-CM code of their own: the local code, then T80.82
        assert coded == [(TOXICITY, name), ("http://hl7.org/fhir/sid/icd-10-cm", "T80.82")]

    early, early_event = conditions["icaht-early"], events["icaht-early"]
    assert early["onsetDateTime"] == _at(infusion, 24)  # the first ANC ≤ 500/µL
    assert early["abatementDateTime"] == _at(infusion, 96)  # the first day of the stable recovery
    assert early["clinicalStatus"]["coding"][0]["code"] == "resolved"
    assert early["verificationStatus"]["coding"][0]["code"] == "confirmed"
    evidence = {d["reference"] for d in early["evidence"][0]["detail"]}
    assert evidence == {f"Observation/{rows[h].pk}-anc-per-uL" for h in (24, 48, 72, 96)}
    (grade,) = _extensions(early_event, "ae-grade")
    concept = grade["valueCodeableConcept"]
    assert concept["coding"][0]["system"] == NCIT and concept["coding"][0]["code"] == "C41338"  # grade 1
    assert concept["text"].startswith("EHA/EBMT ICAHT grading (Rejeski 2023) grade 1 (")
    assert _extensions(early_event, "resolve-date")[0]["valueDateTime"] == _at(infusion, 96)
    assert [e["extension"] for e in _extensions(early_event, "mitigating-action")] == [
        [{"url": "item", "valueReference": {"reference": f"MedicationAdministration/{rows[60].pk}-med"}}]
    ]  # the G-CSF
    assert _extensions(early_event, "suspect-entity")[0]["extension"][0] == product
    assert _extensions(early_event, "resultingEffect") == [
        {
            "url": "http://hl7.org/fhir/uv/ae-research-backport-ig/StructureDefinition/resultingEffect",
            "valueReference": {"reference": f"Condition/{early['id']}"},
        }
    ]
    assert early_event["outcome"]["coding"][0]["code"] == "C49498"  # Recovered/Resolved (NCIt)
    assert early_event["modifierExtension"][0]["valueCode"] == "completed"

    late, late_event = conditions["icaht-late"], events["icaht-late"]
    assert late["onsetDateTime"] == _at(infusion, 35 * 24)
    assert "abatementDateTime" not in late and "clinicalStatus" not in late  # graded by nadir
    (grade,) = _extensions(late_event, "ae-grade")
    assert grade["valueCodeableConcept"]["coding"][0]["code"] == "C41338"
    assert "provisional: its window is open" in grade["valueCodeableConcept"]["text"]  # day 45 < 100
    assert not _extensions(late_event, "resolve-date") and "coding" not in late_event["outcome"]
    assert late_event["outcome"]["extension"][0]["valueCode"] == "unsupported"  # no resolution defined

    iec = conditions["iec-hs"]
    assert iec["verificationStatus"]["coding"][0]["code"] == "provisional"
    assert iec["onsetDateTime"] == _at(infusion, 200)  # the later ferritin
    assert "screen positive" in iec["code"]["text"]
    assert {d["reference"] for d in iec["evidence"][0]["detail"]} >= {
        f"Observation/{rows[200].pk}-ferritin-ng-mL"
    }

    licats, licats_event = conditions["licats"], events["licats"]
    assert licats["verificationStatus"]["coding"][0]["code"] == "confirmed"  # the physician's mark
    assert licats["onsetDateTime"] == _at(infusion, 120)  # the creatinine rise the screen found
    details = {d["reference"] for d in licats["evidence"][0]["detail"]}
    assert f"Observation/{rows[240].pk}-record-sledai" in details
    assert f"Observation/{rows[120].pk}-creatinine-mg-dL" in details
    assert not _extensions(licats_event, "ae-grade")  # LICATS is not graded (LICATS-3)
    assert _extensions(licats_event, "suspect-entity")[0]["extension"][0] == product


def test_an_unmarked_licats_screen_is_a_provisional_condition_only(gateway, team, physician):
    patient = factories.make_patient(team, indication=Indication.LUPUS_NEPHRITIS, sex="F")
    infusion = factories.make_infusion(patient, infused_at=timezone.now() - timedelta(days=10))
    record_course(infusion, physician, course=COURSE[:7], after_infusion=True)
    resources = by_type(gateway.get(f"/fhir/Patient/{patient.pk}/$everything").json())
    (licats,) = [c for c in resources["Condition"] if c["id"].startswith("licats-")]
    assert licats["verificationStatus"]["coding"][0]["code"] == "provisional"
    assert not [a for a in resources["AdverseEvent"] if a["id"].startswith("licats-")]
    (early,) = [a for a in resources["AdverseEvent"] if a["id"].startswith("icaht-early-")]
    grade = _extensions(early, "ae-grade")[0]["valueCodeableConcept"]["text"]
    assert "provisional: its window is open" in grade  # day 10 of the early window (ICAHT-8)


def _episodes(infusion) -> list[tuple]:
    points = course.timeline(infusion)
    return [
        (e.syndrome, e.onset, e.resolved, e.maximum, e.confirmed)
        for s in course.TOXICITIES
        for e in course.episodes(points, s)
    ]


def test_the_round_trip_reproduces_the_episodes_but_not_a_physicians_mark(gateway, toxic_course):
    """Exported and imported into an empty site (issue 15 item 4): the same ICAHT, IEC-HS and LICATS
    episodes; the physician's LICATS mark (D-5) is refused to the integration's account, which never
    diagnoses, so the LICATS episode arrives as the screen found it (provisional)."""
    infusion, rows = toxic_course
    before = _episodes(infusion)
    assert [e[0] for e in before] == ["icaht-early", "icaht-late", "iec-hs", "licats"]
    bundle = gateway.get(f"/fhir/Patient/{infusion.patient_id}/$everything").json()
    mrn = infusion.patient.mrn
    Patient.objects.filter(pk=infusion.patient_id).update(mrn=f"OLD-{mrn}")
    site = factories.make_team("Empty site")
    twin = factories.make_infusion(
        factories.make_patient(site, mrn=mrn, indication=Indication.LUPUS_NEPHRITIS, sex="F"),
        infusion.product,
        infused_at=infusion.infused_at,
    )
    account = factories.make_user(Role.NURSE, site, username="site-b-gateway")
    _token, key = issue_api_token(name="Site B EHR", user=account, team=site, scopes=["fhir:write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    refused, derived = [], []
    entries = bundle["entry"]
    for start in range(0, len(entries), 50):
        chunk = {"resourceType": "Bundle", "type": "batch", "entry": entries[start : start + 50]}
        answered = post_bundle(client, chunk).json()["entry"]
        refused += [e["response"] for e in answered if not e["response"]["status"].startswith("20")]
        derived += [
            a["response"]
            for e, a in zip(chunk["entry"], answered, strict=True)
            if e["resource"]["resourceType"] == "Observation"
            and e["resource"]["code"]["coding"][0]["code"] in ("icaht-early-grade", "icaht-late-grade")
        ]
    assert len(derived) == 3 and all(d["status"] == "200 OK" and "not imported" in str(d) for d in derived)
    (mark,) = refused
    assert mark["status"] == "403 Forbidden"  # not a silent drop: the sender is told why and what to do
    text = mark["outcome"]["issue"][0]["diagnostics"]
    assert "Only a physician can mark SLEDAI-2K descriptors" in text
    assert "without the mark its descriptors would count in SLEDAI-2K" in text
    assert "A physician of this site records the visit and the mark" in text
    # nor is the visit stored without its mark: the rash would score as lupus activity (D-5)
    assert not Observation.objects.filter(infusion=twin, kind="sledai").exists()
    after = _episodes(twin)
    assert after[:3] == before[:3]
    assert after[3] == (*before[3][:4], False)  # onset from the screen's creatinine rise; provisional
    assert rows[240].payload["licats"] == ["rash"]


def _grades(resources: dict, code: str) -> list[dict]:
    return [o for o in resources["Observation"] if o["code"]["coding"][0]["code"] == code]


def test_icaht_grades_over_time_are_observations_derived_from_the_anc_of_their_window(gateway, toxic_course):
    """As for CRS and ICANS: one grade Observation per change, ``derivedFrom`` the ANC Observations of
    the grade's window (ICAHT-4, ICAHT-10), preliminary while the window is open (ICAHT-8)."""
    infusion, rows = toxic_course
    bundle = gateway.get(f"/fhir/Patient/{infusion.patient_id}/$everything").json()
    validate_r4(bundle)
    resources = by_type(bundle)
    anc = {h: f"Observation/{rows[h].pk}-anc-per-uL" for h in rows if "anc_per_uL" in rows[h].payload}

    early = _grades(resources, "icaht-early-grade")
    assert [(g["effectiveDateTime"], g.get("valueInteger"), g["status"]) for g in early] == [
        (_at(infusion, 24), 1, "preliminary"),  # the first ANC ≤ 500/µL, day 1 of the window
        (_at(infusion, 35 * 24), 1, "final"),  # the first point after day 30 closes the window
    ]
    assert [r["reference"] for r in early[0]["derivedFrom"]] == [anc[24]]  # not the day −2 ANC
    closing = [r["reference"] for r in early[1]["derivedFrom"]]
    assert closing == [anc[h] for h in (24, 48, 72, 96, 120, 144)]  # the window's ANC, day 0 to 30
    assert early[0]["code"]["text"] == (
        "Early ICAHT grade (EHA/EBMT ICAHT grading (Rejeski 2023), provisional: its window is open)"
    )
    assert early[0]["code"]["coding"][0]["system"] == "https://carttrack.org/fhir/CodeSystem/observation"

    (late,) = _grades(resources, "icaht-late-grade")
    assert (late["effectiveDateTime"], late["valueInteger"], late["status"]) == (
        _at(infusion, 35 * 24),
        1,
        "preliminary",  # day 45 of 100
    )
    assert [r["reference"] for r in late["derivedFrom"]] == [anc[35 * 24]]
    ids = {f"{r['resourceType']}/{r['id']}" for e in bundle["entry"] for r in [e["resource"]]}
    assert all(r["reference"] in ids for g in (*early, late) for r in g["derivedFrom"])
