"""Benchmark of the dashboards (server side): census of 500 active patients, 30-day timeline.

Usage (PostgreSQL as in the test settings; a throw-away database is created and dropped):

    CARTTRACK_TEST_DB=bench_dash .venv/bin/python bench/dashboards.py [--patients 500] [--repeat 7]
        [--compare REV]

``--compare REV`` also times the census built by ``dashboards/census.py`` as it was at git
revision REV (e.g. ``main``), on the same data in the same run, alternating with the current code.

Budgets: census of 500 active patients ≤ 300 ms (issue 5), of a network's 2 500 ≤ 1 s with a
query count that does not grow (issue 16); a 30-day timeline with q4h vitals ≤ 200 ms.  Timed:
the full Django request through the test client (middleware, views, queries, template
rendering), median of ``--repeat`` runs after one warm-up.  The last line printed is a JSON object
with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("CARTTRACK_TEST_DB", "bench_dash")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench import seeding  # noqa: E402
from bench.revisions import module_at  # noqa: E402


def populate(n_patients: int):
    from accounts.models import Role
    from monitoring.models import Indication
    from tests import factories

    team = factories.make_team("Bench ward")
    coordinator = factories.make_user(Role.COORDINATOR, team, username="bench-coordinator")
    nurse = factories.make_user(Role.NURSE, team, username="bench-nurse")
    products = [factories.make_product(f"Bench product {i}") for i in range(4)]
    now = timezone.now()
    indications = [Indication.LBCL, Indication.MYELOMA, Indication.SLE, Indication.B_ALL]
    hour = timedelta(hours=1)

    def history(i: int) -> list[seeding.HistoryRow]:
        vitals = [
            ("vitals", hour * (1 + k), {"temp_c": 37.5 + k * 0.4, "hr": 90 + k * 10, "sbp": 110})
            for k in range(3)
        ]
        return [*vitals, ("lab", hour * 2, {"anc_per_uL": 300 + i})]

    def grades(i: int) -> list[seeding.GradeRow]:
        return [
            (
                hour * (1 + k),
                {
                    "crs_grade": (i + k) % 4,
                    "crs_max": (i + k) % 4,
                    "icans_grade": i % 3,
                    "icans_max": i % 3,
                    "icaht_early": i % 3,
                },
            )
            for k in range(3)
        ]

    seeding.seed_courses(
        team=team,
        nurse=nurse,
        products=products,
        patients=[
            {
                "mrn": f"B{i:06d}",
                "given_name": "Bench",
                "family_name": f"Patient{i:04d}",
                "date_of_birth": now.date().replace(year=now.year - 40 - i % 30),
                "sex": "F",
                "weight_kg": 70,
                "indication": indications[i % 4],
            }
            for i in range(n_patients)
        ],
        infused_at=lambda i: now - timedelta(hours=6 + (i * 7) % (24 * 28)),
        history=history,
        grades=grades,
        alert_every=3,
        now=now,
    )

    # One 30-day course: vitals every 4 h, neuro every 12 h, daily labs, medications, evaluations.
    long_patient = factories.make_patient(team, family_name="Timeline")
    long = factories.make_infusion(long_patient, products[0], infused_at=now - timedelta(days=30))
    rows, evals = [], []
    for h in range(0, 30 * 24, 4):
        rows.append(
            seeding.observation_row(
                long,
                kind="vitals",
                after=hour * h,
                nurse=nurse,
                payload={
                    "temp_c": 37 + (h % 48) / 30,
                    "hr": 80 + h % 40,
                    "sbp": 100 + h % 30,
                    "dbp": 60,
                    "spo2": 95,
                    "o2_device": "nasal_cannula" if 48 <= h <= 96 else "room_air",
                    "o2_flow_l_min": 2,
                    "vasopressors": ["norepinephrine"] if 60 <= h <= 72 else [],
                },
            )
        )
        evals.append(
            seeding.grade_row(
                long,
                after=hour * h,
                crs_grade=2 if 48 <= h <= 96 else 0,
                crs_max=2,
                icans_grade=0,
                icans_max=1,
            )
        )
    for h in range(0, 30 * 24, 12):
        rows.append(
            seeding.observation_row(
                long,
                kind="neuro",
                after=timedelta(hours=h, minutes=5),
                nurse=nurse,
                payload={
                    "ice": {"orientation": 4, "naming": 3, "commands": 1, "writing": 1, "attention": 1},
                    "consciousness": "alert",
                },
            )
        )
    for d in range(30):
        rows.append(
            seeding.observation_row(
                long,
                kind="lab",
                after=timedelta(days=d, hours=6),
                nurse=nurse,
                payload={
                    "crp_mg_L": 20 + d,
                    "ferritin_ng_mL": 800 + 10 * d,
                    "anc_per_uL": 200 + 40 * d,
                    "platelets_10e9_L": 40 + d,
                    "hgb_g_dL": 9,
                },
            )
        )
    for h in (50, 60, 70):
        rows.append(
            seeding.observation_row(
                long,
                kind="medication",
                after=hour * h,
                nurse=nurse,
                payload={"drug": "tocilizumab", "dose_mg": 560},
            )
        )
    seeding.save_rows(rows, evals)
    return coordinator, long_patient, len(rows)


CPU: dict[str, float] = {}


def timed(client: Client, url: str, repeat: int) -> tuple[float, int]:
    """Median wall-clock ms of ``repeat`` requests (after a warm-up); the median CPU ms of this
    process is kept in ``CPU[url]`` (less sensitive to other load on a shared machine)."""
    response = client.get(url)  # warm-up (template loading, connection)
    assert response.status_code == 200, (url, response.status_code)
    samples, cpu = [], []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            samples.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200
    CPU[url] = statistics.median(cpu)
    return statistics.median(samples), len(queries.captured_queries)


def census_at(rev: str):
    """``dashboards.census`` as it was at git revision ``rev``, loaded beside the current one."""
    return module_at(rev, "dashboards/census.py", "dashboards.census_at_rev")


def compare(client: Client, rev: str, repeat: int) -> dict:
    """Median wall and CPU ms and the queries of the census page, current code against ``rev``,
    alternating request by request (CPU time is the steadier figure on a shared machine)."""
    from dashboards import views

    current, old = views.census_rows, census_at(rev).census_rows
    url = reverse("dashboards:census")
    wall: dict[str, list[float]] = {"current": [], rev: []}
    cpu: dict[str, list[float]] = {"current": [], rev: []}
    queries: dict[str, int] = {}
    for _ in range(repeat):
        for name, build in (("current", current), (rev, old)):
            views.census_rows = build
            try:
                ms, queries[name] = timed(client, url, 1)
            finally:
                views.census_rows = current
            wall[name].append(ms)
            cpu[name].append(CPU[url])
    return {
        name: {
            "census_ms": round(statistics.median(wall[name]), 1),
            "census_cpu_ms": round(statistics.median(cpu[name]), 1),
            "census_queries": queries[name],
        }
        for name in wall
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--compare", metavar="REV", help="also time the census of git revision REV")
    args = parser.parse_args()

    setup_test_environment()
    # Build the tables from the models (as pytest --nomigrations does): independent of other apps'
    # migration state, and faster.
    settings.MIGRATION_MODULES = {app.split(".")[-1]: None for app in settings.INSTALLED_APPS}
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        t0 = time.perf_counter()
        coordinator, long_patient, n_rows = populate(args.patients)
        setup_s = time.perf_counter() - t0
        client = Client()
        client.force_login(coordinator)
        census_ms, census_q = timed(client, reverse("dashboards:census"), args.repeat)
        poll_ms, _ = timed(client, reverse("dashboards:census") + "?partial=rows", args.repeat)
        timeline_url = reverse("dashboards:timeline", kwargs={"patient_id": long_patient.pk})
        timeline_ms, timeline_q = timed(client, timeline_url, args.repeat)
        from dashboards.charts import timeline_figures
        from monitoring.models import Infusion

        infusion = Infusion.objects.select_related("patient", "care_team").get(patient=long_patient)
        samples = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            timeline_figures(infusion)
            samples.append((time.perf_counter() - start) * 1000)
        figures_ms = statistics.median(samples)
        analytics_ms, analytics_q = timed(client, reverse("dashboards:analytics"), max(3, args.repeat // 2))
        census_cpu = CPU[reverse("dashboards:census")]  # before --compare times the page again
        compared = compare(client, args.compare, args.repeat) if args.compare else None
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    # Issue 5: a ward's 500 active patients within 300 ms; issue 16: a network's 2 500 within 1 s.
    budget = 300 if args.patients <= 500 else 1000
    result = {
        "census_patients": args.patients + 1,
        "census_ms": round(census_ms, 1),
        "census_queries": census_q,
        "census_budget_ms": budget,
        "census_ok": census_ms <= budget,
        "timeline_observations": n_rows,
        "timeline_ms": round(timeline_ms, 1),
        "timeline_figures_ms": round(figures_ms, 1),
        "timeline_queries": timeline_q,
        "timeline_budget_ms": 200,
        "timeline_ok": timeline_ms <= 200,
        "analytics_ms": round(analytics_ms, 1),
        "analytics_queries": analytics_q,
        "census_rows_partial_ms": round(poll_ms, 1),
        "census_cpu_ms": round(census_cpu, 1),
        "timeline_cpu_ms": round(CPU[timeline_url], 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "setup_s": round(setup_s, 1),
        "repeat": args.repeat,
    }
    if compared:
        result["compare"] = compared
        print(f"census, current code against {args.compare} (same data, alternating): {compared}")
    print(f"census ({args.patients + 1} active): {census_ms:.1f} ms, {census_q} queries (budget {budget} ms)")
    print(
        f"timeline (30 days, {n_rows} observations): {timeline_ms:.1f} ms, "
        f"{timeline_q} queries (budget 200 ms)"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
