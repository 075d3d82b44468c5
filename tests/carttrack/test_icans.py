"""ICANS rules (ICE, CAPD, ICANS; B-1…B-9) and boundaries."""

from __future__ import annotations

import pytest

import carttrack

from .helpers import ADULT, codes, neuro, run, vitals

CHILD = {"age_years": 8, "weight_kg": 25}


def ice(total: int) -> dict:
    items = {"orientation": 4, "naming": 3, "commands": 1, "writing": 1, "attention": 1}
    drop = 10 - total
    for key in ("attention", "writing", "commands", "naming", "orientation"):
        take = min(drop, items[key])
        items[key] -= take
        drop -= take
    return items


@pytest.mark.parametrize(("total", "grade"), [(10, 0), (9, 1), (7, 1), (6, 2), (3, 2), (2, 3), (0, 3)])
def test_ice_boundaries_awake(total, grade):
    assert run([neuro(10, ice=ice(total))]).icans.maximum == grade


def test_ice_zero_unarousable_is_grade4():
    assert run([neuro(10, ice=ice(0), consciousness="unarousable")]).icans.maximum == 4


@pytest.mark.parametrize(
    ("consciousness", "grade"),
    [
        ("alert", 0),
        ("awakens_spontaneously", 1),
        ("awakens_to_voice", 2),
        ("awakens_to_tactile", 3),
        ("unarousable", 4),
    ],
)
def test_consciousness(consciousness, grade):
    assert run([neuro(10, consciousness=consciousness)]).icans.maximum == grade


@pytest.mark.parametrize(
    ("seizure", "grade"),
    [
        ("none", 0),
        ("rapid_resolving_clinical", 3),
        ("nonconvulsive_eeg_resolved", 3),
        ("prolonged_gt5min", 4),
        ("repetitive_no_return", 4),
    ],
)
def test_seizure(seizure, grade):
    assert run([neuro(10, seizure=seizure)]).icans.maximum == grade


@pytest.mark.parametrize(
    ("icp", "grade"),
    [
        ("focal_local_edema", 3),
        ("diffuse_edema", 4),
        ("posturing", 4),
        ("cn_vi_palsy", 4),
        ("papilledema", 4),
        ("cushing_triad", 4),
    ],
)
def test_icp(icp, grade):
    assert run([neuro(10, icp_edema=icp)]).icans.maximum == grade


def test_motor_and_papilledema_flag():
    assert run([neuro(10, motor="deep_focal_weakness")]).icans.maximum == 4
    assert run([neuro(10, papilledema=True)]).icans.maximum == 4


def test_most_severe_domain_wins():
    # ASTCT example: ICE 3 + generalised seizure = grade 3
    ev = run([neuro(10, ice=ice(3), seizure="rapid_resolving_clinical")])
    assert ev.icans.maximum == 3


def test_excluded_findings():
    ev = run([neuro(10, tremor=True, myoclonus=True)])
    assert ev.icans.maximum == 0 and any("tremor" in n for n in ev.icans.notes)
    ev = run([neuro(10, icp_edema="focal_local_edema", intracranial_hemorrhage=True)])
    assert ev.icans.maximum == 0


def test_not_assessable_is_null_never_zero():
    ev = run([neuro(10, ice=None, consciousness="not_assessable", sedated=True)])
    assert ev.icans.maximum is None and ev.icans.current is None
    ev = run([neuro(10, ice=None, consciousness="unarousable", sedated=True)])
    assert ev.icans.maximum is None
    ev = run([neuro(10, ice=None, consciousness="not_assessable", seizure="rapid_resolving_clinical")])
    assert ev.icans.maximum == 3


def test_partial_ice_is_incomplete():
    items = ice(10)
    items["writing"] = None
    ev = run([neuro(10, ice=items)])
    assert ev.icans.maximum == 0 and ev.icans.incomplete
    items["orientation"] = 1
    ev = run([neuro(10, ice=items, consciousness="awakens_to_voice")])
    assert ev.icans.maximum == 2 and ev.icans.incomplete


