"""Benchmark: time to evaluate a 5-year course through the clinical core (issue 14).

A lupus-nephritis course: the toxicity weeks of bench/grading.py (vitals q4h, neuro twice daily,
daily labs, medications; ~300 observations), a pre-LD baseline (SLEDAI-2K, regimen, labs), and 20
follow-up visits every 3 months to year 5, each with a SLEDAI-2K, the regimen and a lab panel
(UPCR, eGFR, anti-dsDNA, C3, C4, CD19, CD4, IgG). Reported (CPU time, median of several rounds):
parsing the case, the toxicity engine over the whole course, the follow-up evaluation, and the
total; then, last line, a JSON object with the figures.
Run: .venv/bin/python bench/followup_course.py
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from grading import build_course  # the toxicity weeks of the grading benchmark

import carttrack
from carttrack.followup.sledai import SLEDAI_CODES

MONTH_HOURS = 8766.0 / 12.0
VISITS = 20
ROUNDS = 30


def followup_observations(seed: int) -> list[dict]:
    rng = random.Random(seed)
    obs: list[dict] = []

    def visit(t: float, active: set[str], pga: float, drugs: list[dict], upcr: float) -> None:
        items = {c: (c in active) for c in SLEDAI_CODES}
        obs.append({"kind": "sledai", "t_hours": t, "items": items, "pga": pga})
        obs.append({"kind": "medication_status", "t_hours": t, "drugs": drugs})
        obs.append(
            {
                "kind": "lab",
                "t_hours": t,
                "upcr_mg_mg": upcr,
                "egfr_mL_min": rng.randint(70, 100),
                "anti_dsdna_IU_mL": rng.randint(5, 120),
                "anti_dsdna_cutoff_IU_mL": 30,
                "c3_mg_dL": rng.randint(60, 140),
                "c3_lln_mg_dL": 90,
                "c4_mg_dL": rng.randint(8, 30),
                "c4_lln_mg_dL": 10,
                "cd19_per_uL": 0 if t < 100 * 24 else rng.randint(0, 200),
                "cd4_per_uL": rng.randint(100, 600),
                "igg_mg_dL": rng.randint(300, 1200),
            }
        )

    visit(
        -120.0,
        {"arthritis", "rash", "proteinuria", "hematuria", "low_complement", "increased_dna_binding"},
        2.0,
        [{"drug": "prednisolone", "mg_per_day": 10}, {"drug": "mycophenolate_mofetil", "mg_per_day": 2000}],
        3.2,
    )
    for k in range(1, VISITS + 1):
        flare = rng.random() < 0.15
        active = {"proteinuria", "rash"} if flare else ({"low_complement"} if rng.random() < 0.3 else set())
        drugs = [{"drug": "hydroxychloroquine", "mg_per_day": rng.choice([200, 400])}]
        if flare:
            drugs.append({"drug": "prednisolone", "mg_per_day": 7.5})
        visit(
            3 * k * MONTH_HOURS,
            active,
            round(rng.uniform(0.0, 1.2 if flare else 0.4), 2),
            drugs,
            rng.choice([0.2, 0.4, 0.9, 1.6]),
        )
    return obs


def build(seed: int) -> dict:
    course = build_course(seed)
    course["patient"] = {
        "age_years": 31,
        "weight_kg": 60,
        "indication": "lupus nephritis",
        "product": "CD19 CAR-T",
    }
    course["observations"] = course["observations"] + followup_observations(seed)
    return course


def cpu(fn: Callable[[], object]) -> float:
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def main() -> None:
    raws = [build(seed) for seed in range(10)]
    cases = [carttrack.parse_case(r) for r in raws]
    n_obs = statistics.mean(len(c.observations) for c in cases)
    n_followup = statistics.mean(
        sum(o.kind in ("sledai", "medication_status") for o in c.observations) for c in cases
    )
    for c in cases:  # warm-up, and a check that the course is really evaluated
        assert carttrack.evaluate_case_followup(c) is not None
        carttrack.evaluate(c)
    parse, tox, fu = [], [], []
    for _ in range(ROUNDS):
        for raw, c in zip(raws, cases, strict=True):
            parse.append(cpu(lambda raw=raw: carttrack.parse_case(raw)))
            tox.append(cpu(lambda c=c: carttrack.evaluate(c)))
            fu.append(cpu(lambda c=c: carttrack.evaluate_case_followup(c)))
    ms = {
        name: statistics.median(v) * 1000.0
        for name, v in (("parse", parse), ("toxicity", tox), ("followup", fu))
    }
    total = sum(ms.values())
    entries = f"{n_followup:.0f} SLEDAI-2K/regimen entries, {VISITS} visits + baseline"
    print(f"5-year course: {n_obs:.0f} observations ({entries})")
    print(f"  parse                {ms['parse']:8.2f} ms")
    print(f"  toxicity engine      {ms['toxicity']:8.2f} ms")
    print(f"  follow-up evaluation {ms['followup']:8.2f} ms")
    print(f"  total                {total:8.2f} ms (CPU, median of {ROUNDS} rounds × {len(cases)} courses)")
    print(
        json.dumps(
            {
                "observations_per_course": round(n_obs, 1),
                "followup_visits": VISITS,
                "parse_ms": round(ms["parse"], 3),
                "toxicity_ms": round(ms["toxicity"], 3),
                "followup_ms": round(ms["followup"], 3),
                "total_ms": round(total, 3),
                "python": sys.version.split()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
