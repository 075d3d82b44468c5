"""Bad case files: message names case, observation index and field; non-zero exit; nothing printed
for that case (other cases in the file are still graded)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD = {
    "id": "OK1",
    "patient": {"age_years": 40, "weight_kg": 70},
    "observations": [{"kind": "vitals", "t_hours": 10, "temp_c": 38.2}],
}


def bad_case(observation: dict) -> dict:
    return {
        "id": "BAD",
        "patient": {"age_years": 40, "weight_kg": 70},
        "observations": [{"kind": "vitals", "t_hours": 1, "temp_c": 37.0}, observation],
    }


def run_cli(tmp_path: Path, cases: list[dict], *args: str) -> subprocess.CompletedProcess:
    f = tmp_path / "cases.json"
    f.write_text(json.dumps({"schema": "carttrack-case/1", "cases": cases}))
    return subprocess.run(
        [sys.executable, "-m", "carttrack.cases", *args, str(f)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("observation", "field", "fragment"),
    [
        ({"kind": "labs", "t_hours": 2, "anc_per_uL": 300}, "kind", "'labs' is not one of"),
        ({"kind": "vitals", "t_hours": 2, "temperature": 38}, "temperature", "unknown field for vitals"),
        ({"kind": "vitals", "t_hours": 2, "sbp": "low"}, "sbp", "is not a number"),
        ({"kind": "vitals", "t_hours": 2, "temp_c": 60}, "temp_c", "60 is outside 25–45 °C"),
        ({"kind": "neuro", "t_hours": 2, "ice": {"orientation": 5}}, "ice.orientation", "5 is outside 0–4"),
    ],
)
@pytest.mark.parametrize("check", [False, True])
def test_bad_observation(tmp_path, observation, field, fragment, check):
    args = ("--check",) if check else ()
    proc = run_cli(tmp_path, [GOOD, bad_case(observation)], *args)
    assert proc.returncode != 0
    assert f"case BAD, observation 1, field {field}: " in proc.stderr
    assert fragment in proc.stderr
    if not check:
        out = json.loads(proc.stdout)
        assert [o["id"] for o in out] == ["OK1"]
    assert "BAD" not in proc.stdout


def test_invalid_json_file(tmp_path):
    f = tmp_path / "broken.json"
    f.write_text("{not json")
    proc = subprocess.run(
        [sys.executable, "-m", "carttrack.cases", str(f)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0 and "broken.json" in proc.stderr


def test_missing_file(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "carttrack.cases", str(tmp_path / "nope.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0
