"""Management suggestions (MGMT), tocilizumab dose and limits (TOCI), settings object."""

from __future__ import annotations

import dataclasses
import json

import pytest

import carttrack
from carttrack.suggestions import tocilizumab_dose

from .helpers import ADULT, codes, lab, med, neuro, run, vitals, withheld

S = carttrack.DecisionSettings()


@pytest.mark.parametrize(
    ("weight", "dose"),
    [(29.9, 358.8), (30.0, 240.0), (62, 496.0), (100, 800.0), (100.1, 800.0), (110, 800.0), (18, 216.0)],
)
def test_tocilizumab_dose(weight, dose):
    assert tocilizumab_dose(weight, S)[0] == dose


def test_tocilizumab_dose_product_setting():
    s = dataclasses.replace(S, tocilizumab_low_weight_rule=False)
    assert tocilizumab_dose(29.9, s)[0] == pytest.approx(239.2)


def g3(t):
    return vitals(t, temp_c=38.8, vasopressors=["norepinephrine"])


def test_third_dose_allowed_fourth_in_24h_withheld():
    obs = [g3(30), med(30, "tocilizumab", 560), med(38, "tocilizumab", 560), g3(46)]
    ev = run(obs)
    assert "tocilizumab" in codes(ev)
    tdose = next(s for s in ev.suggestions if s.code == "tocilizumab")
    assert tdose.dose_mg == 560.0
    obs.append(med(46, "tocilizumab", 560))
    obs.append(g3(52))
    ev = run(obs)
    assert "tocilizumab" not in codes(ev)
    assert "24 h" in withheld(ev)["tocilizumab"]
    assert {"high_dose_methylprednisolone", "alternative_immunosuppression", "icu_transfer"} <= codes(ev)


def test_24h_window_is_half_open():
    obs = [
        g3(30),
        med(30, "tocilizumab", 560),
        med(38, "tocilizumab", 560),
        med(46, "tocilizumab", 560),
        g3(54),
    ]
    assert "tocilizumab" in codes(run(obs))  # dose at 30 is 24 h ago: outside "any 24 h"


def test_fifth_dose_withheld():
    obs = [g3(10)] + [med(10 + 12 * k, "tocilizumab", 560) for k in range(4)] + [g3(80)]
    ev = run(obs)
    assert "tocilizumab" not in codes(ev) and "course" in withheld(ev)["tocilizumab"]


def test_eight_hour_interval_shown():
    ev = run([g3(30), med(30, "tocilizumab", 560), g3(34)])
    t = next(s for s in ev.suggestions if s.code == "tocilizumab")
    assert "not before t=+38.0 h" in (t.dose_text or "")


@pytest.mark.parametrize(
    ("obs", "present", "absent"),
    [
        (
            [vitals(10, temp_c=38.2)],
            {"supportive_care", "antipyretic", "infection_workup"},
            {"tocilizumab", "dexamethasone", "icu_transfer"},
        ),
        (
            [vitals(10, temp_c=38.2, sbp=85)],
            {"tocilizumab", "iv_fluids", "telemetry_pulse_oximetry"},
            {"dexamethasone", "high_dose_methylprednisolone"},
        ),
        (
            [g3(10)],
            {"tocilizumab", "dexamethasone", "icu_transfer", "echocardiogram", "vasopressor_support"},
            {"high_dose_methylprednisolone"},
        ),
        (
            [vitals(10, temp_c=38.2, o2_device="bipap")],
            {"tocilizumab", "high_dose_methylprednisolone", "icu_transfer"},
            set(),
        ),
        ([vitals(10, temp_c=37.0)], {"continue_monitoring"}, {"tocilizumab"}),
    ],
)
def test_crs_suggestions_by_grade(obs, present, absent):
    c = codes(run(obs))
    assert present <= c and not (absent & c)


def test_grade2_dexamethasone_after_tocilizumab():
    obs = [vitals(10, temp_c=38.5, sbp=85), med(11, "tocilizumab", 560), vitals(20, temp_c=38.2, sbp=84)]
    ev = run(obs)
    dex = next(s for s in ev.suggestions if s.code == "dexamethasone")
    assert dex.dose_mg == 10.0


def test_methylprednisolone_regimen():
    ev = run([vitals(10, temp_c=38.2, o2_device="bipap")])
    mp = next(s for s in ev.suggestions if s.code == "high_dose_methylprednisolone")
    assert mp.dose_mg == 500.0 and "250 mg" in (mp.dose_text or "")
    ev = run([neuro(10, consciousness="unarousable")])
    mp = next(s for s in ev.suggestions if s.code == "high_dose_methylprednisolone")
    assert mp.dose_mg == 1000.0


