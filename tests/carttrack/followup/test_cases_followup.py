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
from carttrack.followup.groups import product_target

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


def test_cli_shows_the_reminders_of_a_followup_case_as_of_its_end(tmp_path):
    """CASE-10: the case-file format has no reminder fields; the command line shows what it computes."""
    month = 730.5
    raw = {
        "id": "R1",
        "patient": {"age_years": 60, "weight_kg": 70, "indication": "myeloma", "product": "ciltacabtagene"},
        "observations": [
            {
                "kind": "medication_status",
                "t_hours": -120,
                "drugs": [{"drug": "prednisolone", "mg_per_day": 5}],
            },
            {"kind": "lab", "t_hours": 30 * 24, "igg_mg_dL": 320},
            {"kind": "medication", "t_hours": 31 * 24, "drug": "ivig", "dose_mg": 30000},
        ],
        "follow_up": {"last_follow_up_hours": 7 * month},
    }
    outputs, errors, _ = run([_write(tmp_path, "r.json", raw)])
    assert errors == []
    fu = outputs[0]["followup"]
    assert fu["reminders_as_of_hours"] == 7 * month
    by = {(r["code"], r["subject"]): r for r in fu["reminders"]}
    assert by[("igg_check_due", "")]["due_hours"] == 58 * 24 and by[("igg_check_due", "")]["due"] is True
    assert "every 4 weeks while IVIG is given" in by[("igg_check_due", "")]["text"]
    assert by[("cmv_pcr_due", "")]["due"] is True  # prednisolone 5 mg/day since before the infusion
    assert by[("revaccination_due", "influenza_covid")]["due_hours"] == 3 * month
    assert "oncology schedule" in by[("revaccination_due", "inactivated")]["text"]  # BCMA: G-8
    assert by[("revaccination_due", "live")]["due_hours"] is None  # not before year 2, on prednisolone
    # The public cases keep their expected results with the reminders beside them.
    outputs, _, mismatches = run([str(FOLLOWUP_FILE)], check=True)
    assert mismatches == [] and all("reminders" in o["followup"] for o in outputs)


@pytest.mark.parametrize(
    ("product", "target"),
    [
        ("CD19 CAR-T (academic)", "CD19"),
        ("axicabtagene ciloleucel", "CD19"),
        ("Idecabtagene vicleucel", "BCMA"),
        ("CD19×BCMA dual CAR-T", "CD19×BCMA"),
        ("CD22 CAR-T", ""),
    ],
)
def test_the_product_target_is_read_from_the_case_files_product(product, target):
    assert product_target(product) == target
