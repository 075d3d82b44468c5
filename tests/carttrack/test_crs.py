"""CRS rules (CRS-1…CRS-26, A-1…A-15) and their boundaries."""

from __future__ import annotations

import pytest

import carttrack
from carttrack.crs import hypotension_sbp_threshold

from .helpers import ADULT, codes, neuro, run, vitals


def crs_of(*obs, patient=None, settings=None):
    return run(list(obs), patient, settings).crs


@pytest.mark.parametrize(("temp", "grade"), [(38.0, 1), (37.9, 0), (37.99, 0), (40.5, 1)])
def test_fever_threshold_celsius(temp, grade):
    assert crs_of(vitals(10, temp_c=temp)).maximum == grade


@pytest.mark.parametrize(("temp_f", "grade"), [(100.4, 1), (100.3, 0)])
def test_fever_threshold_fahrenheit(temp_f, grade):
    assert crs_of(vitals(10, temp_f=temp_f)).maximum == grade


@pytest.mark.parametrize(("flow", "grade"), [(6, 2), (6.0, 2), (6.1, 3), (7, 3), (1, 2)])
def test_nasal_cannula_flow_boundary(flow, grade):
    assert crs_of(vitals(10, temp_c=38.5, o2_device="nasal_cannula", o2_flow_l_min=flow)).maximum == grade


@pytest.mark.parametrize(
    ("device", "flow", "grade"),
    [
        ("blow_by", None, 2),
        ("hfnc", 40, 3),
        ("hfnc", 4, 3),
        ("simple_face_mask", 5, 3),
        ("venturi", 8, 3),
        ("non_rebreather", 15, 3),
        ("cpap", None, 4),
        ("bipap", None, 4),
        ("niv_other", None, 4),
        ("invasive_mv", None, 4),
        ("room_air", None, 1),
    ],
)
def test_oxygen_devices(device, flow, grade):
    kw = {"o2_device": device}
    if flow is not None:
        kw["o2_flow_l_min"] = flow
    assert crs_of(vitals(10, temp_c=38.5, **kw)).maximum == grade


def test_hfnc_low_flow_warning_and_setting():
    ev = run([vitals(10, temp_c=38.5, o2_device="hfnc", o2_flow_l_min=4)])
    assert any("HFNC" in n for n in ev.crs.notes)
    s = carttrack.DecisionSettings(hfnc_device_beats_flow=False)
    assert run([vitals(10, temp_c=38.5, o2_device="hfnc", o2_flow_l_min=4)], settings=s).crs.maximum == 2


def test_oxygen_for_comfort_is_not_hypoxia():
    assert (
        crs_of(
            vitals(10, temp_c=38.2, o2_device="nasal_cannula", o2_flow_l_min=2, o2_for_comfort_only=True)
        ).maximum
        == 1
    )


def test_home_oxygen_baseline():
    home = {**ADULT, "home_o2_l_min": 2}
    assert (
        crs_of(vitals(10, temp_c=38.5, o2_device="nasal_cannula", o2_flow_l_min=2), patient=home).maximum == 1
    )
    assert (
        crs_of(vitals(10, temp_c=38.5, o2_device="nasal_cannula", o2_flow_l_min=3), patient=home).maximum == 2
    )
    assert crs_of(vitals(10, temp_c=38.5, o2_device="venturi", o2_flow_l_min=2), patient=home).maximum == 3


@pytest.mark.parametrize(
    ("pressors", "grade"),
    [
        (["norepinephrine"], 3),
        (["vasopressin"], 3),
        (["norepinephrine", "vasopressin"], 3),
        (["norepinephrine", "phenylephrine"], 4),
        (["norepinephrine", "epinephrine"], 4),
        (["norepinephrine", "vasopressin", "epinephrine"], 4),
        (["dobutamine"], 1),
        (["milrinone"], 1),
        (["dopamine"], 3),
        (["angiotensin_ii"], 3),
    ],
)
def test_vasopressors(pressors, grade):
    assert crs_of(vitals(10, temp_c=38.5, sbp=120, dbp=70, vasopressors=pressors)).maximum == grade


def test_vasopressin_alone_setting():
    s = carttrack.DecisionSettings(vasopressin_alone_counts=False)
    assert crs_of(vitals(10, temp_c=38.5, vasopressors=["vasopressin"]), settings=s).maximum == 2


