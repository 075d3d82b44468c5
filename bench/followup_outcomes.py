"""Benchmark of the coordinators' follow-up outcomes page (issue 14): 500 followed lupus patients.

Usage (PostgreSQL as in the test settings; a throw-away database is created and dropped):

    CARTTRACK_TEST_DB=bench_followup .venv/bin/python bench/followup_outcomes.py [--patients 500] [--repeat 5]

Each patient has one course infused 4–24 months ago with a pre-LD baseline (SLEDAI-2K, regimen,
labs) and a visit at every template month since (SLEDAI-2K, regimen, a lab panel). Timed: the full
Django request through the test client (filters, the cohort read, the clinical core on every course,
lifelines' Kaplan–Meier, the template), median of ``--repeat`` runs after a warm-up, as wall time and
as the CPU time of this process (what a loaded machine disturbs less; PostgreSQL's share is only in
the wall time), first with a tenth of the patients, then with all of them: the query count must not
grow with the cohort.
The last line printed is a JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("CARTTRACK_TEST_DB", "bench_followup")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

MONTH = timedelta(hours=730.5)
VISIT_MONTHS = (2, 3, 6, 9, 12, 18, 24)


def populate(team, product, doctor, first: int, count: int) -> int:
    from carttrack.followup.sledai import SLEDAI_CODES
    from monitoring.models import Indication, Infusion, Observation, Patient

    now = timezone.now()
    patients = Patient.objects.bulk_create(
        [
            Patient(
                mrn=f"F{i:06d}",
                given_name="Bench",
                family_name=f"Followed{i:04d}",
                date_of_birth=now.date().replace(year=now.year - 30 - i % 20),
                sex="F",
                weight_kg=62,
                indication=Indication.SLE if i % 3 else Indication.LUPUS_NEPHRITIS,
                care_team=team,
            )
            for i in range(first, first + count)
        ]
    )
    infusions = Infusion.objects.bulk_create(
        [
            Infusion(
                patient=p,
                product=product,
                care_team=team,
                infused_at=now - MONTH * (4 + (i * 7) % 20),
                status="closed",
                close_reason="monitoring_complete",
            )
            for i, p in enumerate(patients, start=first)
        ]
    )
    active = {c: c in ("arthritis", "rash", "low_complement") for c in SLEDAI_CODES}
    quiet = {c: False for c in SLEDAI_CODES}
    rows = []

    def add(inf, at, kind, payload):
        rows.append(
            Observation(
                infusion=inf,
                kind=kind,
                payload=payload,
                observed_at=at,
                recorded_by=doctor,
                client_uuid=uuid.uuid4(),
            )
        )

    for i, inf in enumerate(infusions, start=first):
        base = inf.infused_at - timedelta(days=5)
        add(inf, base, "sledai", {"items": active, "pga": 2.0})
        add(inf, base, "medication_status", {"drugs": [{"drug": "prednisolone", "mg_per_day": 10}]})
        add(inf, base, "lab", {"upcr_mg_mg": 2.0, "egfr_mL_min": 80, "cd19_per_uL": 150})
        followed = (now - inf.infused_at) / MONTH
        for m in VISIT_MONTHS:
            if m > followed:
                break
            at = inf.infused_at + MONTH * m
            flare = i % 5 == 0 and m == 9
            add(inf, at, "sledai", {"items": active if flare else quiet, "pga": 2.0 if flare else 0.2})
            add(inf, at, "medication_status", {"drugs": []})
            add(
                inf,
                at,
                "lab",
                {"upcr_mg_mg": 0.3, "egfr_mL_min": 82, "cd19_per_uL": 0 if m < 6 else 40, "igg_mg_dL": 650},
            )
    Observation.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def timed(client: Client, url: str, repeat: int) -> tuple[float, float, int]:
    """Median wall time and median CPU time of this process (ms; the CPU time leaves out what
    PostgreSQL does and what other processes of a loaded machine take), and the query count."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    samples, cpu = [], []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            samples.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200
    return statistics.median(samples), statistics.median(cpu), len(queries.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    setup_test_environment()
    settings.MIGRATION_MODULES = {app.split(".")[-1]: None for app in settings.INSTALLED_APPS}
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        from accounts.models import Role
        from tests import factories

        team = factories.make_team("Bench rheumatology")
        coordinator = factories.make_user(Role.COORDINATOR, team, username="bench-coordinator")
        doctor = factories.make_user(Role.PHYSICIAN, team, username="bench-physician")
        product = factories.make_product("Bench CD19 CAR-T")
        client = Client()
        client.force_login(coordinator)
        url = reverse("followup:outcomes")
        small = max(1, args.patients // 10)
        t0 = time.perf_counter()
        rows_small = populate(team, product, doctor, 0, small)
        small_ms, small_cpu, small_q = timed(client, url, args.repeat)
        rows_all = rows_small + populate(team, product, doctor, small, args.patients - small)
        setup_s = time.perf_counter() - t0
        all_ms, all_cpu, all_q = timed(client, url, args.repeat)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    result = {
        "patients_small": small,
        "outcomes_small_ms": round(small_ms, 1),
        "outcomes_small_cpu_ms": round(small_cpu, 1),
        "outcomes_small_queries": small_q,
        "patients": args.patients,
        "observations": rows_all,
        "outcomes_ms": round(all_ms, 1),
        "outcomes_cpu_ms": round(all_cpu, 1),
        "outcomes_queries": all_q,
        "queries_constant": small_q == all_q,
        "per_patient_ms": round(all_ms / args.patients, 2),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "setup_s": round(setup_s, 1),
        "repeat": args.repeat,
    }
    print(
        f"outcomes ({small} followed patients): {small_ms:.1f} ms ({small_cpu:.1f} ms CPU), {small_q} queries"
    )
    print(
        f"outcomes ({args.patients} followed patients, {rows_all} observations): "
        f"{all_ms:.1f} ms ({all_cpu:.1f} ms CPU), {all_q} queries"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
