"""Lupus nephritis: the renal response shown and the LN flare alert (RENAL-1…RENAL-5; G-5)."""

from __future__ import annotations

from carttrack.followup.renal import RenalBaseline
from carttrack.followup.results import FindingCode
from carttrack.followup.settings import FollowupSettings

from .helpers import LN, MONTH, SLE, lab, out

BLISS = FollowupSettings(renal_response_definition="bliss_ln")


def upcr(t: float, value: float, egfr: float | None = None) -> dict:
    return lab(t, upcr_mg_mg=value, **({"egfr_mL_min": egfr} if egfr is not None else {}))


def test_renal_response_applies_to_the_lupus_nephritis_group_only():
    obs = [upcr(-120, 3.0, 90), upcr(6 * MONTH, 0.3, 90)]
    assert out(obs, LN)["renal_response"] == "complete"
    sle = out(obs, SLE)
    assert sle["renal_response"] is None and sle["ln_flare"] is None
    explicit = out(obs, {**SLE, "indication_group": "lupus_nephritis"})
    assert explicit["renal_response"] == "complete"


def test_kdigo_egfr_below_85_percent_is_no_response():
    assert out([upcr(-120, 3.0, 80), upcr(6 * MONTH, 0.3, 67.9)], LN)["renal_response"] == "none"


def test_bliss_ln_setting_uses_its_own_cut_offs():
    # eGFR 60/80 = 75 %: KDIGO none (< 85 %), BLISS-LN PERR (eGFR ≥ 60) with UPCR 0.7
    obs = [upcr(-120, 1.0, 80), upcr(6 * MONTH, 0.7, 60)]
    assert out(obs, LN)["renal_response"] == "none"
    assert out(obs, LN, settings=BLISS)["renal_response"] == "partial"
    # complete: eGFR ≥ 90 whatever the baseline, UPCR < 0.5
    assert (
        out([upcr(-120, 1.0, 120), upcr(6 * MONTH, 0.4, 90)], LN, settings=BLISS)["renal_response"]
        == "complete"
    )


def test_24_hour_protein_counts_as_upcr():
    obs = [lab(-120, protein_g_24h=2.4, egfr_mL_min=90), lab(6 * MONTH, protein_g_24h=0.45, egfr_mL_min=88)]
    assert out(obs, LN)["renal_response"] == "complete"


def test_missing_egfr_leaves_a_low_upcr_undecided_but_a_high_one_is_none():
    assert out([upcr(-120, 3.0), upcr(6 * MONTH, 0.3)], LN)["renal_response"] is None
    assert out([upcr(-120, 3.0), upcr(6 * MONTH, 3.2)], LN)["renal_response"] == "none"


def test_ln_flare_is_dated_at_its_first_sample_and_raises_an_urgent_finding():
    obs = [
        upcr(-120, 3.0, 85),
        upcr(4380, 0.3, 88),
        upcr(6570, 0.8, 86),
        upcr(6600, 0.7, 86),
        upcr(6738, 0.9, 85),
    ]
    o = out(obs, LN)
    assert o["ln_flare"] is True and o["relapse_hours"] == 6570
    relapse = [f for f in o["findings"] if f["code"] == FindingCode.RELAPSE]
    assert [f["t_hours"] for f in relapse] == [6570]


def test_ln_flare_run_must_qualify_at_every_sample():
    obs = [
        upcr(-120, 3.0, 85),
        upcr(4380, 0.3, 88),
        upcr(6570, 0.8, 86),
        upcr(6600, 0.4, 86),
        upcr(6738, 0.9, 85),
    ]
    assert out(obs, LN)["ln_flare"] is False


def test_after_a_flare_a_new_response_is_needed_before_the_next_flare():
    obs = [
        upcr(-120, 3.0, 85),
        upcr(4380, 0.3, 88),
        upcr(6570, 0.8, 86),
        upcr(6738, 0.9, 85),
        upcr(7000, 1.2, 85),
        upcr(7500, 1.1, 85),
    ]
    r = out(obs, LN)
    assert [f["t_hours"] for f in r["findings"] if f["code"] == "relapse"] == [6570]
    again = [*obs, upcr(8000, 0.4, 88), upcr(8500, 0.9, 88), upcr(8700, 1.0, 88)]
    assert [f["t_hours"] for f in out(again, LN)["findings"] if f["code"] == "relapse"] == [6570, 8500]


def test_partial_response_flare_needs_doubling_from_the_nadir_and_above_1():
    # nadir 0.6: 1.1 is not ≥ 1.2
    obs = [upcr(-120, 4.0, 70), upcr(2160, 0.6, 72), upcr(6570, 1.1, 70), upcr(6738, 1.15, 69)]
    assert out(obs, LN)["ln_flare"] is False
    obs = [upcr(-120, 4.0, 70), upcr(2160, 0.6, 72), upcr(6570, 1.2, 70), upcr(6738, 1.3, 69)]
    assert out(obs, LN)["ln_flare"] is True


def test_the_complete_rule_holds_once_a_complete_response_was_ever_reached():
    # complete at 2160, back to partial at 4380 (0.8): two samples > 0.5 a week apart are a flare
    # under the complete-response rule, though neither doubles the nadir 0.3 nor exceeds 1.0
    obs = [upcr(-120, 3.0, 85), upcr(2160, 0.3, 88), upcr(4380, 0.8, 86), upcr(4548, 0.7, 86)]
    o = out(obs, LN)
    assert o["ln_flare"] is True and o["relapse_hours"] == 4380 and o["renal_response"] == "partial"


def test_the_physician_can_override_the_baseline():
    obs = [upcr(-120, 0.9, 90), upcr(6 * MONTH, 0.6, 70)]
    assert out(obs, LN)["renal_response"] == "none"  # fall 33 %, eGFR 78 %
    r = out(obs, LN, renal_baseline=RenalBaseline(upcr_mg_mg=1.5, egfr_mL_min=80))
    assert r["renal_response"] == "partial"  # fall 60 %, eGFR 87.5 %
    assert "baseline (set by the physician) UPCR 1.5, eGFR 80" in r["drivers"]["renal"][0]
