"""IgG checks (BCELL-6) and CMV PCR (INF-11): when the coordinator is asked to arrange them."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from carttrack.followup.reminders import IGG_INTERVAL_HOURS

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
    assert _revaccination(course, 6 * MONTH - 1, "CD19") == {}
    due = _revaccination(course, 6 * MONTH, "CD19")
    assert list(due) == ["titres"] and "check vaccine titres" in due["titres"][1]
    assert _revaccination(course, 30 * MONTH, "CD19") == due  # no live-vaccine schedule after CD19
    assert _revaccination(course, 30 * MONTH, "CD22") == {}


def test_after_a_bcma_product_live_vaccines_wait_for_year_2_and_the_end_of_immunosuppression():
    on = [FOLLOWED, meds(-120, ("prednisolone", 5))]
    assert list(_revaccination(on, 6 * MONTH, "CD19×BCMA")) == ["inactivated"]
    assert list(_revaccination(on, 30 * MONTH, "BCMA")) == ["inactivated"]  # still on prednisolone
    off = [*on, meds(20 * MONTH, ("hydroxychloroquine", 400))]
    assert list(_revaccination(off, 24 * MONTH - 1, "BCMA")) == ["inactivated"]
    live = _revaccination(off, 24 * MONTH, "BCMA")["live"]
    assert live[0] == 24 * MONTH and "no immunosuppression in the list recorded day 608.8" in live[1]
    assert "live" not in _revaccination([FOLLOWED], 30 * MONTH, "BCMA")  # no medication list recorded
