"""Serological re-activation, B-cell reconstitution and prophylaxis: what the treating physician is
told (SERO-1…SERO-3, BCELL-3…BCELL-7, VISIT-7; G-6, G-7)."""

from __future__ import annotations

from carttrack.followup.results import FindingCode, Urgency
from carttrack.followup.settings import FollowupSettings

from .helpers import MONTH, SLE, lab, meds, out

BALL = {"age_years": 9, "weight_kg": 30, "indication": "relapsed B-ALL", "product": "tisagenlecleucel"}
LYMPHOMA = {"age_years": 60, "weight_kg": 80, "indication": "DLBCL", "product": "axicabtagene ciloleucel"}


def dsdna(t: float, v: float) -> dict:
    return lab(t, anti_dsdna_IU_mL=v, anti_dsdna_cutoff_IU_mL=30)


def complement(t: float, c3: float, c4: float | None = None) -> dict:
    extra = {} if c4 is None else {"c4_mg_dL": c4, "c4_lln_mg_dL": 10}
    return lab(t, c3_mg_dL=c3, c3_lln_mg_dL=90, **extra)


def cd19(t: float, v: float) -> dict:
    return lab(t, cd19_per_uL=v)


def test_complement_reactivation_after_normalisation_is_routine():
    obs = [
        complement(672, 60, 6),
        complement(2160, 95, 12),
        complement(4380, 80, 12),
        complement(6570, 85, 11),
    ]
    o = out(obs)
    assert o["serology_reactivation"] is True
    found = [f for f in o["findings"] if f["code"] == FindingCode.SEROLOGICAL_REACTIVATION]
    assert [(f["urgency"], f["t_hours"]) for f in found] == [(Urgency.ROUTINE, 4380)]
    assert o["relapse"] is False


def test_a_c3_only_normal_sample_cannot_show_normalisation():
    obs = [complement(672, 60), complement(2160, 95), complement(4380, 80), complement(6570, 85)]
    assert out(obs)["serology_reactivation"] is False


def test_only_post_infusion_samples_count():
    # positive, negative before infusion; two positives after: no seroconversion after infusion
    obs = [dsdna(-720, 80), dsdna(-120, 20), dsdna(672, 50), dsdna(2160, 60)]
    assert out(obs)["serology_reactivation"] is False
    # one positive sample after seroconversion is not yet a re-activation
    assert out([dsdna(672, 80), dsdna(2160, 20), dsdna(4380, 45)])["serology_reactivation"] is False


def test_b_all_loss_of_aplasia_is_urgent_and_autoimmune_is_informational():
    course = [cd19(24, 40), cd19(168, 0), cd19(2160, 0), cd19(4380, 12), cd19(5000, 30)]
    ball = out(course, BALL)
    assert ball["b_cell_reconstitution_hours"] == 4380
    assert [(f["code"], f["urgency"]) for f in ball["findings"]] == [("b_cell_aplasia_lost", "urgent")]
    sle = out(course, SLE)
    assert [(f["code"], f["urgency"]) for f in sle["findings"]] == [("b_cell_reconstitution", "info")]
    lymphoma = out(course, LYMPHOMA)
    assert [f["code"] for f in lymphoma["findings"]] == ["b_cell_reconstitution"]
    off = out(course, BALL, settings=FollowupSettings(b_all_aplasia_loss_urgent=False))
    assert [f["code"] for f in off["findings"]] == ["b_cell_reconstitution"]


def test_no_reconstitution_without_documented_aplasia():
    o = out([cd19(24, 15), cd19(2160, 12), cd19(2400, 20)], SLE)
    assert o["b_cell_reconstitution_hours"] is None and o["b_cell_aplasia"] is False


def test_prophylaxis_stop_criteria_make_a_task_and_an_early_stop_a_warning():
    on = meds(-120, ("valacyclovir", 1000), ("tmp_smx", 480))
    base = [on, meds(2160, ("valacyclovir", 1000), ("tmp_smx", 480)), lab(6 * MONTH, cd4_per_uL=150)]
    before_year = out([*base, lab(9 * MONTH, cd4_per_uL=250)])
    assert not any(f["code"] == "prophylaxis_stop_criteria_met" for f in before_year["findings"])
    year = out([*base, lab(9 * MONTH, cd4_per_uL=250), lab(12 * MONTH, cd4_per_uL=260)])
    tasks = [f for f in year["findings"] if f["code"] == "prophylaxis_stop_criteria_met"]
    assert [(f["urgency"], f["t_hours"]) for f in tasks] == [("task", 12 * MONTH)]
    assert "valacyclovir" in tasks[0]["text"]
    low = out([*base, lab(12 * MONTH, cd4_per_uL=180), lab(14 * MONTH, cd4_per_uL=230)])
    assert [f["t_hours"] for f in low["findings"] if f["code"] == "prophylaxis_stop_criteria_met"] == [
        14 * MONTH
    ]
    stopped = out([*base, meds(8 * MONTH, ("tmp_smx", 480))])
    early = [f for f in stopped["findings"] if f["code"] == "prophylaxis_stopped_early"]
    assert [(f["urgency"], f["t_hours"]) for f in early] == [("routine", 8 * MONTH)]
    assert "valacyclovir stopped" in early[0]["text"]


def test_serology_reactivation_is_false_for_lupus_without_samples_and_not_applicable_otherwise():
    assert out([cd19(24, 0), cd19(2000, 0)], SLE)["serology_reactivation"] is False
    assert out([cd19(24, 0), cd19(2000, 0)], LYMPHOMA)["serology_reactivation"] is None


def test_reconstitution_names_the_naive_fraction_when_sent():
    course = [cd19(168, 0), cd19(2640, 12), lab(2928, cd19_per_uL=35, naive_b_cells_pct=92)]
    drivers = out(course, SLE)["drivers"]["b_cells"]
    assert "naïve (CD27−IgD+) 92 % day 122" in drivers[-1]