def test_no_neuro_data_is_null():
    assert run([vitals(10)]).icans.maximum is None


@pytest.mark.parametrize(("items", "grade"), [([0] * 8, 0), ([1] * 8, 1), ([1] * 7 + [2], 3), ([4] * 8, 3)])
def test_capd_8_vs_9(items, grade):
    assert run([neuro(10, ice=None, capd_items=items)], CHILD).icans.maximum == grade


def test_capd_grade2_by_consciousness():
    assert (
        run([neuro(10, ice=None, capd_items=[1] * 8, consciousness="awakens_to_voice")], CHILD).icans.maximum
        == 2
    )


def test_capd_unable_unarousable_grade4():
    assert run([neuro(10, ice=None, capd_items=None, consciousness="unarousable")], CHILD).icans.maximum == 4


@pytest.mark.parametrize(("age", "uses_capd"), [(11.99, True), (12.0, False), (30, False)])
def test_age_boundary_12(age, uses_capd):
    patient = {"age_years": age, "weight_kg": 40}
    ev = run([neuro(10, ice=ice(5), capd_items=[2] * 8)], patient)
    assert ev.icans.maximum == (3 if uses_capd else 2)


def test_developmental_delay_selects_capd():
    patient = {"age_years": 16, "weight_kg": 50, "developmental_delay": True}
    assert run([neuro(10, ice=ice(10), capd_items=[2] * 8)], patient).icans.maximum == 3


def test_capd_baseline_relative_mode():
    s = carttrack.DecisionSettings(capd_baseline_relative=True)
    obs = [
        neuro(-24, ice=None, capd_items=[1] * 4 + [0] * 4),
        neuro(10, ice=None, capd_items=[1] * 5 + [0] * 3),
    ]
    assert run(obs, CHILD, s).icans.current == 0
    assert run(obs, CHILD).icans.current == 1


def test_domain_carries_forward_and_current_vs_max():
    obs = [neuro(10, ice=ice(2)), neuro(20, ice=ice(10))]
    ev = run(obs)
    assert (ev.icans.maximum, ev.icans.current) == (3, 0)
    obs = [neuro(10, seizure="rapid_resolving_clinical"), {"kind": "neuro", "t_hours": 20, "ice": ice(10)}]
    assert run(obs).icans.current == 3  # seizure domain not re-assessed: stands (B-6)


def test_stale_domain_note():
    ev = run([neuro(10), vitals(40)])
    assert any("stale" in n for n in ev.icans.notes)


def test_icans_grade5_from_death():
    ev = run(
        [neuro(10, ice=ice(0)), {"kind": "event", "t_hours": 50, "event": "death", "attributed_to": "ICANS"}]
    )
    assert ev.icans.maximum == 5


def test_isolated_icans_never_tocilizumab():
    for total in (8, 5, 2, 0):
        ev = run([vitals(10), neuro(10, ice=ice(total), consciousness="alert")], ADULT)
        assert "tocilizumab" not in codes(ev)
        assert "isolated ICANS" in (
            dict((s.code, s.withheld_reason) for s in ev.withheld)["tocilizumab"] or ""
        )


def test_a_check_before_the_infusion_is_a_baseline_not_icans():
    """B-1: a pre-infusion ICE (e.g. neuropsychiatric lupus) is kept as a baseline beside the grades;
    ICANS follows the infusion, so it raises no grade of its own."""
    before = run([neuro(-48, ice=ice(8))])
    assert before.icans.current is None and before.icans.maximum is None
    assert any("before the infusion" in n and "B-1" in n for n in before.icans.notes)


def test_after_the_infusion_grades_stay_absolute_whatever_the_baseline():
    """B-1: grades are absolute: ICE 8 after the infusion is grade 1 even with a baseline of 8."""
    result = run([neuro(-48, ice=ice(8)), neuro(20, ice=ice(8))])
    assert result.icans.current == 1 and result.icans.maximum == 1