def test_persistent_fever_consider_tocilizumab():
    obs = [vitals(24 + 24 * k, temp_c=38.3) for k in range(4)]  # 24 → 96 h = 72 h: not > 3 days
    assert "consider_tocilizumab" not in codes(run(obs))
    obs.append(vitals(97, temp_c=38.1))
    assert "consider_tocilizumab" in codes(run(obs))


@pytest.mark.parametrize(("anc", "bundle"), [(499, True), (500, False)])
def test_neutropenic_fever_bundle(anc, bundle):
    ev = run([lab(90, anc_per_uL=anc), vitals(96, temp_c=38.3)])
    assert ("neutropenic_fever_antibiotics" in codes(ev)) is bundle


def test_neutropenic_fever_even_if_fever_attributed():
    ev = run([lab(90, anc_per_uL=200), vitals(96, temp_c=38.3, attributed_to="bacteraemia")])
    assert ev.crs.maximum == 0 and "neutropenic_fever_antibiotics" in codes(ev)


def test_steroids_add_antifungal_and_taper_watch():
    ev = run([vitals(10, temp_c=37.0), med(12, "dexamethasone", 10), vitals(20, temp_c=37.0)])
    assert {"antifungal_prophylaxis", "steroid_taper_plan"} <= codes(ev)


def test_icans_with_crs_gets_tocilizumab():
    ev = run(
        [
            vitals(60, temp_c=38.4),
            neuro(60, ice={"orientation": 4, "naming": 3, "commands": 1, "writing": 0, "attention": 0}),
        ]
    )
    assert {"tocilizumab", "aspiration_precautions"} <= codes(ev)


def test_seizure_and_icp_suggestions():
    ev = run([neuro(10, seizure="repetitive_no_return", icp_edema="diffuse_edema")])
    assert {"antiseizure_treatment", "raised_icp_management", "icu_transfer", "eeg"} <= codes(ev)


def test_cns_involvement_levetiracetam_prophylaxis():
    ev = run([{"kind": "clinical_flag", "t_hours": -24, "cns_involvement": True}])
    s = next(x for x in ev.suggestions if x.code == "seizure_prophylaxis_levetiracetam")
    assert s.dose_mg == 750.0


def test_every_suggestion_has_text_and_source():
    ev = run([g3(10), neuro(10, seizure="prolonged_gt5min"), lab(10, anc_per_uL=100)])
    for s in ev.suggestions + ev.withheld:
        assert s.code in carttrack.vocabulary.SUGGESTION_CODES and s.text and s.source


def test_settings_roundtrip_and_errors():
    d = S.to_dict()
    json.dumps(d)
    assert carttrack.DecisionSettings.from_dict(d) == S
    s2 = carttrack.DecisionSettings.from_dict({"episode_close_hours": 24, "unknown_key": 1})
    assert s2.episode_close_hours == 24.0
    with pytest.raises(ValueError, match="tocilizumab_max_doses_24h"):
        carttrack.DecisionSettings.from_dict({"tocilizumab_max_doses_24h": "three"})
    with pytest.raises(ValueError, match="anticytokine_masks_for_episode"):
        carttrack.DecisionSettings.from_dict({"anticytokine_masks_for_episode": 1})


def test_evaluation_carries_settings_and_rule_set():
    s = dataclasses.replace(S, antipyretic_masking_hours=12.0)
    ev = run([vitals(10, temp_c=38.5)], settings=s)
    assert ev.rule_set == carttrack.RULE_SET == "astct-2019/carttrack-2"
    assert ev.settings["antipyretic_masking_hours"] == 12.0
    json.dumps(ev.to_dict())
    out = ev.case_output("T")
    assert out["id"] == "T" and out["crs_grade"] == 1


def test_settings_change_policy_without_code_change():
    obs = [vitals(10, temp_c=38.5), med(11, "acetaminophen", 1000), vitals(30, temp_c=37.0, sbp=80)]
    assert run(obs).crs.maximum == 2
    s = dataclasses.replace(S, antipyretic_masking_hours=0.0, fever_lookback_hours=12.0)
    assert run(obs, settings=s).crs.maximum == 1


def test_adult_patient_fixture_sane():
    assert run([], ADULT).crs.maximum is None
