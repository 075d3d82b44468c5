"""The revised decisions: A-2 (masking after the episode), B-1 (incomplete ICE), A-15 (hypoxaemia),
B-9 (intracranial haemorrhage); drivers with the precision that decided them."""

from __future__ import annotations

import pytest

import carttrack
from carttrack import FINDING_CODES

from .helpers import ADULT, codes, lab, med, neuro, run, vitals

ICE_0_OF_8 = {"orientation": 0, "naming": 0, "commands": None, "writing": None, "attention": 0}


def findings(ev: carttrack.Evaluation) -> dict[str, carttrack.UrgentFinding]:
    return {f.code: f for f in ev.urgent_findings}


# ---------------------------------------------------------------- B-1


def test_awake_incomplete_ice_with_no_tested_point_grades_3_flagged_incomplete():
    ev = run([neuro(50, ice=ICE_0_OF_8, consciousness="alert")])
    assert (ev.icans.maximum, ev.icans.current) == (3, 3) and ev.icans.incomplete
    assert "continue_monitoring" not in codes(ev)
    assert {"icu_transfer", "neuroimaging", "dexamethasone"} <= codes(ev)
    text = ev.icans.drivers[0].text
    assert (
        "ICE incomplete: at best 2/10 (0 of 8 tested points; commands, writing not assessable, B-1)" in text
    )


@pytest.mark.parametrize(
    ("ice", "grade"),
    [
        ({"orientation": 2, "naming": 3, "commands": None, "writing": None, "attention": 1}, 1),  # best 8
        ({"orientation": 4, "naming": 3, "commands": None, "writing": None, "attention": 1}, 0),  # best 10
        ({"orientation": 1, "naming": 1, "commands": 1, "writing": None, "attention": 0}, 2),  # best 4
        ({"orientation": 4, "naming": None, "commands": 1, "writing": 1, "attention": 1}, 0),  # best 10
    ],
)
def test_incomplete_ice_grades_as_its_best_possible_completion(ice, grade):
    ev = run([neuro(50, ice=ice)])
    assert ev.icans.current == grade and ev.icans.incomplete


def test_no_item_testable_is_not_assessable_and_other_domains_still_grade():
    nothing = dict.fromkeys(ICE_0_OF_8)
    ev = run([neuro(50, ice=nothing, consciousness="awakens_to_voice")])
    assert ev.icans.current == 2 and ev.icans.incomplete


def test_ice_not_performed_leaves_the_last_ice_standing():
    low = {"orientation": 1, "naming": 1, "commands": 0, "writing": 0, "attention": 0}
    ev = run([neuro(50, ice=low), neuro(52, ice=None)])
    assert ev.icans.current == 3
    enc = {v.domain: v for v in ev.icans.standing}["encephalopathy"]
    assert enc.text == "ICE 2/10" and enc.t_hours == 50


# ----------------------------------------------------------------


def test_spo2_86_on_room_air_raises_an_urgent_hypoxaemia_finding_not_a_crs_grade():
    ev = run([vitals(50, temp_c=36.8, spo2=86)])
    assert ev.crs.maximum == 0
    f = findings(ev)["hypoxaemia"]
    assert f.text == "hypoxaemia: SpO2 86 % on room air — assess oxygen"
    assert f.t_hours == 50 and f.observation_index == 0 and f.source == "ALERT-11, A-15"
    assert "notify_physician_urgent" in codes(ev) and "continue_monitoring" not in codes(ev)
    assert next(s for s in ev.suggestions if s.code == "notify_physician_urgent").text.startswith(
        "hypoxaemia"
    )


def test_hypoxaemia_names_the_standing_support_and_the_grade_follows_the_support():
    ev = run(
        [
            vitals(30, temp_c=38.6, o2_device="nasal_cannula", o2_flow_l_min=4),
            {"kind": "vitals", "t_hours": 31, "spo2": 85},
        ]
    )
    assert ev.crs.current == 2
    assert findings(ev)["hypoxaemia"].text == "hypoxaemia: SpO2 85 % on nasal cannula 4 L/min — assess oxygen"


def test_hypoxaemia_without_oxygen_recorded_says_so_and_ends_with_a_better_spo2():
    ev = run([{"kind": "vitals", "t_hours": 5, "spo2": 88}])
    assert (
        findings(ev)["hypoxaemia"].text
        == "hypoxaemia: SpO2 88 % on oxygen support not recorded — assess oxygen"
    )
    ev = run([{"kind": "vitals", "t_hours": 5, "spo2": 88}, {"kind": "vitals", "t_hours": 6, "spo2": 95}])
    assert ev.urgent_findings == ()


