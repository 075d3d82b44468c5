"""ICAHT (ICAHT-1…ICAHT-11, C-1, C-6), CAR-HEMATOTOX and EASIX (HTX, EASIX), IEC-HS, LICATS, IVIG
(IECHS-3, LICATS-4, BCELL-2)."""

from __future__ import annotations

import pytest

from carttrack.scores import easix, hematotox, m_easix, simplified_easix

from .helpers import SLE, anc_course, codes, lab, run, vitals, withheld


def course(low_days: dict[int, float], last_day: int = 30, high: float = 1800) -> dict[int, float]:
    return {d: low_days.get(d, high) for d in range(last_day + 1)}


def icaht(values: dict[int, float], **extra):
    return run(anc_course(values), **extra).icaht


@pytest.mark.parametrize(("days", "grade"), [(0, 0), (1, 1), (6, 1), (7, 2), (13, 2), (14, 3)])
def test_early_duration_bands(days, grade):
    low = {d: 300 for d in range(2, 2 + days)}
    assert icaht(course(low)).early == grade


@pytest.mark.parametrize(("anc", "counted"), [(500, True), (501, False), (100, True)])
def test_anc_500_inclusive(anc, counted):
    low = {d: anc for d in range(2, 9)}  # 7 days
    assert icaht(course(low)).early == (2 if counted and anc > 100 else (3 if counted else 0))


def test_profound_bands():
    low = {d: 300 for d in range(2, 12)}
    low.update({d: 100 for d in range(3, 10)})  # 7 days <= 100
    assert icaht(course(low)).early == 3
    low = {d: 50 for d in range(2, 16)}  # 14 days <= 100
    assert icaht(course(low)).early == 4


def test_non_stable_recovery_joined_and_counted():
    low = {d: 300 for d in range(2, 6)}
    low.update({d: 300 for d in range(8, 11)})  # days 6-7 > 500 (2 days: not stable) -> joined 2..10 = 9 days
    r = icaht(course(low))
    assert r.early == 2 and r.early_days_anc_le_500 == 9


def test_stable_recovery_splits():
    low = {d: 300 for d in range(2, 6)}
    low.update({d: 300 for d in range(9, 13)})  # 3 days > 500 between -> runs of 4 each
    assert icaht(course(low)).early == 1


def test_recovery_is_the_first_value_above_500_of_three_days_after_the_last_low_day():
    """ICAHT-5: the episode's resolution (not part of the grade): after a non-stable recovery the
    neutropenia goes on, so the recovery is the first value of the stable one after the last low day."""
    low = {d: 300 for d in range(2, 6)}
    low.update({d: 300 for d in range(8, 11)})  # days 6–7 above 500: not a recovery
    r = icaht(course(low))
    assert r.early == 2 and r.early_recovered_hours == 24 * 11 + 6  # day 11 (6 h into it)
    still_low = {d: 300 for d in range(2, 30)}
    assert icaht(course(still_low)).early_recovered_hours is None  # day 30 onward above 500: 1 day
    assert icaht(course({})).early_recovered_hours is None  # never neutropenic


def test_lowest_value_per_day():
    values = course({})
    obs = [*anc_course(values), lab(24 * 5 + 20, anc_per_uL=400)]
    assert run(obs).icaht.early == 1


def test_interpolation_gap_7_days():
    # day 2 = 300 and day 9 = 300 with 6 missing days between -> interpolated, 8-day run -> grade 2
    vals = {0: 1800, 1: 1800, 2: 300, 9: 300, 10: 1800, 11: 1800, 12: 1800, 30: 1800}
    r = icaht(vals)
    assert r.early == 2 and 5 in r.interpolated_days


def test_gap_longer_than_7_not_interpolated():
    vals = {0: 1800, 2: 300, 11: 300, 12: 1800, 13: 1800, 14: 1800, 30: 1800}
    r = icaht(vals)
    assert r.early == 1 and 5 not in r.interpolated_days


def test_never_recovered_grade4_only_when_window_closed():
    vals = {d: (1800 if d == 0 else 300) for d in range(0, 31)}
    r = icaht(vals)
    assert (r.early, r.early_provisional) == (4, False)
    open_vals = {d: (1800 if d == 0 else 300) for d in range(0, 21)}
    r = icaht(open_vals)
    assert (r.early, r.early_provisional) == (3, True)
    r = icaht(open_vals, follow_up={"death_hours": 21 * 24})
    assert (r.early, r.early_provisional) == (4, False)


def test_provisional_while_open():
    r = icaht({0: 1800, 1: 300, 2: 300})
    assert r.early == 1 and r.early_provisional