def test_more_severe_event_wins():
    # ASTCT worked example: febrile + one vasopressor + low-flow NC = grade 3
    v = vitals(10, temp_c=39.5, vasopressors=["norepinephrine"], o2_device="nasal_cannula", o2_flow_l_min=3)
    assert crs_of(v).maximum == 3
    v = vitals(10, temp_c=39.5, vasopressors=["norepinephrine"], o2_device="bipap")
    assert crs_of(v).maximum == 4


@pytest.mark.parametrize(
    ("sbp", "dbp", "grade"), [(90, 70, 1), (89, 70, 2), (110, 40, 2), (100, 48, 1), (100, 47, 2)]
)
def test_adult_sbp_90_and_map_65(sbp, dbp, grade):
    # MAP = (SBP + 2 DBP) / 3: 100/48 -> 65.3 (not hypotension), 100/47 -> 64.7
    assert crs_of(vitals(10, temp_c=38.5, sbp=sbp, dbp=dbp)).maximum == grade


def test_explicit_map():
    # 110/50 computes to MAP 70; a measured MAP wins
    assert crs_of(vitals(10, temp_c=38.5, sbp=110, dbp=50, map=64)).maximum == 2
    assert crs_of(vitals(10, temp_c=38.5, sbp=110, dbp=50, map=65)).maximum == 1


def test_fluid_bolus_counts_as_hypotension():
    assert crs_of(vitals(10, temp_c=38.5, sbp=110, fluid_bolus_for_hypotension=True)).maximum == 2


@pytest.mark.parametrize(
    ("age", "threshold"),
    [(0.05, 60), (0.5, 70), (1.0, 72), (5.0, 80), (5.9, 80), (9.99, 88), (10.0, 90), (15.0, 90), (18.0, 90)],
)
def test_pals_thresholds(age, threshold):
    assert hypotension_sbp_threshold(age, carttrack.DecisionSettings()) == threshold


def test_child_hypotension_uses_pals_and_no_map_rule():
    child = {"age_years": 5, "weight_kg": 18}
    assert crs_of(vitals(10, temp_c=38.5, sbp=80, dbp=40), patient=child).maximum == 1
    assert crs_of(vitals(10, temp_c=38.5, sbp=79, dbp=40), patient=child).maximum == 2


def test_no_fever_hypotension_is_not_crs_and_alerts_sepsis():
    ev = run([vitals(10, temp_c=36.0, sbp=78, vasopressors=["norepinephrine"])])
    assert ev.crs.maximum == 0 and ev.sepsis_alert
    assert {"sepsis_evaluation", "notify_physician_urgent", "vasopressor_support"} <= codes(ev)
    assert "tocilizumab" not in codes(ev)
    assert any("evaluate sepsis" in d.text for d in ev.crs.drivers)


def test_prophylactic_steroid_without_fever_does_not_open_episode():
    ev = run(
        [
            {"kind": "medication", "t_hours": 0, "drug": "dexamethasone", "dose_mg": 10},
            vitals(10, temp_c=37.0, sbp=80),
        ]
    )
    assert ev.crs.maximum == 0 and ev.sepsis_alert


def test_crs_diagnosed_event_opens_episode_with_masking():
    ev = run(
        [
            {"kind": "medication", "t_hours": 0, "drug": "tocilizumab", "dose_mg": 560},
            {"kind": "event", "t_hours": 5, "event": "crs_diagnosed"},
            vitals(10, temp_c=37.0, sbp=80),
        ]
    )
    assert ev.crs.maximum == 2 and not ev.sepsis_alert


def test_fever_within_24h_qualifies_hypotension():
    assert crs_of(vitals(10, temp_c=38.5), vitals(34, temp_c=37.0, sbp=80)).maximum == 2
    ev = run([vitals(10, temp_c=38.5), vitals(34.5, temp_c=37.0, sbp=80)])
    assert ev.crs.maximum == 1 and ev.sepsis_alert


def test_anticytokine_masks_for_rest_of_episode():
    obs = [
        vitals(10, temp_c=38.5),
        {"kind": "medication", "t_hours": 11, "drug": "tocilizumab", "dose_mg": 560},
        vitals(40, temp_c=37.0, o2_device="nasal_cannula", o2_flow_l_min=2),
        vitals(80, temp_c=37.0, vasopressors=["norepinephrine"]),
    ]
    ev = run(obs)
    assert ev.crs.maximum == 3 and ev.crs.current == 3