@pytest.mark.parametrize(("spo2", "urgent"), [(89.9, True), (90, False), (89, True)])
def test_hypoxaemia_threshold_is_below_90(spo2, urgent):
    assert bool(run([vitals(5, spo2=spo2)]).urgent_findings) is urgent


def test_hypoxaemia_threshold_is_a_setting():
    s = carttrack.DecisionSettings(hypoxaemia_spo2_below_percent=92.0)
    assert run([vitals(5, spo2=91)], settings=s).urgent_findings[0].code == "hypoxaemia"


# ---------------------------------------------------------------- B-9


def test_intracranial_haemorrhage_is_an_urgent_finding_with_consult_and_imaging():
    ev = run(
        [lab(40, platelets_10e9_L=32), neuro(44, intracranial_hemorrhage=True, icp_edema="focal_local_edema")]
    )
    assert ev.icans.current == 0
    f = findings(ev)["intracranial_haemorrhage"]
    assert f.text == "intracranial haemorrhage: grade by CTCAE, not ICANS"
    assert f.suggestions == ("notify_physician_urgent", "neuro_consult", "neuroimaging")
    assert f.notes == (
        "platelets 32 ×10⁹/L at t=+40.0 h: below the transfusion threshold of 50 ×10⁹/L for "
        "intracranial haemorrhage (B-9)",
    )
    assert {"notify_physician_urgent", "neuro_consult", "neuroimaging"} <= codes(ev)


def test_haemorrhage_does_not_hide_diffuse_oedema_recorded_with_it():
    ev = run([neuro(44, intracranial_hemorrhage=True, icp_edema="diffuse_edema")])
    assert ev.icans.current == 4 and "raised_icp_management" in codes(ev)
    assert "intracranial_haemorrhage" in findings(ev)


@pytest.mark.parametrize("icp", ["posturing", "papilledema", "cushing_triad", "cn_vi_palsy"])
def test_haemorrhage_does_not_hide_other_signs_of_raised_pressure(icp):
    assert run([neuro(44, intracranial_hemorrhage=True, icp_edema=icp)]).icans.current == 4


def test_haemorrhage_platelet_note_only_below_50_and_asks_for_a_count_when_none():
    ev = run([lab(40, platelets_10e9_L=80), neuro(44, intracranial_hemorrhage=True)])
    assert findings(ev)["intracranial_haemorrhage"].notes == ()
    ev = run([neuro(44, intracranial_hemorrhage=True)])
    assert "no platelet count within 24 h" in findings(ev)["intracranial_haemorrhage"].notes[0]


def test_haemorrhage_stands_until_a_neuro_record_says_otherwise():
    ich = neuro(44, intracranial_hemorrhage=True)
    assert "intracranial_haemorrhage" in findings(run([ich, neuro(50)]))
    assert findings(run([ich, neuro(50, intracranial_hemorrhage=False)])) == {}


def test_no_urgent_finding_after_a_recorded_death():
    ev = run(
        [vitals(50, spo2=80), {"kind": "event", "t_hours": 52, "event": "death", "attributed_to": "sepsis"}]
    )
    assert ev.urgent_findings == () and ev.suggestions == ()


def test_finding_codes_are_stable():
    assert FINDING_CODES == ("hypoxaemia", "intracranial_haemorrhage")


# ---------------------------------------------------------------- A-2 revised


def _closed_episode_then(therapy: str, dose: float, later: float) -> carttrack.Evaluation:
    """CRS grade 1 at t=10, closed at t=58 (48 h without signs); the therapy given for ICANS at t=60;
    hypotension without fever ``later`` hours after the dose."""
    return run(
        [
            vitals(10, temp_c=38.8),
            vitals(20, temp_c=37.0),
            vitals(59, temp_c=37.0),
            med(60, therapy, dose),
            vitals(60 + later, temp_c=37.0, sbp=82),
        ]
    )


@pytest.mark.parametrize(
    ("therapy", "dose", "acts_hours"),
    [("tocilizumab", 560, 168), ("siltuximab", 770, 168), ("dexamethasone", 10, 72), ("anakinra", 100, 24)],
)
def test_after_the_episode_closed_fever_stays_waived_while_the_therapy_acts(therapy, dose, acts_hours):
    inside = _closed_episode_then(therapy, dose, acts_hours - 1)
    assert inside.crs.current == 2 and not inside.sepsis_alert and inside.crs.episode_open
    texts = " ".join(d.text for d in inside.crs.drivers)
    assert f"(new CRS episode: fever requirement waived: {therapy} at t=+60.0 h still acts" in texts
    outside = _closed_episode_then(therapy, dose, acts_hours + 1)
    assert outside.crs.current == 0 and outside.sepsis_alert


