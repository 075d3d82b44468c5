"""Benchmark: FHIR import of vital-sign bundles vs the same observations posted one by one to the
REST API, in one run (issue 15).

    .venv/bin/python bench/fhir_import.py [--bundles 20] [--patients 10] [--history 30]

Creates its own PostgreSQL database (``bench_fhir``), migrates, seeds one care team, an integration
account with a token carrying ``fhir:write`` and ``observations:write``, and ``--patients`` patients
with an active infusion and ``--history`` vitals each (recorded through the real service, so every
new observation is graded against a realistic course).  Then, through Django's test client (the full
middleware, authentication and view stack in this process; no HTTP server or network):

1. ``POST /fhir/`` with ``--bundles`` batch Bundles of 50 entries each, as an interface engine sends
   vitals: one Observation per vital (temperature, heart rate, respiratory rate, SpO2, the BP panel),
   10 sets per bundle spread over the patients;
2. ``POST /api/observations/`` with exactly the same observations (the same payloads and times, on
   other patients with the same history), one request each, timed per group of 50.

One untimed bundle and its 50 REST posts warm the process up first.  Both grade and queue alerting
exactly as a nurse's entry (Celery's in-memory broker here, so no task
is left behind).  Prints entries/s and p50/p95 per 50 entries for both and, as its last line, one JSON
object.  Drops the database at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = os.environ.get("BENCH_DB_NAME", "bench_fhir")
DB_URL = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + DB_NAME
ENTRIES = 50
VITALS = (
    ("8310-5", "temp_c", "Cel"),
    ("8867-4", "hr", "/min"),
    ("9279-1", "rr", "/min"),
    ("59408-5", "spo2", "%"),
)


def log(message: str) -> None:
    print(message, flush=True)


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def env() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": DB_URL,
        "CELERY_BROKER_URL": "memory://",
        "DB_CONN_MAX_AGE": "600",
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def vitals_sets(n: int, *, start, patients: int):
    """``n`` sets of vitals (payload, time, patient index), a set every 5 minutes per patient."""
    for i in range(n):
        yield (
            {
                "temp_c": 37.0 + (i % 7) / 10,
                "hr": 80 + i % 9,
                "rr": 14 + i % 4,
                "spo2": 96 + i % 3,
                "sbp": 118 + i % 6,
                "dbp": 72 + i % 5,
            },
            start + timedelta(minutes=5 * (i // patients)),
            i % patients,
        )


def fhir_entries(payload: dict, at, mrn: str, key: str) -> list[dict]:
    subject = {"identifier": {"system": "https://carttrack.org/fhir/sid/mrn", "value": mrn}}
    common = {"status": "final", "subject": subject, "effectiveDateTime": at.isoformat()}

    def quantity(value, unit):
        return {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}

    def code(loinc):
        return {"coding": [{"system": "http://loinc.org", "code": loinc}]}

    out = [
        {
            "resourceType": "Observation",
            "identifier": [{"system": "urn:bench", "value": f"{key}-{field}"}],
            "code": code(loinc),
            "valueQuantity": quantity(payload[field], unit),
            **common,
        }
        for loinc, field, unit in VITALS
    ]
    out.append(
        {
            "resourceType": "Observation",
            "identifier": [{"system": "urn:bench", "value": f"{key}-bp"}],
            "code": code("85354-9"),
            **common,
            "component": [
                {"code": code("8480-6"), "valueQuantity": quantity(payload["sbp"], "mm[Hg]")},
                {"code": code("8462-4"), "valueQuantity": quantity(payload["dbp"], "mm[Hg]")},
            ],
        }
    )
    return [{"resource": r, "request": {"method": "POST", "url": "Observation"}} for r in out]


def rest_bodies(payload: dict, at, infusion_id: int) -> list[dict]:
    parts = [{field: payload[field]} for _, field, _ in VITALS] + [
        {"sbp": payload["sbp"], "dbp": payload["dbp"]}
    ]
    return [
        {
            "client_uuid": str(uuid.uuid4()),
            "infusion": infusion_id,
            "kind": "vitals",
            "observed_at": at.isoformat(),
            "payload": part,
        }
        for part in parts
    ]


def run(args) -> dict:
    os.environ.update(env())
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from datetime import date
    from decimal import Decimal

    from django.test import Client
    from django.utils import timezone

    from accounts.models import CareTeam, Membership, Role, User
    from accounts.tokens import issue_api_token
    from monitoring import services
    from monitoring.models import Indication, Infusion, MonitoringTemplate, Observation, Patient, Product

    team = CareTeam.objects.create(name="Bench ward", slug="bench-ward")
    account = User.objects.create_user(username="bench-gateway", password="bench-password-123")
    Membership.objects.create(user=account, team=team, role=Role.NURSE)
    _t, key = issue_api_token(
        name="bench gateway", user=account, team=team, scopes=["fhir:write", "observations:write"]
    )
    template = MonitoringTemplate.objects.create(name="Bench template")
    product = Product.objects.create(
        name="Bench CD19 CAR-T", target_antigen="CD19", monitoring_template=template
    )
    now = timezone.now()
    start = now - timedelta(hours=3)

    def course(prefix: str, i: int) -> Infusion:
        patient = Patient.objects.create(
            mrn=f"{prefix}{i:04d}",
            given_name="Bench",
            family_name=f"Patient{i}",
            date_of_birth=date(1960, 1, 1),
            weight_kg=Decimal("70.0"),
            indication=Indication.LBCL,
            care_team=team,
        )
        infusion = Infusion.objects.create(
            patient=patient, product=product, care_team=team, infused_at=now - timedelta(days=6)
        )
        for h in range(args.history):
            services.observation_record(
                infusion=infusion,
                kind="vitals",
                recorded_by=account,
                payload={
                    "temp_c": 37.0,
                    "hr": 82,
                    "sbp": 120,
                    "dbp": 75,
                    "rr": 15,
                    "spo2": 97,
                    "o2_device": "room_air",
                },
                observed_at=start - timedelta(hours=args.history - h),
            )
        return infusion

    log(f"seeding {args.patients} + {args.patients} patients with {args.history} vitals each …")
    fhir_courses = [course("FHIR", i) for i in range(args.patients)]
    rest_courses = [course("REST", i) for i in range(args.patients)]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    sets_per_bundle = ENTRIES // (len(VITALS) + 1)
    sets = list(vitals_sets((args.bundles + 1) * sets_per_bundle, start=start, patients=args.patients))
    warm_up, sets = sets[:sets_per_bundle], sets[sets_per_bundle:]
    # One untimed bundle and its 50 REST posts first: the UCUM registry, the R4 models and the URL
    # resolver are loaded once per process, not per request.
    warm = [
        e
        for n, (p, at, i) in enumerate(warm_up)
        for e in fhir_entries(p, at, fhir_courses[i].patient.mrn, f"w-{n}")
    ]
    client.post(
        "/fhir/",
        json.dumps({"resourceType": "Bundle", "type": "batch", "entry": warm}),
        content_type="application/fhir+json",
    )
    for body in (b for p, at, i in warm_up for b in rest_bodies(p, at, rest_courses[i].pk)):
        client.post("/api/observations/", json.dumps(body), content_type="application/json")
    before = Observation.objects.count()

    fhir_times = []
    for b in range(args.bundles):
        chunk = sets[b * sets_per_bundle : (b + 1) * sets_per_bundle]
        entries = [
            e
            for n, (p, at, i) in enumerate(chunk)
            for e in fhir_entries(p, at, fhir_courses[i].patient.mrn, f"b{b}-{n}")
        ]
        body = json.dumps({"resourceType": "Bundle", "type": "batch", "entry": entries})
        t0 = time.perf_counter()
        response = client.post("/fhir/", body, content_type="application/fhir+json")
        fhir_times.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.content[:300]
        statuses = {e["response"]["status"] for e in response.json()["entry"]}
        assert statuses == {"201 Created"}, statuses
    fhir_rows = Observation.objects.count() - before

    rest_times = []
    before = Observation.objects.count()
    for b in range(args.bundles):
        chunk = sets[b * sets_per_bundle : (b + 1) * sets_per_bundle]
        bodies = [body for p, at, i in chunk for body in rest_bodies(p, at, rest_courses[i].pk)]
        t0 = time.perf_counter()
        for body in bodies:
            response = client.post("/api/observations/", json.dumps(body), content_type="application/json")
            assert response.status_code == 201, response.content[:300]
        rest_times.append(time.perf_counter() - t0)
    rest_rows = Observation.objects.count() - before
    assert fhir_rows == rest_rows == args.bundles * ENTRIES, (fhir_rows, rest_rows)

    def figures(times: list[float]) -> dict:
        return {
            "entries_per_s": round(len(times) * ENTRIES / sum(times), 1),
            "p50_ms_per_50": round(statistics.median(times) * 1000, 1),
            "p95_ms_per_50": round(percentile(times, 0.95) * 1000, 1),
            "max_ms_per_50": round(max(times) * 1000, 1),
        }

    result = {
        "bundles": args.bundles,
        "entries_per_bundle": ENTRIES,
        "history": args.history,
        "fhir_bundle": figures(fhir_times),
        "rest_one_by_one": figures(rest_times),
    }
    result["fhir_vs_rest_throughput"] = round(
        result["fhir_bundle"]["entries_per_s"] / result["rest_one_by_one"]["entries_per_s"], 2
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundles", type=int, default=20)
    parser.add_argument("--patients", type=int, default=10)
    parser.add_argument("--history", type=int, default=30)
    args = parser.parse_args()
    pg_admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    pg_admin(f'CREATE DATABASE "{DB_NAME}"')
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env(), check=True
        )
        result = run(args)
    finally:
        from django.db import connections

        connections.close_all()
        pg_admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    for name in ("fhir_bundle", "rest_one_by_one"):
        f = result[name]
        log(
            f"{name:16s} {f['entries_per_s']:8.1f} entries/s   p50 {f['p50_ms_per_50']:7.1f} ms   "
            f"p95 {f['p95_ms_per_50']:7.1f} ms per 50 entries"
        )
    log(f"FHIR / REST throughput: {result['fhir_vs_rest_throughput']}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
