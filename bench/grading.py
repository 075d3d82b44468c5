"""Benchmark: full-course evaluations per second and time to add one observation.

Builds realistic 30-day courses (vitals q4h, neuro twice daily, daily labs, medications; ~300
observations) and prints, as its last line, a JSON object with the figures.
Run: .venv/bin/python bench/grading.py
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import carttrack


def build_course(seed: int) -> dict:
    rng = random.Random(seed)
    obs: list[dict] = []
    crs_start = rng.uniform(24, 96)
    crs_len = rng.uniform(24, 120)
    for k in range(180):  # vitals q4h, 30 days
        t = 4.0 * k + rng.uniform(0, 0.5)
        in_crs = crs_start <= t <= crs_start + crs_len
        v: dict = {
            "kind": "vitals",
            "t_hours": round(t, 2),
            "temp_c": round(
                rng.uniform(38.0, 39.8) if in_crs and rng.random() < 0.7 else rng.uniform(36.2, 37.6), 1
            ),
            "hr": rng.randint(70, 130),
            "sbp": rng.randint(80, 130) if in_crs else rng.randint(100, 140),
            "dbp": 0,  # set below the systolic just after
            "rr": rng.randint(12, 28),
            "spo2": rng.randint(88, 99),
            "o2_device": "room_air",
            "o2_flow_l_min": 0,
        }
        v["dbp"] = rng.randint(45, min(80, v["sbp"] - 10))
        if in_crs and rng.random() < 0.3:
            v["o2_device"], v["o2_flow_l_min"] = rng.choice(
                [
                    ("nasal_cannula", 2),
                    ("nasal_cannula", 4),
                    ("nasal_cannula", 6),
                    ("hfnc", 30),
                    ("venturi", 8),
                ]
            )
        if in_crs and rng.random() < 0.15:
            v["vasopressors"] = rng.choice([["norepinephrine"], ["norepinephrine", "vasopressin"]])
        if in_crs and rng.random() < 0.2:
            v["fluid_bolus_for_hypotension"] = True
        obs.append(v)
    for k in range(60):  # neuro twice daily
        t = 12.0 * k + 1.0
        orient = 4 if rng.random() < 0.9 else rng.randint(1, 3)
        obs.append(
            {
                "kind": "neuro",
                "t_hours": t,
                "ice": {
                    "orientation": orient,
                    "naming": 3,
                    "commands": 1,
                    "writing": rng.randint(0, 1),
                    "attention": 1,
                },
                "consciousness": "alert" if rng.random() < 0.95 else "awakens_to_voice",
                "seizure": "none",
                "motor": "none",
                "icp_edema": "none",
            }
        )
    obs.append(
        {
            "kind": "lab",
            "t_hours": -120,
            "platelets_10e9_L": 160,
            "anc_per_uL": 1800,
            "hgb_g_dL": 10.5,
            "crp_mg_dL": 1.2,
            "ferritin_ng_mL": 800,
            "ldh_U_L": 250,
            "creatinine_mg_dL": 0.9,
        }
    )
    for d in range(31):  # daily labs
        obs.append(
            {
                "kind": "lab",
                "t_hours": 24.0 * d + 6,
                "anc_per_uL": rng.choice([50, 300, 450, 800, 1500, 2500]),
                "platelets_10e9_L": rng.randint(20, 200),
                "hgb_g_dL": round(rng.uniform(7.5, 12), 1),
                "crp_mg_L": rng.randint(1, 250),
                "ferritin_ng_mL": rng.randint(200, 9000),
                "ldh_U_L": rng.randint(150, 900),
                "creatinine_umol_L": rng.randint(50, 160),
                "fibrinogen_mg_dL": rng.randint(120, 500),
                "alt_U_L": rng.randint(10, 200),
                "alt_uln_U_L": 40,
            }
        )
    t = crs_start + 2
    for _ in range(3):
        obs.append({"kind": "medication", "t_hours": round(t, 2), "drug": "tocilizumab", "dose_mg": 624})
        t += 9
    for k in range(8):
        obs.append(
            {
                "kind": "medication",
                "t_hours": round(crs_start + 6 * k, 2),
                "drug": "acetaminophen",
                "dose_mg": 1000,
            }
        )
    for k in range(6):
        obs.append(
            {
                "kind": "medication",
                "t_hours": round(crs_start + 20 + 6 * k, 2),
                "drug": "dexamethasone",
                "dose_mg": 10,
            }
        )
    rng.shuffle(obs)
    return {
        "id": f"B{seed}",
        "patient": {
            "age_years": 61,
            "weight_kg": 78,
            "indication": "relapsed LBCL",
            "product": "axicabtagene ciloleucel",
        },
        "observations": obs,
    }


def main() -> None:
    cases = [carttrack.parse_case(build_course(seed)) for seed in range(20)]
    n_obs = sum(len(c.observations) for c in cases) / len(cases)
    for c in cases:  # warm-up
        carttrack.evaluate(c)
    # full-course evaluations
    # CPU time of this process (one core): not inflated by other processes competing for the CPU
    rounds = 0
    start = time.process_time()
    wall_start = time.perf_counter()
    while time.process_time() - start < 3.0:
        for c in cases:
            carttrack.evaluate(c)
        rounds += 1
    elapsed = time.process_time() - start
    wall_elapsed = time.perf_counter() - wall_start
    full_per_s = rounds * len(cases) / elapsed
    # incremental: course evaluated, then add one observation (at the end) and evaluate again
    samples: list[float] = []
    for c in cases:
        obs = sorted(c.observations, key=lambda o: o.t_hours)
        last_t = obs[-1].t_hours
        for k in range(200):
            ev = carttrack.Evaluator(c.patient)
            ev.extend(obs)
            ev.evaluate()
            new = carttrack.parse_observation(
                {
                    "kind": "vitals",
                    "t_hours": last_t + 1 + k * 0.01,
                    "temp_c": 38.4,
                    "sbp": 96,
                    "dbp": 60,
                    "o2_device": "nasal_cannula",
                    "o2_flow_l_min": 3,
                },
                index=len(obs),
            )
            t0 = time.process_time()  # CPU time, 1 ns resolution (CLOCK_PROCESS_CPUTIME_ID)
            ev.add(new)
            ev.evaluate()
            samples.append(time.process_time() - t0)
    samples.sort()
    add_median_us = samples[len(samples) // 2] * 1e6
    add_p95_us = samples[int(len(samples) * 0.95)] * 1e6
    result = {
        "observations_per_course": round(n_obs, 1),
        "full_course_evaluations_per_s": round(full_per_s, 1),
        "full_course_ms": round(1000.0 / full_per_s, 3),
        "full_course_wall_ms": round(1000.0 * wall_elapsed / (rounds * len(cases)), 3),
        "add_one_observation_us_median": round(add_median_us, 1),
        "add_one_observation_us_p95": round(add_p95_us, 1),
        "python": sys.version.split()[0],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