def test_a_therapy_from_the_closed_episode_still_acts_after_it():
    ev = run(
        [
            vitals(10, temp_c=38.8),
            med(11, "tocilizumab", 560),
            vitals(20, temp_c=37.0),
            vitals(70, temp_c=37.0),
            vitals(150, temp_c=37.0, sbp=82),
        ]
    )
    assert (
        ev.crs.current == 2
        and "tocilizumab at t=+11.0 h still acts (7 days after the last dose, A-2)"
        in (" ".join(d.text for d in ev.crs.drivers))
    )


def test_masking_after_the_episode_needs_a_previous_crs_episode():
    ev = run([med(5, "dexamethasone", 10), vitals(20, temp_c=37.0, sbp=82)])
    assert ev.crs.current == 0 and ev.sepsis_alert


def test_masking_durations_are_settings():
    s = carttrack.DecisionSettings(tocilizumab_masking_after_episode_hours=48.0)
    obs = [
        vitals(10, temp_c=38.8),
        med(11, "tocilizumab", 560),
        vitals(70, temp_c=37.0),
        vitals(100, temp_c=37.0, sbp=82),
    ]
    assert run(obs).crs.current == 2
    assert run(obs, settings=s).crs.current == 0


# ---------------------------------------------------------------- precision of drivers


def test_a_map_of_64_7_reads_64_7_below_65():
    ev = run([vitals(10, temp_c=38.5, sbp=100, dbp=47)])  # MAP 64.67
    assert ev.crs.current == 2
    assert "MAP 64.7 < 65 mmHg" in ev.crs.drivers[0].text
    ev = run([vitals(10, temp_c=38.5, sbp=110, dbp=40, map=64.99)])
    assert "MAP 64.99 < 65 mmHg" in ev.crs.drivers[0].text


def test_whole_numbers_stay_whole():
    ev = run([vitals(10, temp_c=38.5, sbp=85)])
    assert "SBP 85 < 90 mmHg" in ev.crs.drivers[0].text


# ---------------------------------------------------------------- checks


def test_intervals_by_grade():
    assert carttrack.vitals_interval_hours(0) == 4.0
    assert carttrack.vitals_interval_hours(1, febrile_tachycardic=True) == 2.0
    assert carttrack.vitals_interval_hours(2) == carttrack.vitals_interval_hours(4) == 1.0
    assert carttrack.vitals_interval_hours(None) == 4.0
    assert carttrack.neuro_interval_hours(0) == 12.0 and carttrack.neuro_interval_hours(1) == 8.0


def test_what_a_complete_vitals_check_needs():
    patient = carttrack.parse_patient(ADULT)
    full = carttrack.parse_observation(vitals(5, hr=80, rr=16, spo2=97))
    assert carttrack.missing_for_complete_check(full, patient) == ()
    hr_only = carttrack.parse_observation({"kind": "vitals", "t_hours": 5, "hr": 80})
    assert carttrack.missing_for_complete_check(hr_only, patient) == (
        "temperature",
        "sbp",
        "dbp",
        "rr",
        "spo2",
        "o2_device",
    )
    no_flow = carttrack.parse_observation(vitals(5, hr=80, rr=16, spo2=97, o2_device="nasal_cannula"))
    assert carttrack.missing_for_complete_check(no_flow, patient) == ("o2_flow_l_min",)


def test_what_a_complete_neuro_check_needs():
    adult = carttrack.parse_patient(ADULT)
    child = carttrack.parse_patient({"age_years": 6, "weight_kg": 20})
    assert carttrack.missing_for_complete_check(carttrack.parse_observation(neuro(5)), adult) == ()
    partial = carttrack.parse_observation({"kind": "neuro", "t_hours": 5, "consciousness": "alert"})
    assert carttrack.missing_for_complete_check(partial, adult) == ("ice", "seizure", "motor")
    assert carttrack.missing_for_complete_check(partial, child) == ("capd_items", "seizure", "motor")
    sedated = carttrack.parse_observation(
        {
            "kind": "neuro",
            "t_hours": 5,
            "sedated": True,
            "consciousness": "not_assessable",
            "seizure": "none",
            "motor": "none",
        }
    )
    assert carttrack.missing_for_complete_check(sedated, adult) == ()
    assert (
        carttrack.missing_for_complete_check(carttrack.parse_observation(lab(5, anc_per_uL=900)), adult) == ()
    )
