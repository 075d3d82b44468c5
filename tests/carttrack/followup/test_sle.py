"""SLE rules a rheumatologist would notice: the SLEDAI-2K shown, DORIS / LLDAS / drug-free and the
flare alert (SLEDAI, DORIS, LLDAS, REMISSION, RELAPSE-1 and the decisions D-1…D-5, G-2…G-4, G-9)."""

from __future__ import annotations

from carttrack.followup.results import FindingCode, Urgency

from .helpers import MONTH, baseline, event, followup, meds, out, sledai

M3, M6, M9 = 3 * MONTH, 6 * MONTH, 9 * MONTH


def test_d1_descriptors_need_attribution_at_every_visit_including_baseline():
    # SLEDAI-5, D-1: a seizure at the pre-LD baseline scores 8 only when attributed to lupus
    unattributed = followup([sledai(-120, "seizure", "rash"), sledai(M3, "rash")])
    attributed = followup(
        [sledai(-120, "seizure", "rash", attributed_to_lupus=["seizure"]), sledai(M3, "rash")]
    )
    assert unattributed.sle_visits[0].score.total == 2
    assert attributed.sle_visits[0].score.total == 10
    assert unattributed.last_sle_visit.change == "persistent"
    assert attributed.last_sle_visit.change == "improvement"
    assert "not attributed to lupus" in " ".join(d.text for d in unattributed.sle_visits[0].score.drivers)


def test_licats_descriptor_scores_only_with_a_declared_flare_in_the_window():
    obs = [*baseline(), meds(M3, ("hydroxychloroquine", 400)), sledai(M3, "rash", licats=["rash"], pga=0.3)]
    quiet = out(obs)
    assert quiet["sledai_2k"] == 0 and quiet["doris"] is True and quiet["relapse"] is False
    declared = out([*obs, event(M3 - 48, "flare_declared")])
    assert declared["sledai_2k"] == 2 and declared["doris"] is False
    assert declared["relapse"] is True and declared["relapse_hours"] == M3 - 48


def test_not_assessed_serology_does_not_block_doris_but_marks_the_score_incomplete():
    obs = [
        *baseline(),
        meds(M3, ("hydroxychloroquine", 400)),
        sledai(M3, items={"low_complement": None, "increased_dna_binding": None}),
    ]
    o = out(obs)
    assert o["sledai_incomplete"] is True and o["sledai_2k"] == 0
    assert o["doris"] is True
    assert o["lldas"] is True  # at most 4 with both serology items, and criterion 2 is clinical only


def test_an_unattributed_d1_descriptor_not_assessed_cannot_change_doris():
    obs = [*baseline(), meds(M3, ("hydroxychloroquine", 400)), sledai(M3, items={"fever": None})]
    o = out(obs)
    assert o["sledai_incomplete"] is True
    assert o["doris"] is True and o["lldas"] is True


def test_no_regimen_recorded_leaves_doris_undecided_unless_a_criterion_fails():
    assert out([sledai(-120, *("arthritis",)), sledai(M3)])["doris"] is None
    assert out([sledai(-120, "arthritis"), sledai(M3, "arthritis")])["doris"] is False
    assert out([sledai(-120, "arthritis"), sledai(M3)])["drug_free"] is None


def test_serology_only_rise_of_4_is_not_a_flare():
    obs = [
        *baseline(),
        meds(M3, ("hydroxychloroquine", 400)),
        sledai(M3),
        sledai(M6, "low_complement", "increased_dna_binding"),
    ]
    r = followup(obs)
    assert r.last_sle_visit.score.total == 4
    assert r.last_sle_visit.change == "persistent"
    assert r.relapses == ()
    assert "serology alone is not a flare" in r.last_sle_visit.change_driver.text


def test_clinical_rise_of_4_is_a_flare_and_pages_the_treating_physicians():
    lupus = {"attributed_to_lupus": ["leukopenia"]}
    obs = [
        *baseline(),
        meds(M3, ("hydroxychloroquine", 400)),
        sledai(M3, "leukopenia", pga=0.8, **lupus),
        sledai(M6, "leukopenia", "arthritis", pga=1.2, **lupus),
    ]
    r = followup(obs)
    assert r.last_sle_visit.change == "flare"
    relapse = [f for f in r.findings if f.code is FindingCode.RELAPSE]
    assert len(relapse) == 1
    assert relapse[0].urgency is Urgency.URGENT and relapse[0].t_hours == M6
    assert "SLEDAI-2K rise" in relapse[0].text


