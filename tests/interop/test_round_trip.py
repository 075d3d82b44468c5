"""Issue 15 item 4: a course exported as FHIR and imported into an empty site (a new care team whose
coordinator registered the patient and the infusion, an integration token of that team) reproduces
the same grades, episodes, alerts and registry values.  The bundle is sent as an interface engine
would: in bundles of at most 50 entries."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tokens import issue_api_token
from alerts.models import Alert
from interop import course as course_model
from interop import registry
from monitoring.models import GradeEvaluation, Infusion, Patient
from tests import factories

from .conftest import post_bundle
from .course_builder import record_course

pytestmark = pytest.mark.django_db


def summary(infusion: Infusion) -> dict:
    points = course_model.timeline(infusion)
    latest = GradeEvaluation.objects.filter(infusion=infusion).latest()
    return {
        "max": (latest.crs_max, latest.icans_max),
        "current": (latest.crs_grade, latest.icans_grade),
        "episodes": [
            (e.syndrome, e.onset, e.resolved, e.maximum)
            for s in course_model.SYNDROMES
            for e in course_model.episodes(points, s)
        ],
        "alerts": sorted((a.syndrome, a.grade, a.urgency) for a in Alert.objects.filter(infusion=infusion)),
        "registry": [
            {k: v for k, v in row.items() if k not in ("links", "patient", "mrn")}
            for r in ("cibmtr", "ebmt")
            for row in registry.cohort_rows(infusions=[infusion], registry=r)
        ],
    }


def test_export_then_import_into_an_empty_site_gives_the_same_course(
    infusion, nurse, gateway, alert_task_inline, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        record_course(infusion, nurse)
    before = summary(infusion)
    assert before["max"] == (3, 0) and before["alerts"]
    bundle = gateway.get(f"/fhir/Patient/{infusion.patient_id}/$everything").json()

    # The empty site: the source patient's MRN is freed (another hospital), a new team registers it.
    mrn = infusion.patient.mrn
    Patient.objects.filter(pk=infusion.patient_id).update(mrn=f"OLD-{mrn}")
    site = factories.make_team("Empty site")
    coordinator_registers = factories.make_patient(site, mrn=mrn)
    procedure = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Procedure")
    target = factories.make_infusion(
        coordinator_registers,
        infusion.product,
        infused_at=timezone.datetime.fromisoformat(procedure["performedDateTime"]),
    )
    account = factories.make_user(Role.NURSE, site, username="site-b-gateway")
    _token, key = issue_api_token(name="Site B EHR", user=account, team=site, scopes=["fhir:write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    entries = bundle["entry"]
    for start in range(0, len(entries), 50):
        chunk = {"resourceType": "Bundle", "type": "batch", "entry": entries[start : start + 50]}
        response = post_bundle(client, chunk, capture=django_capture_on_commit_callbacks)
        assert response.status_code == 200, response.content
        refused = [e for e in response.json()["entry"] if not e["response"]["status"].startswith("20")]
        assert not refused, refused
    assert summary(target) == before
