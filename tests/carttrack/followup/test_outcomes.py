"""Outcome arithmetic for the coordinators' outcomes page (OUTCOME-1…OUTCOME-3)."""

from __future__ import annotations

import pytest

from carttrack.followup.outcomes import (
    CohortMember,
    SurvivalTime,
    landmark_rate,
    landmark_rates,
    reconstitution_summary,
    relapse_free_survival,
)

from .helpers import MONTH, SLE, baseline, event, followup, lab, meds, sledai

M3, M6, M12 = 3 * MONTH, 6 * MONTH, 12 * MONTH


def member(
    pid: str, observations: list[dict], followed_to: float, patient: dict | None = None, **kw
) -> CohortMember:
    return CohortMember(pid, followup(observations, patient), followed_to, **kw)


def cohort() -> list[CohortMember]:
    remission = [*baseline(), meds(M3, ("hydroxychloroquine", 200)), sledai(M3 + 200), sledai(M6)]
    active = [
        *baseline(),
        meds(M3, ("prednisolone", 10)),
        sledai(M3, "arthritis", pga=1.5),
        sledai(M6, "arthritis"),
    ]
    incomplete = [*baseline(), meds(M3, ("prednisolone", 2.5)), sledai(M3, items={"hematuria": None})]
    missed_m3 = [*baseline(), meds(M3, ("prednisolone", 2.5)), sledai(M6)]  # no month-3 visit
    myositis = [{"kind": "myositis_core_set", "t_hours": -120, "mmt8": 100}]
    return [
        member("a", remission, M6),
        member("b", active, M6),
        member("c", incomplete, M3 + 10),  # followed within the month-3 window only
        member("d", missed_m3, M6),
        member("e", myositis, M12, {"age_years": 50, "weight_kg": 70, "indication": "dermatomyositis"}),
    ]


def test_doris_at_month_3_counts_assessed_patients_and_the_not_assessed():
    r = landmark_rate(cohort(), "doris", 3)
    assert (r.met, r.not_met, r.not_decided, r.not_assessed) == (1, 1, 1, 1)
    assert r.denominator == 2 and r.rate == pytest.approx(0.5) and r.caution is True


def test_month_6_excludes_patients_not_yet_followed_that_far():
    r = landmark_rate(cohort(), "doris", 6)
    assert (r.met, r.not_met, r.not_decided, r.not_assessed) == (2, 1, 0, 0)  # c not due yet
    df = landmark_rate(cohort(), "drug_free", 6)
    assert (df.met, df.not_met) == (1, 2)  # a on HCQ only; b and d on prednisolone


def test_all_landmarks_and_bad_requests():
    rates = landmark_rates(cohort())
    assert [(r.definition, r.month) for r in rates] == [
        ("doris", 3), ("doris", 6), ("doris", 12), ("lldas", 3), ("lldas", 6), ("lldas", 12),
        ("drug_free", 6), ("drug_free", 12),
    ]  # fmt: skip
    assert rates[2].denominator == 0 and rates[2].rate is None
    with pytest.raises(ValueError, match="definition 'sri4'"):
        landmark_rate(cohort(), "sri4", 3)
    with pytest.raises(ValueError, match="month 4"):
        landmark_rate(cohort(), "doris", 4)


def test_relapse_free_survival_event_or_censor_at_the_last_visit():
    flare = member("f", [*baseline(), sledai(M3), event(M6, "flare_declared")], M12)
    assert relapse_free_survival(flare) == SurvivalTime("f", M6, True, "relapse")
    quiet = member("q", [*baseline(), sledai(M3)], M12)
    t = relapse_free_survival(quiet)
    assert (t.time_hours, t.event) == (M12, False)
    died = CohortMember("x", quiet.result, M12, death_hours=M6)
    assert (relapse_free_survival(died).time_hours, relapse_free_survival(died).event) == (M6, True)


def test_time_to_b_cell_reconstitution():
    back = [lab(168, cd19_per_uL=0), lab(110 * 24, cd19_per_uL=12), lab(120 * 24, cd19_per_uL=20)]
    still = [lab(168, cd19_per_uL=0), lab(200 * 24, cd19_per_uL=0.5)]
    s = reconstitution_summary([member("a", back, M12, SLE), member("b", still, M12, SLE)])
    assert (s.with_aplasia, s.reconstituted, s.days, s.median_days) == (2, 1, (110.0,), 110.0)