def test_new_haemolytic_anaemia_after_a_remission_is_a_flare():
    obs = [*baseline(), meds(M3, ("hydroxychloroquine", 400)), sledai(M3), sledai(M6, hemolytic_anemia=True)]
    o = out(obs)
    assert o["sledai_2k"] == 0 and o["lldas"] is False
    assert o["relapse"] is True and o["relapse_hours"] == M6
    # without a remission before, it is LLDAS activity but not a flare
    no_remission = [
        *baseline(),
        meds(M3, ("prednisolone", 10)),
        sledai(M3),
        sledai(M6, hemolytic_anemia=True),
    ]
    assert out(no_remission)["relapse"] is False


def test_declared_flare_after_the_last_visit_keeps_doris_but_ends_drug_free():
    obs = [*baseline(), meds(M3, ("hydroxychloroquine", 200)), sledai(M3), event(M3 + 240, "flare_declared")]
    o = out(obs)
    assert o["doris"] is True
    assert o["relapse"] is True and o["relapse_hours"] == M3 + 240
    assert o["drug_free"] is False


def test_new_biologic_breaks_doris_stability_a_stop_does_not():
    start = [*baseline(), meds(M3, ("hydroxychloroquine", 400), ("belimumab", 28.6)), sledai(M3)]
    stopped = out([*start, meds(M6, ("hydroxychloroquine", 400)), sledai(M6)])
    assert stopped["doris"] is True
    started = out(
        [
            *baseline(),
            meds(M3, ("hydroxychloroquine", 400)),
            sledai(M3),
            meds(M6, ("hydroxychloroquine", 400), ("anifrolumab", 10.7)),
            sledai(M6),
        ]
    )
    assert started["doris"] is False
    assert started["relapse"] is False  # losing DORIS without new activity is no flare


def test_first_visit_compares_the_regimen_with_the_baseline_regimen_even_without_a_baseline_visit():
    obs = [meds(-120, ("hydroxychloroquine", 200)), meds(M3, ("hydroxychloroquine", 400)), sledai(M3)]
    assert out(obs)["doris"] is False  # HCQ increased since baseline
    same = [meds(-120, ("hydroxychloroquine", 400)), meds(M3, ("hydroxychloroquine", 400)), sledai(M3)]
    assert out(same)["doris"] is True


def test_lldas_criterion_5_cyclophosphamide_and_methotrexate_per_week():
    cyc = [*baseline(), meds(M3, ("cyclophosphamide", 50)), sledai(M3), sledai(M6)]
    assert out(cyc)["lldas"] is False
    mtx_daily = [*baseline(), meds(M3, ("methotrexate", 5)), sledai(M3), sledai(M6)]  # 5/day = 35/week
    assert out(mtx_daily)["lldas"] is False
    mmf_weekly = [
        *baseline(),
        meds(M3, {"drug": "mycophenolate_mofetil", "mg_per_week": 21000}),
        sledai(M3),
        sledai(M6),
    ]
    assert out(mmf_weekly)["lldas"] is True  # 3000 mg/day


def test_lldas_criterion_2_allows_serology_to_return():
    obs = [
        *baseline(),
        meds(M3, ("prednisolone", 5)),
        sledai(M3),
        sledai(M6, "low_complement", "increased_dna_binding"),
    ]
    assert out(obs)["lldas"] is True


def test_drug_free_except_hcq_and_since_dates():
    obs = [*baseline(), meds(M3, ("hydroxychloroquine", 200)), sledai(M3), sledai(M6), sledai(M9)]
    o = out(obs)
    assert o["drug_free"] is True
    assert o["drug_free_except"] == ["hydroxychloroquine"]
    assert o["drug_free_since_hours"] == M3
    assert o["doris_since_hours"] == M3 and o["doris_sustained_6_months"] is True


def test_a_steroid_restarted_after_the_last_visit_ends_drug_free():
    obs = [
        *baseline(),
        meds(M3, ("hydroxychloroquine", 200)),
        sledai(M3),
        meds(M3 + 100, ("prednisolone", 2.5)),
    ]
    o = out(obs)
    assert o["doris"] is True and o["drug_free"] is False


def test_investigational_drug_with_an_unknown_name_is_accepted_and_not_drug_free():
    obs = [
        *baseline(),
        meds(M3, {"drug": "XYZ-101", "mg_per_day": 10, "investigational": True}),
        sledai(M3),
        sledai(M6),
    ]
    o = out(obs)
    assert o["doris"] is True and o["lldas"] is False and o["drug_free"] is False
