"""IgG checks (BCELL-6, with IVIG BCELL-9) and CMV PCR (INF-11): when the coordinator is asked to
arrange them; vaccinations (INF-12, BCELL-8): when the treating physicians are prompted."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from carttrack.followup.eligibility import eligibility_status
from carttrack.followup.reminders import IGG_INTERVAL_HOURS, IVIG_CHECK_INTERVAL_HOURS

from .helpers import MONTH, followup, lab, meds

DAY = 24.0
FOLLOWED = lab(-120, cd4_per_uL=400)  # a follow-up value: the course is followed (VISIT-7)


def tasks(observations, as_of, code):
    result = followup(observations, visits_as_of_hours=as_of)
    return [(f.t_hours, f.text) for f in result.findings if f.code.value == code]


def test_igg_is_due_at_day_28_then_3_months_after_each_check():
    course = [FOLLOWED, lab(14 * DAY, cd19_per_uL=0, igg_mg_dL=350)]
    assert tasks(course, 27 * DAY, "igg_check_due") == []
    due = tasks(course, 28 * DAY, "igg_check_due")
    assert [t for t, _ in due] == [28 * DAY] and "IgG check due day 28" in due[0][1]
    checked = [*course, lab(29 * DAY, igg_mg_dL=380)]
    assert tasks(checked, 60 * DAY, "igg_check_due") == []
    assert [t for t, _ in tasks(checked, 29 * DAY + 3 * MONTH, "igg_check_due")] == [29 * DAY + 3 * MONTH]


def test_igg_monitoring_ends_after_two_checks_in_a_row_above_400():
    course = [lab(28 * DAY, igg_mg_dL=450), lab(28 * DAY + 3 * MONTH, igg_mg_dL=380)]
    assert tasks(course, 28 * DAY + 6 * MONTH, "igg_check_due")  # 450 then 380: not two in a row
    done = [*course, lab(28 * DAY + 6 * MONTH, igg_mg_dL=420), lab(28 * DAY + 9 * MONTH, igg_mg_dL=410)]
    assert tasks(done, 5 * 12 * MONTH, "igg_check_due") == []
    result = followup(done, visits_as_of_hours=5 * 12 * MONTH)
    igg = next(r for r in result.reminders if r.code.value == "igg_check_due")
    assert igg.due_hours is None and "IgG 410 mg/dL" in igg.drivers[-1].text


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=50, max_value=2000), min_size=1, max_size=8))
def test_a_check_is_due_3_months_after_the_last_unless_the_last_two_were_above_400(values):
    course = [FOLLOWED, *(lab(28 * DAY + i * MONTH, igg_mg_dL=v) for i, v in enumerate(values))]
    last = 28 * DAY + (len(values) - 1) * MONTH
    result = followup(course, visits_as_of_hours=last + 1)
    igg = next(r for r in result.reminders if r.code.value == "igg_check_due")
    stopped_at = next((i for i in range(1, len(values)) if values[i] > 400 and values[i - 1] > 400), None)
    if stopped_at is None:
        assert igg.due_hours == last + IGG_INTERVAL_HOURS
    else:
        assert igg.due_hours is None


def test_cmv_pcr_is_due_weekly_from_the_5th_day_of_corticosteroids_and_stops_with_them():
    course = [lab(40 * DAY, cd19_per_uL=0), meds(60 * DAY, ("prednisolone", 20), ("hydroxychloroquine", 400))]
    assert tasks(course, 64 * DAY, "cmv_pcr_due") == []
    first = tasks(course, 65 * DAY, "cmv_pcr_due")
    assert [t for t, _ in first] == [65 * DAY] and "corticosteroids for 5 days" in first[0][1]
    assert [t for t, _ in tasks(course, 73 * DAY, "cmv_pcr_due")] == [72 * DAY]
    stopped = [*course, meds(70 * DAY, ("hydroxychloroquine", 400))]
    assert tasks(stopped, 73 * DAY, "cmv_pcr_due") == []


def test_no_reminder_without_an_evaluation_time_or_after_the_course_ended():
    course = [FOLLOWED, lab(14 * DAY, cd19_per_uL=0, igg_mg_dL=350)]
    assert followup(course).reminders == ()
    ended = [*course, {"kind": "event", "t_hours": 20 * DAY, "event": "next_therapy"}]
    assert tasks(ended, 40 * DAY, "igg_check_due") == []


def _revaccination(observations, as_of, target):
    result = followup(observations, visits_as_of_hours=as_of, product_target=target)
    return {f.subject: (f.t_hours, f.text) for f in result.findings if f.code.value == "revaccination_due"}


def test_after_a_cd19_product_revaccination_is_a_titre_check_from_month_6():
    course = [FOLLOWED]
    assert _revaccination(course, 6 * MONTH - 1, "CD19").keys() == {"influenza_covid"}
    due = _revaccination(course, 6 * MONTH, "CD19")
    assert list(due) == ["influenza_covid", "titres"] and "check vaccine titres" in due["titres"][1]
    assert "live vaccines not before day 365.2 (year 1, INF-12)" in due["titres"][1]
    assert _revaccination(course, 30 * MONTH, "CD19") == due  # no live-vaccine schedule after CD19


def test_influenza_and_covid_vaccines_are_prompted_at_month_3_after_every_product():
    for target in ("CD19", "BCMA", "CD19×BCMA", "CD22", ""):
        assert _revaccination([FOLLOWED], 3 * MONTH - 1, target) == {}
        due = _revaccination([FOLLOWED], 3 * MONTH, target)
        assert list(due) == ["influenza_covid"], target
        t, text = due["influenza_covid"]
        assert t == 3 * MONTH and "influenza and COVID-19 vaccines may be given from day 91.3" in text


def test_after_another_product_inactivated_vaccines_at_month_6_and_live_from_year_1_off_immunosuppression():
    on = [FOLLOWED, meds(-120, ("prednisolone", 5))]
    assert list(_revaccination(on, 6 * MONTH, "CD22")) == ["influenza_covid", "inactivated"]
    assert "live" not in _revaccination(on, 30 * MONTH, "CD22")  # still on prednisolone
    off = [*on, meds(10 * MONTH, ("hydroxychloroquine", 400))]
    assert "live" not in _revaccination(off, 12 * MONTH - 1, "CD22")
    live = _revaccination(off, 12 * MONTH, "CD22")["live"]
    assert live[0] == 12 * MONTH and "year 1, INF-12" in live[1]


def test_no_vaccine_group_is_prompted_twice():
    off = [FOLLOWED, meds(-120, ("hydroxychloroquine", 400))]
    for target in ("CD19", "BCMA", "CD22"):
        result = followup(off, visits_as_of_hours=5 * 12 * MONTH, product_target=target)
        subjects = [f.subject for f in result.findings if f.code.value == "revaccination_due"]
        assert len(subjects) == len(set(subjects)), target
    bcma = followup(off, visits_as_of_hours=5 * 12 * MONTH, product_target="BCMA")
    live = [f for f in bcma.findings if f.subject == "live"]
    assert [f.t_hours for f in live] == [24 * MONTH]  # G-8's year 2, not also INF-12's year 1


def test_the_work_up_of_a_planned_course_says_vaccinate_against_influenza_and_covid_before_leukapheresis():
    status = eligibility_status({}, [], lupus_nephritis=False)
    assert any("influenza and COVID-19 vaccines before leukapheresis" in n for n in status.notes)


def test_after_a_bcma_product_live_vaccines_wait_for_year_2_and_the_end_of_immunosuppression():
    on = [FOLLOWED, meds(-120, ("prednisolone", 5))]
    assert list(_revaccination(on, 6 * MONTH, "CD19×BCMA")) == ["influenza_covid", "inactivated"]
    assert "live" not in _revaccination(on, 30 * MONTH, "BCMA")  # still on prednisolone
    off = [*on, meds(20 * MONTH, ("hydroxychloroquine", 400))]
    assert "live" not in _revaccination(off, 24 * MONTH - 1, "BCMA")
    live = _revaccination(off, 24 * MONTH, "BCMA")["live"]
    assert live[0] == 24 * MONTH and "no immunosuppression in the list recorded day 608.8" in live[1]
    assert "live" not in _revaccination([FOLLOWED], 30 * MONTH, "BCMA")  # no medication list recorded


def test_maintenance_prednisolone_5_mg_still_asks_for_a_weekly_cmv_pcr():
    """INF-11 gives a duration and no dose: lupus maintenance doses count (kept, see the rule book)."""
    course = [FOLLOWED, meds(-120, ("prednisolone", 5))]
    assert [t for t, _ in tasks(course, 30 * DAY, "cmv_pcr_due")] == [-120 + 5 * DAY + 4 * 7 * DAY]


def ivig(t: float) -> dict:
    return {"kind": "medication", "t_hours": t, "drug": "ivig", "dose_mg": 30000}


def _igg(observations, as_of):
    result = followup(observations, visits_as_of_hours=as_of)
    return next(r for r in result.reminders if r.code.value == "igg_check_due")


def test_igg_above_400_after_ivig_does_not_end_the_checks_and_they_come_every_4_weeks():
    low = [FOLLOWED, lab(28 * DAY, igg_mg_dL=320), ivig(29 * DAY)]
    assert _igg(low, 30 * DAY).due_hours == 28 * DAY + IVIG_CHECK_INTERVAL_HOURS  # replacing: 4-weekly
    raised = [*low, lab(56 * DAY, igg_mg_dL=650), ivig(57 * DAY), lab(84 * DAY, igg_mg_dL=700)]
    igg = _igg(raised, 85 * DAY)
    assert igg.due_hours == 84 * DAY + IVIG_CHECK_INTERVAL_HOURS  # 650 and 700 reflect the IVIG
    assert "days after IVIG: reflects it, BCELL-9" in igg.text and "every 4 weeks while IVIG" in igg.text
    # IVIG stopped at day 57: from 3 months after the last dose, IgG values are the patient's own.
    own = [*raised, lab(57 * DAY + 3 * MONTH + DAY, igg_mg_dL=520)]
    assert (
        _igg(own, 57 * DAY + 3 * MONTH + 2 * DAY).due_hours == 57 * DAY + 3 * MONTH + DAY + IGG_INTERVAL_HOURS
    )
    done = [*own, lab(57 * DAY + 6 * MONTH, igg_mg_dL=540)]
    assert _igg(done, 57 * DAY + 6 * MONTH + DAY).due_hours is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=401, max_value=2000), min_size=2, max_size=6))
def test_igg_checks_never_end_on_values_measured_within_3_months_of_ivig(values):
    """Every check is 4 weeks after an IVIG dose: however high, none shows the patient's own IgG."""
    course = [FOLLOWED]
    for i, v in enumerate(values):
        course += [ivig(28 * DAY * (i + 1) - 28 * DAY + DAY), lab(28 * DAY * (i + 1), igg_mg_dL=v)]
    last = 28 * DAY * len(values)
    assert _igg(course, last + 1).due_hours == last + IVIG_CHECK_INTERVAL_HOURS


def test_ivig_in_the_medication_list_counts_as_given_until_3_months_after_it_leaves_the_list():
    on = [FOLLOWED, meds(20 * DAY, {"drug": "ivig", "mg_per_week": 7500})]
    checks = [lab(28 * DAY, igg_mg_dL=700), lab(56 * DAY, igg_mg_dL=720)]
    igg = _igg([*on, *checks], 57 * DAY)
    assert igg.due_hours == 84 * DAY and "on immunoglobulin replacement: reflects it" in igg.text
    stopped = [*on, *checks, meds(60 * DAY, ("hydroxychloroquine", 400))]
    late = [lab(60 * DAY + 3 * MONTH + DAY, igg_mg_dL=610), lab(60 * DAY + 6 * MONTH, igg_mg_dL=630)]
    assert _igg([*stopped, late[0]], 60 * DAY + 3 * MONTH + 2 * DAY).due_hours is not None
    assert _igg([*stopped, *late], 60 * DAY + 6 * MONTH + DAY).due_hours is None
