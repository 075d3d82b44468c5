"""Every public follow-up case passes, through the core (parametrized) and through the CLI --check;
the toxicity cases carry no follow-up object."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import carttrack
from carttrack.cases import check_case, run

ROOT = Path(__file__).resolve().parents[3]
FOLLOWUP_FILE = ROOT / "tests" / "data" / "cases-followup-public.json"
TOXICITY_FILE = ROOT / "tests" / "data" / "cases-public.json"
CASES = json.loads(FOLLOWUP_FILE.read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("raw", CASES, ids=[c["id"] for c in CASES])
def test_public_followup_case(raw):
    case = carttrack.parse_case(raw)
    result = carttrack.evaluate_case_followup(case)
    assert result is not None
    out = {"id": case.id, "followup": result.case_output()}
    assert check_case(out, raw["expected"]) == []
    json.dumps(result.to_dict())


def cli_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "carttrack.cases", "--check", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_cli_check_passes_all_public_followup_cases():
    proc = cli_check(FOLLOWUP_FILE)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert f"{len(CASES)} case(s): 0 mismatch" in proc.stderr


def test_cli_output_has_the_followup_keys_of_cases_md():
    outputs, errors, _ = run([str(FOLLOWUP_FILE)])
    assert errors == []
    keys = {
        "sledai_2k",
        "clinical_sledai",
        "sledai_incomplete",
        "sledai_category",
        "sledai_change",
        "pga",
        "doris",
        "lldas",
        "drug_free",
        "renal_response",
        "ln_flare",
        "serology_reactivation",
        "b_cell_reconstitution_hours",
        "tis",
        "tis_response",
        "eustar_ai",
        "eustar_active",
        "ssc_progression",
        "relapse",
        "relapse_hours",
    }
    for out in outputs:
        assert keys <= set(out["followup"]), out["id"]
        assert out["crs_grade"] is None  # the toxicity engine runs beside it and grades nothing here


def test_check_reports_a_followup_mismatch(tmp_path):
    raw = dict(CASES[0])
    raw["expected"] = {"followup": {"sledai_2k": 3, "doris": True}}
    f = tmp_path / "one.json"
    f.write_text(json.dumps(raw))
    proc = cli_check(f)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        "F01: followup.sledai_2k expected 3, got 27",
        "F01: followup.doris expected True, got False",
    ]


def test_toxicity_cases_have_no_followup_unless_late_b_cells_igg_or_upcr():
    outputs, errors, mismatches = run([str(TOXICITY_FILE)], check=True)
    assert errors == [] and mismatches == []
    with_followup = [o["id"] for o in outputs if o["followup"] is not None]
    raw = {c["id"]: c for c in json.loads(TOXICITY_FILE.read_text(encoding="utf-8"))["cases"]}
    late = ("cd19_per_uL", "igg_mg_dL", "upcr_mg_mg")
    for cid in with_followup:  # VISIT-7: a CD19 or IgG value after day 28
        assert any(
            o["kind"] == "lab" and o["t_hours"] > 672 and any(k in o for k in late)
            for o in raw[cid]["observations"]
        )
    assert with_followup == ["V62"]


def test_case_settings_object_changes_the_policy_and_bad_settings_are_errors(tmp_path):
    # The public case whose CD19 runs 12, 9, 10, 15: reconstitution at 3072 h with the default 10 /µL.
    raw = next(c for c in CASES if c["expected"]["followup"].get("b_cell_reconstitution_hours") == 3072)
    lowered = {**raw, "settings": {"b_cell_reconstitution_per_uL": 9}, "expected": {}}
    outputs, errors, _ = run([_write(tmp_path, "a.json", lowered)])
    assert errors == []
    assert outputs[0]["followup"]["b_cell_reconstitution_hours"] == 2400  # 12 then 9: both ≥ 9
    bad = {**raw, "settings": {"sledai_window_days": 20}}
    outputs, errors, _ = run([_write(tmp_path, "b.json", bad)])
    assert outputs == []
    where = f"{tmp_path / 'b.json'}: case {raw['id']}"
    assert errors == [f"{where}, field settings.sledai_window_days: 20 is not one of: 10, 30"]


def _write(tmp_path: Path, name: str, case: dict) -> str:
    f = tmp_path / name
    f.write_text(json.dumps(case))
    return str(f)
