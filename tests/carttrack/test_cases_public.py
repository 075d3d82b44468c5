"""Every public case passes, through the engine (parametrized) and through the CLI --check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import carttrack
from carttrack.cases import check_case

ROOT = Path(__file__).resolve().parents[2]
CASES_FILE = ROOT / "tests" / "data" / "cases-public.json"
CASES = json.loads(CASES_FILE.read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("raw", CASES, ids=[c["id"] for c in CASES])
def test_public_case(raw):
    case = carttrack.parse_case(raw)
    out = carttrack.evaluate(case).case_output(case.id)
    assert check_case(out, raw["expected"]) == []
    assert out["rule_set"] == carttrack.RULE_SET
    json.dumps(out)


def test_cli_check_passes_all_public_cases():
    proc = subprocess.run(
        [sys.executable, "-m", "carttrack.cases", "--check", str(CASES_FILE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert "52 case(s): 0 mismatch" in proc.stderr


def test_cli_prints_json_array_in_file_order():
    proc = subprocess.run(
        [sys.executable, "-m", "carttrack.cases", str(CASES_FILE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert [o["id"] for o in out] == [c["id"] for c in CASES]
    first = out[0]
    for key in (
        "id",
        "crs_grade",
        "crs_grade_at_last_observation",
        "icans_grade",
        "icans_grade_at_last_observation",
        "icaht_grade",
        "suggestions",
        "computed",
        "iec_hs_screen_positive",
        "licats_screen_positive",
        "drivers",
        "rule_set",
    ):
        assert key in first


def test_cli_check_reports_mismatch(tmp_path):
    raw = dict(CASES[0])
    raw["expected"] = {"crs_grade": 3, "suggestions_must_include": ["icu_transfer"]}
    f = tmp_path / "one.json"
    f.write_text(json.dumps(raw))
    proc = subprocess.run(
        [sys.executable, "-m", "carttrack.cases", "--check", str(f)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("V01: crs_grade expected 3, got 1")


def test_single_case_object_file(tmp_path):
    f = tmp_path / "single.json"
    f.write_text(json.dumps(CASES[1]))
    proc = subprocess.run(
        [sys.executable, "-m", "carttrack.cases", str(f)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert json.loads(proc.stdout)[0]["id"] == CASES[1]["id"]
