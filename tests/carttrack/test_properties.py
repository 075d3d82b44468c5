"""Hypothesis properties: monotonicity, unit invariance, order invariance, only documented errors."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import carttrack
from carttrack import ObservationError

from .helpers import ADULT, neuro, run, vitals

PRESSORS = [
    "norepinephrine",
    "epinephrine",
    "phenylephrine",
    "dopamine",
    "vasopressin",
    "angiotensin_ii",
    "dobutamine",
    "milrinone",
]
# oxygen support in increasing order of support (device, flow)
O2_LADDER = [
    ("room_air", 0),
    ("blow_by", None),
    ("nasal_cannula", 1),
    ("nasal_cannula", 6),
    ("nasal_cannula", 7),
    ("hfnc", 30),
    ("non_rebreather", 15),
    ("cpap", None),
    ("invasive_mv", None),
]
CONSCIOUSNESS = ["alert", "awakens_spontaneously", "awakens_to_voice", "awakens_to_tactile", "unarousable"]
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

temps = st.floats(min_value=35.0, max_value=41.0).map(lambda x: round(x, 1))


@FAST
@given(temps, st.sets(st.sampled_from(PRESSORS)), st.sets(st.sampled_from(PRESSORS)), st.integers(60, 140))
def test_more_vasopressors_never_lower_crs(temp, a, extra, sbp):
    g1 = run([vitals(10, temp_c=temp, sbp=sbp, vasopressors=sorted(a))]).crs.maximum
    g2 = run([vitals(10, temp_c=temp, sbp=sbp, vasopressors=sorted(a | extra))]).crs.maximum
    assert g2 >= g1


@FAST
@given(temps, st.integers(0, len(O2_LADDER) - 1), st.integers(0, len(O2_LADDER) - 1), st.booleans())
def test_more_oxygen_never_lowers_crs(temp, i, j, prior_fever):
    lo, hi = sorted((i, j))
    pre = [vitals(0, temp_c=38.5)] if prior_fever else []

    def grade(k):
        dev, flow = O2_LADDER[k]
        return run([*pre, vitals(10, temp_c=temp, o2_device=dev, o2_flow_l_min=flow)]).crs.maximum

    assert grade(hi) >= grade(lo)


@FAST
@given(
    st.floats(min_value=0.1, max_value=15).map(lambda x: round(x, 1)), st.floats(min_value=0, max_value=15)
)
def test_more_flow_on_cannula_never_lowers(flow, more):
    g1 = run([vitals(10, temp_c=38.5, o2_device="nasal_cannula", o2_flow_l_min=flow)]).crs.maximum
    g2 = run(
        [vitals(10, temp_c=38.5, o2_device="nasal_cannula", o2_flow_l_min=min(15, flow + more))]
    ).crs.maximum
    assert g2 >= g1


ice_items = st.fixed_dictionaries(
    {
        "orientation": st.integers(0, 4),
        "naming": st.integers(0, 3),
        "commands": st.integers(0, 1),
        "writing": st.integers(0, 1),
        "attention": st.integers(0, 1),
    }
)


@FAST
@given(
    ice_items,
    st.sampled_from(list(ice_items_keys := ["orientation", "naming", "commands", "writing", "attention"])),
    st.sampled_from(CONSCIOUSNESS),
)
def test_lower_ice_never_lowers_icans(items, key, cons):
    worse = dict(items)
    worse[key] = max(0, worse[key] - 1)
    g1 = run([neuro(10, ice=items, consciousness=cons)]).icans.maximum
    g2 = run([neuro(10, ice=worse, consciousness=cons)]).icans.maximum
    assert g2 >= g1


@FAST
@given(ice_items, st.integers(0, 4), st.integers(0, 4))
def test_lower_consciousness_never_lowers_icans(items, i, j):
    lo, hi = sorted((i, j))
    g1 = run([neuro(10, ice=items, consciousness=CONSCIOUSNESS[lo])]).icans.maximum
    g2 = run([neuro(10, ice=items, consciousness=CONSCIOUSNESS[hi])]).icans.maximum
    assert g2 >= g1


@FAST
@given(st.lists(st.integers(0, 4), min_size=8, max_size=8), st.integers(0, 7))
def test_higher_capd_never_lowers_icans(items, k):
    child = {"age_years": 6, "weight_kg": 20}
    worse = list(items)
    worse[k] = min(4, worse[k] + 1)
    g1 = run([neuro(10, ice=None, capd_items=items)], child).icans.maximum
    g2 = run([neuro(10, ice=None, capd_items=worse)], child).icans.maximum
    assert g2 >= g1


@FAST
@given(st.integers(250, 450).map(lambda x: x / 10), st.booleans(), st.integers(60, 140))
def test_fahrenheit_and_celsius_same_grade(temp_c, pressor, sbp):
    temp_f = round(temp_c * 9 / 5 + 32, 2)
    kw = {"sbp": sbp, "vasopressors": ["norepinephrine"] if pressor else []}
    gc = run([vitals(10, temp_c=temp_c, **kw)]).crs
    gf = run([vitals(10, temp_f=temp_f, **kw)]).crs
    assert (gc.maximum, gc.current) == (gf.maximum, gf.current)


def _random_course(seed: int) -> list[dict]:
    rng = random.Random(seed)
    obs: list[dict] = []
    for _ in range(rng.randint(1, 25)):
        t = rng.choice([0, 6, 12, 24, 30, 48, 60, 72, 100, 200, 400, 800])
        kind = rng.choice(["vitals", "neuro", "lab", "medication", "event"])
        if kind == "vitals":
            dev, flow = rng.choice(O2_LADDER)
            obs.append(
                vitals(
                    t,
                    temp_c=round(rng.uniform(36, 40), 1),
                    sbp=rng.randint(70, 130),
                    o2_device=dev,
                    o2_flow_l_min=flow,
                    vasopressors=rng.sample(PRESSORS, rng.randint(0, 2)),
                    fluid_bolus_for_hypotension=rng.random() < 0.2,
                )
            )
        elif kind == "neuro":
            obs.append(
                neuro(
                    t,
                    consciousness=rng.choice(CONSCIOUSNESS),
                    seizure=rng.choice(["none", "rapid_resolving_clinical"]),
                )
            )
        elif kind == "lab":
            obs.append(
                {
                    "kind": "lab",
                    "t_hours": t,
                    "anc_per_uL": rng.choice([50, 300, 800, 2000]),
                    "ferritin_ng_mL": rng.choice([500, 2000, 9000]),
                    "fibrinogen_mg_dL": rng.choice([100, 300]),
                }
            )
        elif kind == "medication":
            obs.append(
                {
                    "kind": "medication",
                    "t_hours": t,
                    "drug": rng.choice(["tocilizumab", "dexamethasone", "acetaminophen"]),
                    "dose_mg": 10,
                }
            )
        else:
            obs.append({"kind": "event", "t_hours": t, "event": rng.choice(["crs_diagnosed", "progression"])})
    return obs


def _summary(ev: carttrack.Evaluation) -> tuple:
    return (
        ev.crs.maximum,
        ev.crs.current,
        ev.icans.maximum,
        ev.icans.current,
        ev.icaht.early,
        ev.icaht.late,
        tuple(s.code for s in ev.suggestions),
        tuple(s.code for s in ev.withheld),
        dict(ev.computed),
        ev.sepsis_alert,
        ev.iec_hs_screen_positive,
        ev.licats_screen_positive,
    )


@FAST
@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_observation_order_does_not_matter(seed, shuffle_seed):
    obs = _random_course(seed)
    shuffled = list(obs)
    random.Random(shuffle_seed).shuffle(shuffled)
    assert _summary(run(obs)) == _summary(run(shuffled))


@FAST
@given(st.integers(0, 10**6))
def test_incremental_equals_batch(seed):
    obs = _random_course(seed)
    case = carttrack.parse_case({"id": "I", "patient": ADULT, "observations": obs})
    ev = carttrack.Evaluator(case.patient)
    for o in case.observations:
        ev.add(o)
        ev.evaluate()
    assert _summary(ev.evaluate()) == _summary(carttrack.evaluate(case))


values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 100000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["room_air", "hfnc", "alert", "none", "tocilizumab", "death", "crs"]),
    st.lists(st.integers(-1, 5), max_size=9),
    st.dictionaries(st.sampled_from(["orientation", "naming", "x"]), st.integers(-1, 5), max_size=3),
)
FIELDS = [
    "temp_c",
    "temp_f",
    "sbp",
    "dbp",
    "map",
    "spo2",
    "o2_device",
    "o2_flow_l_min",
    "fio2",
    "vasopressors",
    "fluid_bolus_for_hypotension",
    "ice",
    "capd_items",
    "consciousness",
    "seizure",
    "sedated",
    "anc_per_uL",
    "crp_mg_L",
    "drug",
    "dose_mg",
    "event",
    "attributed_to",
    "serious_infection",
    "bogus",
]


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(["vitals", "neuro", "lab", "medication", "event", "clinical_flag", "other", None]),
    st.one_of(st.floats(-10000, 100000), st.none(), st.text(max_size=3)),
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=4),
)
def test_only_documented_validation_error(kind, t, fields):
    data = {"kind": kind, "t_hours": t, **fields}
    try:
        case = carttrack.parse_case({"id": "P", "patient": ADULT, "observations": [data]})
    except ObservationError as err:
        assert err.case_id == "P" and err.field and str(err).startswith("case P")
        return
    carttrack.evaluate(case).to_dict()


@st.composite
def oxygen_support(draw):
    """A device with a flow it can deliver (or no flow), as the input rules accept."""
    device = draw(st.sampled_from([d.value for d in carttrack.vocabulary.O2Device]))
    lim = carttrack.limits.O2_FLOW_LIMITS.get(carttrack.vocabulary.O2Device(device))
    if device == "room_air":
        return device, None
    if lim is None:
        return device, draw(st.none() | st.floats(0, 80))
    low = lim.low + (0.01 if lim.low_open else 0.0)
    return device, draw(st.none() | st.floats(low, lim.high))


@settings(max_examples=200, deadline=None)
@given(
    st.floats(25, 45),
    st.floats(30, 300),
    st.floats(0.01, 0.99),
    st.one_of(st.just(0.0), st.floats(1.01, 100)),
    oxygen_support(),
    st.floats(0, 200000),
    st.floats(0.3, 400),
    st.floats(0, 120),
)
def test_in_range_inputs_never_raise(temp, sbp, dbp_fraction, spo2, support, anc, weight, age):
    dbp = max(10.0, min(250.0, sbp * dbp_fraction))
    if dbp >= sbp:
        dbp = sbp - 1
    device, flow = support
    obs = [
        vitals(10, temp_c=temp, sbp=sbp, dbp=dbp, spo2=spo2, o2_device=device, o2_flow_l_min=flow),
        {"kind": "lab", "t_hours": 12, "anc_per_uL": anc},
        neuro(12),
    ]
    ev = run(obs, {"age_years": age, "weight_kg": weight})
    assert ev.crs.maximum is not None