def test_steroid_for_other_reason_does_not_mask():
    obs = [
        vitals(10, temp_c=38.5),
        {"kind": "medication", "t_hours": 11, "drug": "prednisolone", "dose_mg": 5, "for_crs_icans": False},
        vitals(40, temp_c=37.0, sbp=80),
    ]
    assert run(obs).crs.maximum == 1


@pytest.mark.parametrize(("gap", "grade"), [(24, 2), (24.5, 1)])
def test_antipyretic_masks_24h(gap, grade):
    obs = [
        vitals(10, temp_c=38.5),
        {"kind": "medication", "t_hours": 11, "drug": "acetaminophen", "dose_mg": 1000},
        vitals(11 + gap, temp_c=37.0, sbp=80),
    ]
    assert run(obs).crs.maximum == grade


def test_episode_closes_after_48h_and_masking_ends():
    # A-2 (revised): once the episode has closed, fever stays waived only while the therapy acts
    # (7 days after tocilizumab); 200 h after the dose it no longer does.
    obs = [
        vitals(10, temp_c=38.5),
        {"kind": "medication", "t_hours": 11, "drug": "tocilizumab", "dose_mg": 560},
        vitals(60, temp_c=37.0),
        vitals(211, temp_c=37.0, sbp=80),
    ]
    ev = run(obs)
    assert ev.crs.maximum == 1 and ev.sepsis_alert and not ev.crs.episode_open


def test_attribution_excludes_findings():
    ev = run([vitals(10, temp_c=38.5, attributed_to="pneumonia")])
    assert ev.crs.maximum == 0 and any("pneumonia" in n for n in ev.crs.notes)
    ev = run([vitals(10, temp_c=38.5, o2_device="venturi", hypoxia_attributed_to="pulmonary embolism")])
    assert ev.crs.maximum == 1
    ev = run([vitals(10, temp_c=38.5, attributed_to="crs", o2_device="venturi")])
    assert ev.crs.maximum == 3


def test_current_vs_maximum_and_grade5():
    ev = run(
        [vitals(10, temp_c=38.5, vasopressors=["norepinephrine"]), vitals(20, temp_c=37.0, vasopressors=[])]
    )
    assert (ev.crs.maximum, ev.crs.current) == (3, 0)
    ev = run(
        [
            vitals(10, temp_c=38.5),
            {"kind": "event", "t_hours": 30, "event": "death", "attributed_to": "sepsis"},
        ]
    )
    assert ev.crs.maximum == 1
    ev = run(
        [vitals(10, temp_c=38.5), {"kind": "event", "t_hours": 30, "event": "death", "attributed_to": "CRS"}]
    )
    assert ev.crs.maximum == 5 and ev.suggestions == ()


def test_no_vitals_means_null_crs():
    ev = run([neuro(10)])
    assert ev.crs.maximum is None and ev.crs.current is None


def test_drivers_name_criterion_and_observation():
    ev = run([vitals(50, temp_c=39.1, vasopressors=["norepinephrine"])])
    d = ev.crs.drivers[0]
    assert d.observation_index == 0 and d.t_hours == 50
    assert d.text == "CRS grade 3: norepinephrine (one vasopressor) (fever 39.1 °C), t=+50.0 h"


def test_fever_and_hypotension_charted_separately_at_same_time():
    for obs in (
        [vitals(50, temp_c=38.6), {"kind": "vitals", "t_hours": 50, "sbp": 80, "dbp": 50}],
        [{"kind": "vitals", "t_hours": 50, "sbp": 80, "dbp": 50}, vitals(50, temp_c=38.6)],
    ):
        ev = run(obs)
        assert (ev.crs.maximum, ev.crs.current, ev.sepsis_alert) == (2, 2, False)


def test_fever_before_the_infusion_is_not_crs_and_says_so():
    """CRS follows the infusion; fever between lymphodepletion and infusion postpones it (EVAL-4, MGMT-25)."""
    before = run([vitals(-6, temp_c=38.7, hr=118)])
    assert before.crs.current is None and before.crs.maximum is None
    assert any("before the infusion" in n and "48 h afebrile" in n for n in before.crs.notes)
    after = run([vitals(-6, temp_c=38.7, hr=118), vitals(6, temp_c=38.2)])
    assert after.crs.current == 1 and after.crs.maximum == 1
