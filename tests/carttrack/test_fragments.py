"""Observations that arrive in pieces (A-14, CRS-24): an absent field is "not recorded", never normal.

Each CRS component (temperature, blood pressure, vasopressors, oxygen) keeps its last recorded value
until a record carries it again; only an explicit entry ("room_air", "vasopressors": []) changes it.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import carttrack
from carttrack import ObservationError, parse_observation

from .helpers import ADULT, codes, run, vitals

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NASAL_3L = {"o2_device": "nasal_cannula", "o2_flow_l_min": 3}


def fragment(t: float, **fields) -> dict:
    return {"kind": "vitals", "t_hours": t, **fields}


def test_heart_rate_alone_on_nasal_cannula_keeps_crs_2_and_tocilizumab():
    ev = run([vitals(30, temp_c=38.6, spo2=94, hr=108, **NASAL_3L), fragment(31, hr=96)])
    assert (ev.crs.maximum, ev.crs.current) == (2, 2)
    assert "tocilizumab" in codes(ev) and "continue_monitoring" not in codes(ev)
    oxygen = {v.domain: v for v in ev.crs.standing}["oxygen"]
    assert oxygen.text == "nasal cannula 3 L/min" and oxygen.t_hours == 30 and not oxygen.stale


def test_temperature_alone_after_norepinephrine_keeps_crs_3():
    ev = run(
        [vitals(40, temp_c=39.0, sbp=84, dbp=48, vasopressors=["norepinephrine"]), fragment(41, temp_c=37.4)]
    )
    assert (ev.crs.maximum, ev.crs.current) == (3, 3)
    assert {"icu_transfer", "vasopressor_support"} <= codes(ev)
    drivers = [d.text for d in ev.crs.drivers]
    assert any("norepinephrine (one vasopressor)" in d and "t=+40.0 h" in d for d in drivers)


def test_explicit_room_air_and_no_vasopressors_do_lower_the_grade():
    course = [vitals(40, temp_c=39.0, vasopressors=["norepinephrine"], **NASAL_3L)]
    assert run([*course, vitals(46, temp_c=37.0)]).crs.current == 3  # vasopressor not recorded: stands
    ev = run([*course, vitals(46, temp_c=37.0, vasopressors=[])])
    assert (ev.crs.maximum, ev.crs.current) == (3, 0)
    assert {v.domain: v.text for v in ev.crs.standing}["vasopressors"] == "none"


def test_not_recorded_and_explicitly_none_are_different_inputs():
    assert parse_observation(fragment(1, hr=80)).vasopressors is None
    assert parse_observation(fragment(1, vasopressors=[])).vasopressors == ()
    assert parse_observation(fragment(1, hr=80)).fluid_bolus_for_hypotension is None
    assert (
        parse_observation(fragment(1, fluid_bolus_for_hypotension=False)).fluid_bolus_for_hypotension is False
    )
    assert parse_observation(fragment(1, hr=80)).o2_device is None


@pytest.mark.parametrize(
    "fields",
    [{}, {"attributed_to": "pneumonia"}, {"hr": None, "sbp": None}, {"hypoxia_attributed_to": "PE"}],
)
def test_a_vitals_record_without_any_value_is_an_error(fields):
    with pytest.raises(ObservationError) as e:
        parse_observation(fragment(5, **fields), index=2, case_id="C")
    assert e.value.field == "vitals"
    assert str(e.value).startswith("case C, observation 2, field vitals: a vitals record needs at least one")
    assert "temp_c" in e.value.allowed and "vasopressors" in e.value.allowed
    assert e.value.allowed in str(e.value)


def test_only_heart_rates_recorded_is_not_crs_0():
    ev = run([fragment(5, hr=80), fragment(9, hr=85, spo2=97)])
    assert ev.crs.current is None and ev.crs.maximum is None


def test_standing_values_show_their_age_and_go_stale_after_the_interval_of_the_grade():
    # CRS 2 on a cannula: vitals are due hourly (MON-5, continuous monitoring from grade 2)
    ev = run([vitals(30, temp_c=38.6, **NASAL_3L), fragment(33, hr=96)])
    assert ev.vitals_interval_hours == carttrack.checks.VITALS_CRS_G2_HOURS == 1.0
    standing = {v.domain: v for v in ev.crs.standing}
    assert set(standing) == {"temperature", "blood_pressure", "oxygen"}
    assert standing["oxygen"].age_hours == 3 and standing["oxygen"].stale
    assert ev.checks_due == ("vitals",)
    assert ev.crs.current == 2  # stale still counts
    # an afebrile patient on room air: q4h
    calm = run([vitals(30), fragment(33, hr=70)])
    assert calm.vitals_interval_hours == 4.0 and calm.checks_due == ()
    later = carttrack.Evaluator(carttrack.parse_patient(ADULT))
    later.add(parse_observation(vitals(30)))
    ev = later.evaluate(as_of=35.0)  # the clock moves on: the same values become stale
    assert ev.checks_due == ("vitals",) and all(v.stale for v in ev.crs.standing)
    assert standing["oxygen"].stale_at(30.5) is False and standing["oxygen"].stale_at(31.5) is True


def test_febrile_and_tachycardic_shortens_the_interval_to_two_hours():
    ev = run([vitals(10, temp_c=38.3, hr=118)])
    assert ev.crs.current == 1 and ev.vitals_interval_hours == 2.0


def test_a_standing_fever_keeps_grade_1_until_a_temperature_is_recorded():
    ev = run([vitals(10, temp_c=38.4), fragment(12, hr=90)])
    assert ev.crs.current == 1
    assert run([vitals(10, temp_c=38.4), fragment(12, temp_c=37.1)]).crs.current == 0


def test_standing_vasopressor_keeps_the_episode_open():
    ev = run(
        [
            vitals(10, temp_c=38.4, vasopressors=["norepinephrine"]),
            fragment(70, hr=90),
            {"kind": "lab", "t_hours": 90, "crp_mg_L": 40},
        ]
    )
    assert ev.crs.episode_open and ev.crs.current == 3


def test_the_blood_pressure_domain_is_re_assessed_as_a_whole():
    hypotensive = vitals(10, temp_c=38.5, sbp=85, dbp=50)
    assert run([hypotensive, fragment(11, hr=100)]).crs.current == 2  # BP not recorded: stands
    assert run([hypotensive, fragment(11, sbp=112, dbp=70)]).crs.current == 1  # re-measured: normal
    # a fluid bolus recorded on its own is a blood-pressure entry of its own
    ev = run([vitals(10, temp_c=38.5), fragment(11, fluid_bolus_for_hypotension=True)])
    assert ev.crs.current == 2


def test_the_incremental_evaluator_agrees_on_fragments():
    obs = [vitals(30, temp_c=38.6, **NASAL_3L), fragment(31, hr=96), fragment(32, spo2=95)]
    case = carttrack.parse_case({"id": "F", "patient": ADULT, "observations": obs})
    ev = carttrack.Evaluator(case.patient)
    for o in case.observations:
        ev.add(o)
        ev.evaluate()
    assert ev.evaluate().crs.current == carttrack.evaluate(case).crs.current == 2


# ---------------------------------------------------------------- properties

PRESSOR_SETS = [[], ["norepinephrine"], ["norepinephrine", "vasopressin"], ["norepinephrine", "epinephrine"]]
OXYGEN = [
    {"o2_device": "room_air"},
    {"o2_device": "nasal_cannula", "o2_flow_l_min": 2},
    {"o2_device": "nasal_cannula", "o2_flow_l_min": 8},
    {"o2_device": "hfnc", "o2_flow_l_min": 40, "fio2": 0.5},
    {"o2_device": "non_rebreather", "o2_flow_l_min": 15},
    {"o2_device": "bipap"},
]
COMPONENT_FIELDS = {
    "temperature": ("temp_c",),
    "blood_pressure": ("sbp", "dbp", "fluid_bolus_for_hypotension"),
    "vasopressors": ("vasopressors",),
    "oxygen": ("o2_device", "o2_flow_l_min", "fio2"),
}


def _full_record(rng: random.Random, t: float) -> dict:
    sbp = rng.choice([75, 85, 95, 120])
    rec = vitals(
        t,
        temp_c=rng.choice([36.8, 37.6, 38.2, 39.4]),
        sbp=sbp,
        dbp=round(sbp * 0.6),
        hr=rng.choice([70, 95, 120]),
        spo2=rng.choice([88, 93, 97]),
        vasopressors=rng.choice(PRESSOR_SETS),
        fluid_bolus_for_hypotension=rng.random() < 0.2,
        **rng.choice(OXYGEN),
    )
    rec.pop("o2_flow_l_min", None) if rec["o2_device"] in ("room_air", "bipap") else None
    return rec


def _course(seed: int) -> list[dict]:
    """A course of complete vitals sets with medications in between, in time order."""
    rng = random.Random(seed)
    t = 0.0
    out = []
    for _ in range(rng.randint(1, 6)):
        t += rng.choice([1, 4, 8, 20, 30])
        out.append(_full_record(rng, t))
        if rng.random() < 0.3:
            t += 0.5
            drug = rng.choice(["tocilizumab", "dexamethasone", "acetaminophen"])
            out.append({"kind": "medication", "t_hours": t, "drug": drug, "dose_mg": 10})
    return out


def _current(observations: list[dict]) -> int | None:
    return run(observations).crs.current


@FAST
@given(
    st.integers(0, 10**6),
    st.sets(st.sampled_from(sorted(COMPONENT_FIELDS))),
    st.sampled_from([0.5, 1, 3, 12, 30, 60]),
    st.dictionaries(st.sampled_from(["hr", "rr", "spo2"]), st.integers(40, 99), max_size=3),
)
def test_adding_a_record_that_omits_components_never_lowers_the_current_grade(seed, restated, gap, extra):
    """A later record that leaves components out (re-stating any others unchanged, adding heart
    rate, breathing rate or SpO2) never lowers the current CRS grade."""
    course = _course(seed)
    before = _current(course)
    last = next(o for o in reversed(course) if o["kind"] == "vitals")
    fields = {k: last[k] for name in restated for k in COMPONENT_FIELDS[name] if k in last}
    fields.update(extra)
    if not fields:
        fields = {"hr": 80}
    after = _current([*course, fragment(course[-1]["t_hours"] + gap, **fields)])
    assert after is not None and before is not None and after >= before


@FAST
@given(st.integers(0, 10**6), st.booleans(), st.booleans(), st.sampled_from([0.5, 2, 12]))
def test_an_explicit_room_air_or_no_vasopressors_never_raises_the_grade(seed, room_air, no_pressors, gap):
    """Recording "room air" / "no vasopressors" never gives a higher grade than leaving it out, and
    never raises the grade the course had (taking the entry out of the record leaves what stood)."""
    course = [o for o in _course(seed) if o["kind"] == "vitals"]
    explicit = {}
    if room_air or not no_pressors:
        explicit["o2_device"] = "room_air"
    if no_pressors:
        explicit["vasopressors"] = []
    t = course[-1]["t_hours"] + gap
    before = _current(course)
    with_explicit = _current([*course, fragment(t, hr=90, **explicit)])
    without = _current([*course, fragment(t, hr=90)])
    assert with_explicit is not None and before is not None and without is not None
    assert with_explicit <= without == before


@FAST
@given(st.integers(0, 10**6), st.booleans(), st.sampled_from([0.5, 2, 12]))
def test_with_therapies_in_the_course_an_explicit_none_still_never_raises(seed, room_air, gap):
    course = _course(seed)
    explicit = {"o2_device": "room_air"} if room_air else {"vasopressors": []}
    t = course[-1]["t_hours"] + gap
    with_explicit = _current([*course, fragment(t, hr=90, **explicit)])
    without = _current([*course, fragment(t, hr=90)])
    assert with_explicit is not None and without is not None and with_explicit <= without
