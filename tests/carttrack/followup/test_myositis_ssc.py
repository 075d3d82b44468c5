"""Myositis TIS and systemic sclerosis: the response, activity and relapse shown (TIS, SSC,
RELAPSE-3, RELAPSE-4; G-9)."""

from __future__ import annotations

import pytest

from carttrack.followup.inputs import MyositisCoreSet
from carttrack.followup.myositis import measure_points, total_improvement_score

from .helpers import MONTH, out

DM = {"age_years": 50, "weight_kg": 70, "indication": "dermatomyositis", "product": "CD19 CAR-T"}
JDM = {"age_years": 14, "weight_kg": 45, "indication": "juvenile dermatomyositis", "product": "CD19 CAR-T"}
SSC = {"age_years": 45, "weight_kg": 60, "indication": "diffuse cutaneous SSc", "product": "CD19 CAR-T"}
BASE = {
    "physician_global": 6.0,
    "patient_global": 6.0,
    "mmt8": 100,
    "haq": 1.5,
    "enzyme_U_L": 1000,
    "extramuscular": 4.0,
}


def core(t: float, **kw: float | bool) -> dict:
    return {"kind": "myositis_core_set", "t_hours": t, **{**BASE, **kw}}


def ssc(t: float, **kw: object) -> dict:
    base = {
        "mrss": 20,
        "delta_skin": False,
        "digital_ulcers": False,
        "tendon_friction_rubs": False,
        "crp_mg_dL": 0.5,
        "dlco_pct_predicted": 80,
        "fvc_pct_predicted": 85,
    }
    return {"kind": "ssc_assessment", "t_hours": t, **{**base, **kw}}


@pytest.mark.parametrize(
    ("measure", "baseline", "follow_up", "points"),
    [
        ("physician_global", 10, 9.5, 0.0),  # exactly 5 %: first band
        ("physician_global", 10, 9.4, 7.5),
        ("physician_global", 10, 8.5, 7.5),  # exactly 15 %
        ("physician_global", 10, 6.0, 17.5),  # exactly 40 %
        ("physician_global", 10, 5.9, 20.0),
        ("mmt8", 100, 102, 0.0),  # exactly 2 %
        ("mmt8", 100, 130, 27.5),  # exactly 30 %
        ("mmt8", 0, 1, 32.5),  # baseline 0, any gain: top band
        ("haq", 0, 0, 0.0),  # lower-is-better at baseline 0 cannot improve
        ("enzyme_U_L", 1000, 3000, 0.0),  # worsening scores 0 however large
    ],
)
def test_tis_band_edges(measure, baseline, follow_up, points):
    assert measure_points(measure, baseline, follow_up)[0] == points


def test_missing_measure_gives_no_tis():
    tis, text = total_improvement_score(
        MyositisCoreSet(-120, **BASE), MyositisCoreSet(100, physician_global=1.0)
    )
    assert tis is None and "not recorded" in text


def test_juvenile_thresholds_by_group_or_by_the_core_set():
    # physician 6 -> 3 (20), patient 6 -> 4.5 (25 %: 5), MMT 100 -> 120 (20), HAQ unchanged, enzyme
    # 1000 -> 800 (20 %: 5), extramuscular unchanged: TIS 50
    visit = core(6 * MONTH, physician_global=3.0, patient_global=4.5, mmt8=120, enzyme_U_L=800)
    assert out([core(-120), visit], DM)["tis_response"] == "moderate"
    assert out([core(-120), visit], JDM)["tis_response"] == "moderate"  # ≥ 45
    forty = {**visit, "mmt8": 110}  # MMT-8 +10 %: 10 points, TIS 40
    assert out([core(-120), forty], DM)["tis_response"] == "moderate"
    assert out([core(-120, juvenile=True), forty], DM)["tis_response"] == "minimal"  # juvenile: 40 < 45


def test_juvenile_relapse_below_30_after_45():
    good = core(6 * MONTH, physician_global=3.0, patient_global=4.5, mmt8=120, enzyme_U_L=800)  # 50
    worse = core(12 * MONTH, physician_global=4.5, mmt8=110)  # 15 + 10 = 25
    o = out([core(-120), good, worse], JDM)
    assert o["tis"] == 25 and o["relapse"] is True and o["relapse_hours"] == 12 * MONTH
    adult = out([core(-120), good, worse], DM)
    assert adult["relapse"] is False  # 25 ≥ 20 is still a minimal response


def test_physician_declared_relapse_counts_for_myositis():
    o = out(
        [core(-120), core(6 * MONTH), {"kind": "event", "t_hours": 7 * MONTH, "event": "flare_declared"}], DM
    )
    assert o["relapse"] is True and o["relapse_hours"] == 7 * MONTH


def test_eustar_item_not_recorded_gives_no_index():
    o = out([ssc(-120), ssc(6 * MONTH, dlco_pct_predicted=None)], SSC)
    assert o["eustar_ai"] is None and o["eustar_active"] is None and o["ssc_progression"] is False


def test_mrss_progression_needs_more_than_5_and_25_percent():
    assert out([ssc(-120, mrss=30), ssc(6 * MONTH, mrss=36)], SSC)["ssc_progression"] is False  # +6 = 20 %
    assert out([ssc(-120, mrss=20), ssc(6 * MONTH, mrss=26)], SSC)["ssc_progression"] is True  # +6 = 30 %
    assert out([ssc(-120, mrss=0), ssc(6 * MONTH, mrss=6)], SSC)["ssc_progression"] is True


def test_eustar_back_to_active_needs_an_inactive_post_infusion_value_first():
    active = {"tendon_friction_rubs": True, "delta_skin": True}  # 3.75
    stays = out([ssc(-120, **active), ssc(3 * MONTH, **active), ssc(6 * MONTH, **active)], SSC)
    assert stays["eustar_active"] is True and stays["relapse"] is False
    back = out([ssc(-120, **active), ssc(3 * MONTH), ssc(6 * MONTH, **active)], SSC)
    assert back["relapse"] is True and back["relapse_hours"] == 6 * MONTH


def test_mrss_from_the_17_sites():
    sites = {s: 1 for s in (
        "face", "anterior_chest", "abdomen", "upper_arm_right", "upper_arm_left", "forearm_right",
        "forearm_left", "hand_right", "hand_left", "fingers_right", "fingers_left", "thigh_right",
        "thigh_left", "lower_leg_right", "lower_leg_left", "foot_right", "foot_left",
    )}  # fmt: skip
    o = out([ssc(-120, mrss=10), ssc(6 * MONTH, mrss=None, mrss_sites=sites)], SSC)
    assert o["ssc_progression"] is True  # 17 vs 10: +7, 70 %
