"""manage.py seed_demo: a believable ward with real grades, idempotent."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accounts.models import CareTeam, Role, User
from monitoring.models import GradeEvaluation, Infusion, Observation, Patient, Product


@pytest.fixture
def no_broker(monkeypatch):
    monkeypatch.setattr("monitoring.services._enqueue_alert_processing", lambda evaluation_id: None)


def latest(mrn):
    return GradeEvaluation.objects.filter(infusion__patient__mrn=mrn).order_by("-evaluated_at", "-id").first()


def test_seed_demo_builds_the_ward_and_is_idempotent(db, no_broker):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    patients = Patient.objects.filter(mrn__startswith="DEMO-")
    assert patients.count() >= 12
    assert {p.indication_category for p in patients} == {"oncology", "autoimmune"}
    assert {"sle", "lupus_nephritis"} <= set(patients.values_list("indication", flat=True))
    assert CareTeam.objects.filter(name__endswith="(demo)").count() == 2
    names = set(Product.objects.values_list("name", flat=True))
    for fragment in ("axi-cel", "tisa-cel", "liso-cel", "cilta-cel", "ide-cel", "SLE"):
        assert any(fragment in n for n in names), fragment
    days = {i.day_post_infusion() for i in Infusion.objects.filter(patient__in=patients)}
    assert len(days) >= 8

    crs2 = latest("DEMO-0001")
    assert crs2.crs_max == 2
    assert Observation.objects.filter(
        infusion__patient__mrn="DEMO-0001", payload__drug="tocilizumab"
    ).exists()
    assert latest("DEMO-0002").icans_grade == 3
    child = Observation.objects.filter(infusion__patient__mrn="DEMO-0003", kind="neuro")
    assert child.exists() and all(o.payload.get("capd_items") for o in child)
    assert latest("DEMO-0004").icaht_early is not None and latest("DEMO-0004").icaht_early >= 3

    for username, role in (
        ("demo_nurse", Role.NURSE),
        ("demo_physician", Role.PHYSICIAN),
        ("demo_coordinator", Role.COORDINATOR),
        ("demo_admin", Role.ADMIN),
    ):
        user = User.objects.get(username=username)
        assert user.has_role(role) and username in text
    assert "password" in text

    counts = (
        Patient.objects.count(),
        Infusion.objects.count(),
        Observation.objects.count(),
        GradeEvaluation.objects.count(),
        User.objects.count(),
        Product.objects.count(),
    )
    call_command("seed_demo", stdout=io.StringIO())
    assert counts == (
        Patient.objects.count(),
        Infusion.objects.count(),
        Observation.objects.count(),
        GradeEvaluation.objects.count(),
        User.objects.count(),
        Product.objects.count(),
    )


def test_demo_nurse_sees_the_ward(client, db, no_broker):
    call_command("seed_demo", stdout=io.StringIO())
    client.force_login(User.objects.get(username="demo_nurse"))
    html = client.get("/").content.decode()
    assert "DEMO-0001" in html and "CRS grade 2" in html and "ICANS grade 3" in html
    # The lupus patient with a neuropsychiatric history: the pre-infusion ICE 9/10 is her baseline,
    # shown beside the latest score, and raises no ICANS grade (B-1).
    lupus = Patient.objects.get(mrn="DEMO-0006")
    page = client.get(f"/patients/{lupus.pk}/").content.decode()
    assert "baseline before infusion: ICE 9/10" in page
    latest = GradeEvaluation.objects.filter(infusion__patient=lupus).order_by("-id").first()
    assert latest.icans_max == 0