def test_late_icaht():
    base = course({})
    obs = [
        *anc_course(base),
        lab(24 * 45, anc_per_uL=800),
        lab(24 * 52, anc_per_uL=900),
        lab(24 * 60, anc_per_uL=1600),
    ]
    assert run(obs).icaht.late == 2
    obs = [*anc_course(base), lab(24 * 45, anc_per_uL=80), lab(24 * 52, anc_per_uL=1600)]
    assert run(obs).icaht.late == 0  # transient: second lowest > 1500
    obs = [*anc_course(base), lab(24 * 45, anc_per_uL=450)]
    r = run(obs).icaht
    assert r.late == 3 and r.late_provisional


def test_no_anc_is_null():
    r = run([vitals(10)]).icaht
    assert r.early is None and r.late is None


@pytest.mark.parametrize(
    ("plt", "anc", "hgb", "crp", "fer", "score"),
    [
        (176, 1200, 9.0, 2.99, 649, 0),
        (175, 1200, 9.0, 2.99, 649, 1),
        (75, 1199, 8.99, 3.0, 650, 5),
        (74, 1199, 8.99, 3.0, 2000, 6),
        (74, 1199, 8.99, 3.0, 2001, 7),
    ],
)
def test_hematotox_boundaries(plt, anc, hgb, crp, fer, score):
    ht = hematotox(plt, anc, hgb, crp, fer)
    assert ht.score == score
    assert ht.risk == ("high" if score >= 2 else "low")


def test_hematotox_from_case_and_autoimmune_flag():
    obs = [lab(-120, platelets_10e9_L=160, anc_per_uL=1100, hgb_g_dL=10.5, crp_mg_L=12, ferritin_ng_mL=800)]
    ev = run(obs, SLE)
    assert ev.computed["car_hematotox"] == 3 and ev.computed["validated_population"] is False
    assert "prophylactic_g_csf" not in codes(ev) and "autoimmune" in withheld(ev)["prophylactic_g_csf"]
    ev = run(obs)
    assert ev.computed["validated_population"] is True and "prophylactic_g_csf" in codes(ev)


def test_easix_family():
    assert easix(300, 1.2, 150) == 2.4
    assert m_easix(300, 5.0, 150) == 10.0
    assert simplified_easix(300, 150) == 2.0
    ev = run([lab(48, ldh_U_L=300, creatinine_umol_L=88.4, platelets_10e9_L=150, crp_mg_L=50)])
    assert ev.computed["easix"] == pytest.approx(2.0)
    assert ev.computed["m_easix"] == pytest.approx(10.0)
    assert ev.computed["simplified_easix"] == pytest.approx(2.0)


def iec_obs(t2=216.0, fold=3.75, fib=120):
    return [
        vitals(24, temp_c=38.6),
        vitals(150, temp_c=37.0),
        lab(168, ferritin_ng_mL=4000, anc_per_uL=1500),
        lab(t2, ferritin_ng_mL=4000 * fold, fibrinogen_mg_dL=fib, anc_per_uL=1500),
    ]


def test_iec_hs_screen():
    ev = run(iec_obs())
    assert ev.iec_hs_screen_positive and {"iec_hs_evaluation", "notify_physician_urgent"} <= codes(ev)
    assert not run(iec_obs(fold=1.9)).iec_hs_screen_positive
    assert not run(iec_obs(fib=150)).iec_hs_screen_positive
    assert not run(iec_obs(t2=168 + 73)).iec_hs_screen_positive


def test_iec_hs_not_during_active_crs_before_day7():
    obs = [
        vitals(24, temp_c=38.6),
        lab(30, ferritin_ng_mL=1000),
        vitals(60, temp_c=38.7),
        lab(70, ferritin_ng_mL=5000, fibrinogen_mg_dL=100),
    ]
    assert not run(obs).iec_hs_screen_positive


def licats_obs(creat=1.25, cd19=0.0):
    return [
        lab(-120, creatinine_mg_dL=0.8, upcr_mg_mg=0.3),
        lab(240, creatinine_mg_dL=creat, cd19_per_uL=cd19),
    ]


def test_licats_screen():
    ev = run(licats_obs(), SLE)
    assert ev.licats_screen_positive and {"licats_evaluation", "infection_workup"} <= codes(ev)
    assert not run(licats_obs(creat=1.19), SLE).licats_screen_positive
    assert run(licats_obs(creat=1.2), SLE).licats_screen_positive  # +50 %
    assert not run(licats_obs(cd19=20), SLE).licats_screen_positive
    assert not run(licats_obs()).licats_screen_positive  # oncology patient: not screened


def test_licats_flag_signal():
    obs = [lab(200, cd19_per_uL=0), {"kind": "clinical_flag", "t_hours": 200, "new_inflammatory_rash": True}]
    assert run(obs, {**SLE, "indication": "systemic sclerosis"}).licats_screen_positive


def test_ivig_policy():
    obs = [lab(2160, igg_mg_dL=400)]
    assert "consider_ivig" in codes(run(obs))
    obs.append({"kind": "clinical_flag", "t_hours": 2160, "serious_infection": True})
    assert "ivig" in codes(run(obs))
    assert not {"ivig", "consider_ivig"} & codes(run([lab(2160, igg_mg_dL=401)]))
