"""FHIR R4 import (issue 15 item 1; FHIR-2…FHIR-7, E-1, E-2): the fixtures an interface engine sends
are stored in the core's vocabulary, graded like a nurse's entry, idempotent by identifier,
corrected through the same services, and refused with an OperationOutcome naming what is wrong."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from interop.models import ImportedResource
from monitoring.models import GradeEvaluation, Observation, ObservationSource, ObservationStatus

from .conftest import load, post_bundle

pytestmark = pytest.mark.django_db


def payloads(infusion) -> list[dict]:
    return [o.payload for o in Observation.objects.filter(infusion=infusion).order_by("id")]


def test_one_observation_per_vital_is_one_record_each_graded_and_sourced(gateway, infusion, team):
    response = post_bundle(gateway, load("vitals_one_per_observation", mrn=infusion.patient.mrn))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/fhir+json"
    body = response.json()
    assert body["type"] == "batch-response"
    assert [e["response"]["status"] for e in body["entry"]] == ["201 Created"] * 5
    assert payloads(infusion) == [
        {"temp_c": 37.2},
        {"hr": 88},
        {"rr": 16},
        {"spo2": 97},
        {"o2_device": "room_air"},
    ]
    rows = Observation.objects.filter(infusion=infusion)
    assert {r.source for r in rows} == {ObservationSource.DEVICE}
    assert {r.recorded_by.username for r in rows} == {"ward7-gateway"}
    assert GradeEvaluation.objects.filter(infusion=infusion).count() == 5  # each graded, as a nurse's entry
    sources = set(ImportedResource.objects.values_list("source_system", flat=True))
    assert sources == {"urn:example:ward7-monitor-gateway"}
    assert ImportedResource.objects.get(identifier_value="V-1-hr").observation.payload == {"hr": 88}


def test_blood_pressure_panel_becomes_one_vitals_record(gateway, infusion):
    post_bundle(gateway, load("bp_panel", mrn=infusion.patient.mrn))
    assert payloads(infusion) == [{"sbp": 118, "dbp": 72}]


def test_fahrenheit_goes_to_the_core_which_converts_it_exactly(gateway, infusion):
    post_bundle(gateway, load("temperature_fahrenheit", mrn=infusion.patient.mrn))
    assert payloads(infusion) == [{"temp_f": 101.3}]
    evaluation = GradeEvaluation.objects.get(infusion=infusion)
    assert evaluation.crs_grade == 1  # 101.3 °F = 38.5 °C: fever


def test_crp_in_mg_dl_and_creatinine_in_umol_l_keep_their_unit_for_the_core(gateway, infusion):
    post_bundle(gateway, load("crp_mg_dl", mrn=infusion.patient.mrn))
    post_bundle(gateway, load("creatinine_umol_l", mrn=infusion.patient.mrn))
    assert payloads(infusion) == [{"crp_mg_dL": 4.2}, {"creatinine_umol_L": 97.2}]


def test_ucum_converts_a_unit_the_core_does_not_take_as_written(gateway, infusion):
    bundle = load("crp_mg_dl", mrn=infusion.patient.mrn)
    quantity = bundle["entry"][0]["resource"]["valueQuantity"]
    quantity.update(value=42, unit="ug/mL", code="ug/mL")  # µg/mL is mg/L
    del bundle["entry"][0]["resource"]["referenceRange"]
    post_bundle(gateway, bundle)
    assert payloads(infusion) == [{"crp_mg_L": 42.0}]


def test_a_duplicate_bundle_changes_nothing(gateway, infusion):
    bundle = load("vitals_one_per_observation", mrn=infusion.patient.mrn)
    post_bundle(gateway, bundle)
    again = post_bundle(gateway, bundle).json()
    assert [e["response"]["status"] for e in again["entry"]] == ["200 OK"] * 5
    assert Observation.objects.filter(infusion=infusion).count() == 5
    assert GradeEvaluation.objects.filter(infusion=infusion).count() == 5


def test_a_duplicate_bundle_resent_by_the_engine_as_a_transaction_changes_nothing(gateway, infusion):
    """The interface engine resends the message after a lost acknowledgement: a new Bundle id and
    time, another order, a transaction this time, the same resources."""
    mrn, now = infusion.patient.mrn, timezone.now()
    first = post_bundle(gateway, load("vitals_one_per_observation", mrn=mrn, now=now)).json()
    resent = post_bundle(gateway, load("duplicate_bundle", mrn=mrn, now=now))
    assert resent.status_code == 200, resent.content
    body = resent.json()
    assert body["type"] == "transaction-response"
    assert [e["response"]["status"] for e in body["entry"]] == ["200 OK"] * 5
    assert sorted(e["response"]["location"] for e in body["entry"]) == sorted(
        e["response"]["location"] for e in first["entry"]
    )
    assert Observation.objects.filter(infusion=infusion).count() == 5
    assert GradeEvaluation.objects.filter(infusion=infusion).count() == 5
    assert set(ImportedResource.objects.values_list("bundle_id", flat=True)) == {"vitals-one-per-observation"}


def test_a_transaction_whose_last_entry_fails_in_the_service_stores_none_and_alerts_nobody(
    gateway, infusion, django_capture_on_commit_callbacks
):
    """E-2: entries 0–3 are written in the transaction before entry 4 is refused by the core's own
    range check; all of it is rolled back, and no grade reaches alerting."""
    bundle = load("febrile_hypotensive_norepinephrine", mrn=infusion.patient.mrn)
    assert bundle["type"] == "transaction"
    bp = next(e["resource"] for e in bundle["entry"] if "85354-9" in json.dumps(e["resource"].get("code")))
    bundle["entry"].remove(next(e for e in bundle["entry"] if e["resource"] is bp))
    bp["component"][0]["valueQuantity"]["value"] = 400
    bundle["entry"].append({"resource": bp})
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_bundle(gateway, bundle)
    assert response.status_code == 422, response.content
    issues = response.json()["issue"]
    assert issues[0]["diagnostics"].startswith(
        f"entry[{len(bundle['entry']) - 1}] Observation 85354-9 (Blood pressure panel): field sbp: 400"
    )
    assert issues[-1]["diagnostics"] == "nothing of this transaction was stored"
    assert not Observation.objects.exists() and not GradeEvaluation.objects.exists()
    assert not ImportedResource.objects.exists()
    assert callbacks == []  # no alert processing queued for the rolled-back grades


def test_same_identifier_with_other_values_and_status_final_is_refused(gateway, infusion):
    post_bundle(gateway, load("lab_ferritin_final", mrn=infusion.patient.mrn))
    changed = load("lab_ferritin_final", mrn=infusion.patient.mrn)
    changed["entry"][0]["resource"]["valueQuantity"]["value"] = 900
    entry = post_bundle(gateway, changed).json()["entry"][0]
    assert entry["response"]["status"] == "422 Unprocessable Entity"
    text = entry["response"]["outcome"]["issue"][0]["diagnostics"]
    assert "L-3-ferritin is already stored with other values" in text and "'corrected'" in text


def test_a_corrected_lab_amends_through_the_same_service_and_regrades(gateway, infusion):
    mrn, now = infusion.patient.mrn, timezone.now()
    post_bundle(gateway, load("lab_ferritin_final", mrn=mrn, now=now))
    response = post_bundle(gateway, load("lab_ferritin_corrected", mrn=mrn, now=now))
    assert response.json()["entry"][0]["response"]["status"] == "201 Created"
    original, amendment = Observation.objects.filter(infusion=infusion).order_by("id")
    assert amendment.status == ObservationStatus.AMENDED and amendment.supersedes == original
    assert amendment.payload == {"ferritin_ng_mL": 8500}
    assert "corrected by the sending system" in amendment.reason
    assert list(Observation.objects.filter(infusion=infusion).current()) == [amendment]
    assert amendment.evaluations.count() == 1  # re-graded
    # the same correction again is a no-op
    again = post_bundle(gateway, load("lab_ferritin_corrected", mrn=mrn, now=now)).json()
    assert again["entry"][0]["response"]["status"] == "200 OK"
    assert Observation.objects.filter(infusion=infusion).count() == 2


def test_entered_in_error_marks_the_current_row(gateway, infusion):
    mrn = infusion.patient.mrn
    post_bundle(gateway, load("lab_ferritin_final", mrn=mrn))
    post_bundle(gateway, load("lab_ferritin_corrected", mrn=mrn))
    post_bundle(gateway, load("lab_ferritin_entered_in_error", mrn=mrn))
    rows = list(Observation.objects.filter(infusion=infusion).order_by("id"))
    assert [r.status for r in rows] == ["final", "amended", "entered_in_error"]
    assert rows[2].supersedes == rows[1]
    assert not Observation.objects.filter(infusion=infusion).current().exists()
    again = post_bundle(gateway, load("lab_ferritin_entered_in_error", mrn=mrn)).json()
    assert again["entry"][0]["response"]["status"] == "200 OK"


def test_entered_in_error_of_nothing_stored_is_refused(gateway, infusion):
    entry = post_bundle(gateway, load("lab_ferritin_entered_in_error", mrn=infusion.patient.mrn)).json()[
        "entry"
    ][0]
    assert entry["response"]["status"] == "404 Not Found"
    assert "nothing is stored under identifier" in entry["response"]["outcome"]["issue"][0]["diagnostics"]


def test_unknown_loinc_refuses_the_transaction_naming_entry_code_and_what_is_accepted(gateway, infusion):
    response = post_bundle(gateway, load("unknown_loinc", mrn=infusion.patient.mrn))
    assert response.status_code == 422
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    text = body["issue"][0]["diagnostics"]
    assert text.startswith("entry[1] Observation: code http://loinc.org|2345-7 is not one CAR-T Track takes")
    assert "8310-5 (Body temperature)" in text and "1988-5 (C reactive protein)" in text
    assert body["issue"][0]["expression"] == ["Observation.code"]
    assert not Observation.objects.exists()  # the valid temperature of entry 0 was not stored either


def test_a_unit_that_does_not_convert_names_the_unit_and_the_accepted_one(gateway, infusion):
    response = post_bundle(gateway, load("unconvertible_unit", mrn=infusion.patient.mrn))
    assert response.status_code == 422
    text = response.json()["issue"][0]["diagnostics"]
    assert text == (
        "entry[0] Observation 751-8 (Neutrophils [#/volume] in Blood): unit 'K/uL' does not convert to /uL; "
        "accepted: /uL"
    )


def test_an_impossible_value_is_refused_with_the_cores_message(gateway, infusion):
    bundle = load("bp_panel", mrn=infusion.patient.mrn)
    bundle["type"] = "transaction"
    bundle["entry"][0]["resource"]["component"][0]["valueQuantity"]["value"] = 400
    response = post_bundle(gateway, bundle)
    assert response.status_code == 422
    issue = response.json()["issue"][0]
    assert issue["diagnostics"].startswith(
        "entry[0] Observation 85354-9 (Blood pressure panel): field sbp: 400"
    )
    assert issue["expression"] == ["sbp"]
    assert response.json()["issue"][-1]["diagnostics"] == "nothing of this transaction was stored"
    assert not Observation.objects.exists()


def test_an_unknown_patient_is_refused_and_never_created(gateway, infusion):
    from monitoring.models import Patient

    before = Patient.objects.count()
    entry = post_bundle(gateway, load("unknown_patient", mrn=infusion.patient.mrn)).json()["entry"][0]
    assert entry["response"]["status"] == "404 Not Found"
    assert "no patient with MRN 'NO-SUCH-MRN'" in entry["response"]["outcome"]["issue"][0]["diagnostics"]
    assert Patient.objects.count() == before


def test_another_teams_patient_is_unknown_to_the_token(gateway, other_patient, product):
    from tests import factories

    factories.make_infusion(other_patient, product)
    entry = post_bundle(gateway, load("bp_panel", mrn=other_patient.mrn)).json()["entry"][0]
    assert entry["response"]["status"] == "404 Not Found"
    assert not Observation.objects.exists()


def test_a_51_entry_bundle_is_refused_whole_with_the_limit(gateway, infusion):
    response = post_bundle(gateway, load("oversized_51_entries", mrn=infusion.patient.mrn))
    assert response.status_code == 413
    assert response.json()["issue"][0]["diagnostics"].startswith(
        "the bundle has 51 entries; at most 50 are processed in one request (nothing was stored)"
    )
    assert not Observation.objects.exists()


def test_fifty_entries_are_processed(gateway, infusion):
    bundle = load("oversized_51_entries", mrn=infusion.patient.mrn)
    bundle["entry"] = bundle["entry"][:50]
    body = post_bundle(gateway, bundle).json()
    assert [e["response"]["status"] for e in body["entry"]] == ["201 Created"] * 50


def test_a_structurally_invalid_resource_is_named(gateway, infusion):
    bundle = load("bp_panel", mrn=infusion.patient.mrn)
    bundle["type"] = "transaction"
    bundle["entry"][0]["resource"]["effectiveDateTime"] = 20261202
    response = post_bundle(gateway, bundle)
    assert response.status_code == 422
    assert response.json()["issue"][0]["diagnostics"].startswith("entry[0] Observation is not valid FHIR R4:")


def test_without_a_token_or_scope_nothing_is_imported(client, infusion, gateway_user, team):
    from rest_framework.test import APIClient

    from accounts.tokens import issue_api_token

    anonymous = APIClient().post("/fhir/", "{}", content_type="application/fhir+json")
    assert anonymous.status_code == 401 and anonymous.json()["resourceType"] == "OperationOutcome"
    assert anonymous["WWW-Authenticate"] == "Bearer"
    _token, key = issue_api_token(name="reader", user=gateway_user, team=team, scopes=["observations:write"])
    wrong_scope = APIClient()
    wrong_scope.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    bundle = load("bp_panel", mrn=infusion.patient.mrn)
    from .conftest import post_bundle as post

    assert post(wrong_scope, bundle).status_code == 403
    _token, read_key = issue_api_token(name="exporter", user=gateway_user, team=team, scopes=["fhir:read"])
    read_only = APIClient()
    read_only.credentials(HTTP_AUTHORIZATION=f"Bearer {read_key}")
    refused = post(read_only, bundle)
    assert refused.status_code == 403 and refused.json()["resourceType"] == "OperationOutcome"
    assert "FHIR scope" in refused.json()["issue"][0]["diagnostics"]
    assert not Observation.objects.exists()


@pytest.mark.parametrize(
    ("fixture", "bundle_type"),
    [
        ("vitals_one_per_observation", "batch"),
        ("vitals_one_per_observation", "transaction"),
        ("unknown_loinc", "transaction"),
        ("unknown_loinc", "batch"),
        ("unknown_patient", "batch"),
        ("unconvertible_unit", "transaction"),
        ("oversized_51_entries", "batch"),
    ],
)
def test_every_answer_of_the_import_is_valid_fhir(gateway, infusion, fixture, bundle_type):
    """The transaction-response / batch-response Bundles and OperationOutcomes an interface engine
    receives validate with the independent R4 models, like the export."""
    from .test_export import validate_r4

    bundle = load(fixture, mrn=infusion.patient.mrn)
    bundle["type"] = bundle_type
    body = post_bundle(gateway, bundle).json()
    validate_r4(body)
    for entry in body.get("entry", []):
        if "outcome" in entry["response"]:
            validate_r4(entry["response"]["outcome"])


def test_a_time_without_zone_is_refused_naming_effective_date_time(gateway, infusion, team):
    """FHIR R4 requires a zone on a dateTime with a time of day, so the import refuses a zoneless
    effectiveDateTime (never reads it as UTC) and stores nothing (INPUT-12)."""
    team.time_zone = "Europe/Berlin"
    team.save()
    wall = timezone.localtime(timezone.now()).replace(tzinfo=None, microsecond=0)
    bundle = load("bp_panel", mrn=infusion.patient.mrn)
    bundle["entry"][0]["resource"]["effectiveDateTime"] = wall.isoformat()
    entry = post_bundle(gateway, bundle).json()["entry"][0]["response"]
    assert entry["status"] == "422 Unprocessable Entity"
    assert "effectiveDateTime" in entry["outcome"]["issue"][0]["diagnostics"]
    assert not Observation.objects.exists()
