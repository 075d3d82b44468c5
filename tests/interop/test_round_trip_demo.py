"""The round trip for every course of the demo ward (vitals, neuro checks with ICE and CAPD, labs
with limits, drugs, events, follow-up instruments): exported, imported into an empty site, the same
maximum grades and episodes."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Membership, Role
from accounts.tokens import issue_api_token
from interop import course as course_model
from monitoring.models import GradeEvaluation, Infusion, Patient
from tests import factories

from . import ae_profile
from .conftest import post_bundle

pytestmark = pytest.mark.django_db


def episodes(infusion):
    points = course_model.timeline(infusion)
    return [
        (e.syndrome, e.onset, e.resolved, e.maximum)
        for s in course_model.TOXICITIES  # CRS, ICANS, ICAHT, IEC-HS and LICATS (FHIR-6)
        for e in course_model.episodes(points, s)
    ]


def test_every_demo_course_survives_the_round_trip(monkeypatch, coordinator):
    monkeypatch.setattr("monitoring.services._enqueue_alert_processing", lambda evaluation_id: None)
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    reader = APIClient()
    reader.force_authenticate(coordinator)
    site = factories.make_team("Empty site")
    account = factories.make_user(Role.NURSE, site, username="site-b")
    _t, key = issue_api_token(name="Site B", user=account, team=site, scopes=["fhir:write"])
    writer = APIClient()
    writer.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    checked = events = 0
    for patient in Patient.objects.filter(mrn__startswith="DEMO-"):
        courses = list(Infusion.objects.filter(patient=patient).select_related("product"))
        if len(courses) != 1:
            continue  # a re-treated patient: the site registers both courses (not modelled here)
        (infusion,) = courses
        Membership.objects.get_or_create(
            user=coordinator, team_id=patient.care_team_id, role=Role.COORDINATOR
        )
        bundle = reader.get(f"/fhir/Patient/{patient.pk}/$everything").json()
        assert ae_profile.violations(bundle) == [], patient.mrn  # the AE backport's rules (FHIR-6)
        events += sum(e["resource"]["resourceType"] == "AdverseEvent" for e in bundle["entry"])
        mrn = patient.mrn
        Patient.objects.filter(pk=patient.pk).update(mrn=f"OLD-{mrn}")
        twin_patient = factories.make_patient(
            site,
            mrn=mrn,
            date_of_birth=patient.date_of_birth,
            sex=patient.sex,
            weight_kg=patient.weight_kg,
            indication=patient.indication,
            developmental_delay=patient.developmental_delay,
            home_o2_l_min=patient.home_o2_l_min,
        )
        twin = factories.make_infusion(twin_patient, infusion.product, infused_at=infusion.infused_at)
        entries = bundle["entry"]
        for start in range(0, len(entries), 50):
            chunk = {"resourceType": "Bundle", "type": "batch", "entry": entries[start : start + 50]}
            body = post_bundle(writer, chunk).json()
            refused = [e["response"] for e in body["entry"] if not e["response"]["status"].startswith("20")]
            assert not refused, (mrn, refused)
        # A closed course is imported while open (nothing is recorded on a closed one), then closed.
        Infusion.objects.filter(pk=twin.pk).update(
            status=infusion.status, closed_at=infusion.closed_at, close_reason=infusion.close_reason
        )
        twin.refresh_from_db()
        if not GradeEvaluation.objects.filter(infusion=infusion).exists():
            continue
        a = GradeEvaluation.objects.filter(infusion=infusion).latest()
        b = GradeEvaluation.objects.filter(infusion=twin).latest()
        assert (a.crs_max, a.icans_max, a.icaht_early) == (b.crs_max, b.icans_max, b.icaht_early), mrn
        assert episodes(infusion) == episodes(twin), mrn
        checked += 1
    assert checked >= 10 and events >= 5 and timezone.now()
