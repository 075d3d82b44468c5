"""Benchmark of the follow-up scan (VISIT-3, VISIT-8): the beat task that runs every minute.

Usage (PostgreSQL as in the test settings; a throw-away database is created and dropped):

    CARTTRACK_TEST_DB=bench_scan .venv/bin/python bench/followup_scan.py [--patients 500] [--repeat 5]
        [--before 4d9996b]

Seeds ``--patients`` followed lupus courses (as bench/followup_outcomes.py does: a baseline and a visit
at every template month) and as many lymphoma courses seen only through their toxicity weeks (a pre-LD
lab, vitals on days 0, 7 and 14, a day-28 lab; 40–400 days ago), then times:

* the first scans after the upgrade: each evaluates at most 200 courses never evaluated (VISIT-8),
  with their findings processed in this process (as a worker would);
* the quiet scan, nothing due (what every minute costs): the current code, and the code of
  ``--before`` (its ``followup/services.py`` loaded from git) on the same rows, alternately, median of
  ``--repeat``, wall and CPU time and the query count.

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
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("CARTTRACK_TEST_DB", "bench_scan")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.followup_outcomes import populate  # noqa: E402
from bench.revisions import module_at  # noqa: E402

VITALS = {"temp_c": 36.8, "hr": 76, "sbp": 122, "dbp": 70, "rr": 14, "spo2": 98}


def populate_toxicity_weeks(team, product, nurse, count: int) -> int:
    from monitoring.models import Indication, Infusion, Observation, Patient

    now = timezone.now()
    patients = Patient.objects.bulk_create(
        [
            Patient(
                mrn=f"T{i:06d}",
                given_name="Bench",
                family_name=f"Lymphoma{i:04d}",
                date_of_birth=now.date().replace(year=now.year - 50 - i % 20),
                sex="M",
                weight_kg=80,
                indication=Indication.LBCL,
                care_team=team,
            )
            for i in range(count)
        ]
    )
    infusions = Infusion.objects.bulk_create(
        [
            Infusion(
                patient=p,
                product=product,
                care_team=team,
                infused_at=now - timedelta(days=40 + (i * 13) % 360),
                status="closed",
                close_reason="monitoring_complete",
            )
            for i, p in enumerate(patients)
        ]
    )
    rows = []
    for inf in infusions:
        records = [(-5, "lab", {"crp_mg_L": 3, "anc_per_uL": 2900})]
        records += [(d, "vitals", VITALS) for d in (0, 7, 14)]
        records += [(28, "lab", {"crp_mg_L": 2, "anc_per_uL": 1700})]
        rows += [
            Observation(
                infusion=inf,
                kind=kind,
                payload=payload,
                observed_at=inf.infused_at + timedelta(days=day, hours=2),
                recorded_by=nurse,
                client_uuid=uuid.uuid4(),
            )
            for day, kind, payload in records
        ]
    Observation.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def timed_scan(scan) -> tuple[float, float, int, dict]:
    """Wall and CPU time (ms) and the query count of one scan (counted by an execute wrapper: the
    debug query log keeps only the last 9 000)."""
    count = [0]

    def counting(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counting):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = scan(now=timezone.now())
        wall, cpu = (time.perf_counter() - start) * 1000, (time.process_time() - start_cpu) * 1000
    return wall, cpu, count[0], result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--before", default="4d9996b")
    args = parser.parse_args()

    setup_test_environment()
    settings.MIGRATION_MODULES = {app.split(".")[-1]: None for app in settings.INSTALLED_APPS}
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        from accounts.models import Role
        from followup import services
        from followup.models import Finding, FollowupEvaluation
        from tests import factories

        before = module_at(args.before, "followup/services.py", "followup.services_before")
        team = factories.make_team("Bench CAR-T", time_zone="Europe/Berlin")
        doctor = factories.make_user(Role.PHYSICIAN, team, username="bench-physician")
        factories.make_user(Role.COORDINATOR, team, username="bench-coordinator")
        product = factories.make_product("Bench CD19 CAR-T")
        rows = populate(team, product, doctor, 0, args.patients)
        rows += populate_toxicity_weeks(team, product, doctor, args.patients)
        inline = mock.patch.object(
            services, "_enqueue_findings", lambda pk: services.findings_process(evaluation_id=pk)
        )
        first_scans = []
        with inline:
            while True:
                wall, cpu, queries, result = timed_scan(services.overdue_visits_scan)
                first_scans.append({"ms": round(wall), "cpu_ms": round(cpu), "queries": queries, **result})
                if result["first_evaluated"] == 0 and result["evaluated"] == 0:
                    break
        quiet = {"current": [], "before": []}
        for _ in range(args.repeat):
            quiet["current"].append(timed_scan(services.overdue_visits_scan))
            quiet["before"].append(timed_scan(before.overdue_visits_scan))
        tasks = Finding.objects.filter(task_status="open").count()
        evaluations = FollowupEvaluation.objects.count()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

    def med(name: str, i: int) -> float:
        return round(statistics.median(s[i] for s in quiet[name]), 1)

    result = {
        "followed_lupus_courses": args.patients,
        "toxicity_weeks_courses": args.patients,
        "observations": rows,
        "first_scans": first_scans[:-1],
        "open_tasks_after": tasks,
        "evaluations_after": evaluations,
        "quiet_scan_ms": med("current", 0),
        "quiet_scan_cpu_ms": med("current", 1),
        "quiet_scan_queries": quiet["current"][-1][2],
        "quiet_scan_before_ms": med("before", 0),
        "quiet_scan_before_cpu_ms": med("before", 1),
        "quiet_scan_before_queries": quiet["before"][-1][2],
        "before": args.before,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "repeat": args.repeat,
    }
    for i, s in enumerate(first_scans[:-1], start=1):
        print(
            f"first scan {i}: {s['first_evaluated']} courses evaluated a first time, "
            f"{s['evaluated']} in all: "
            f"{s['ms']} ms ({s['cpu_ms']} ms CPU), {s['queries']} queries"
        )
    print(
        f"quiet scan ({2 * args.patients} courses, nothing due): {result['quiet_scan_ms']} ms "
        f"({result['quiet_scan_cpu_ms']} ms CPU), {result['quiet_scan_queries']} queries; "
        f"before ({args.before}): {result['quiet_scan_before_ms']} ms "
        f"({result['quiet_scan_before_cpu_ms']} ms CPU), "
        f"{result['quiet_scan_before_queries']} queries"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
