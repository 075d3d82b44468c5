"""Visit template (G-1): the due visits with their windows, and which are overdue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import carttrack
from carttrack.followup.evaluate import evaluate_followup
from carttrack.followup.groups import IndicationGroup, indication_group, is_b_all
from carttrack.followup.visits import (
    DocumentedVisit,
    Record,
    VisitState,
    dated_schedule,
    overdue_visits,
    template_for,
    visit_schedule,
)
from carttrack.screens import is_autoimmune
from carttrack.settings import DEFAULT_SETTINGS

from .helpers import SLE, case, sledai

DAY = 24.0
MONTH = 730.5


def test_g1_schedule_and_windows():
    t = template_for(IndicationGroup.SLE)
    codes = [v.code for v in t.visits]
    assert codes[:10] == [
        "day_-5",
        "day_0",
        "day_7",
        "day_14",
        "day_28",
        "month_2",
        "month_3",
        "month_6",
        "month_9",
        "month_12",
    ]
    assert codes[10:12] == ["month_18", "month_24"]
    assert codes[12:] == [f"year_{y}" for y in range(3, 16)]
    windows = {v.code: v.window_hours / DAY for v in t.visits}
    assert (
        windows["day_28"] == 2
        and windows["month_12"] == 14
        and windows["month_18"] == 30
        and windows["year_15"] == 30
    )
    m3 = t.visit("month_3")
    assert m3.target_hours == 3 * MONTH and m3.opens_hours == 3 * MONTH - 14 * DAY
    assert Record.SLEDAI_PGA in m3.records and Record.CD4 in m3.records
    assert Record.CD4 not in t.visit("month_2").records
    assert (
        Record.MALIGNANCY_SCREEN in t.visit("year_3").records
        and Record.MALIGNANCY_SCREEN not in t.visit("month_18").records
    )
    assert Record.UPCR_URINALYSIS in template_for(IndicationGroup.LUPUS_NEPHRITIS).visit("month_3").records
    assert Record.TIS_CORE_SET in template_for(IndicationGroup.MYOSITIS).visit("month_6").records
    with pytest.raises(ValueError, match="version 'v0' is not one of"):
        template_for(IndicationGroup.SSC, "v0")


def test_overdue_only_after_the_window_closes_and_documented_by_code_or_time():
    t = template_for(IndicationGroup.SLE)
    m3 = t.visit("month_3")
    open_window = {v.spec.code: v.state for v in visit_schedule(t, as_of_hours=m3.closes_hours)}
    assert open_window["month_3"] is VisitState.DUE and open_window["month_2"] is VisitState.OVERDUE
    assert open_window["month_6"] is VisitState.UPCOMING
    later = visit_schedule(
        t,
        as_of_hours=m3.closes_hours + 1,
        documented=[DocumentedVisit(m3.target_hours + 10 * DAY), DocumentedVisit(55 * DAY, "month_2")],
    )
    states = {v.spec.code: v.state for v in later}
    assert states["month_3"] is VisitState.DOCUMENTED and states["month_2"] is VisitState.DOCUMENTED
    assert [v.spec.code for v in overdue_visits(later)] == ["day_-5", "day_0", "day_7", "day_14", "day_28"]
    outside = visit_schedule(
        t, as_of_hours=m3.closes_hours + 1, documented=[DocumentedVisit(m3.closes_hours + 0.5)]
    )
    assert {v.spec.code: v.state for v in outside}["month_3"] is VisitState.OVERDUE


def test_no_visit_is_due_after_the_course_ended():
    t = template_for(IndicationGroup.ONCOLOGY)
    schedule = visit_schedule(t, as_of_hours=20 * 8766, ended_hours=200 * DAY)
    assert [v.spec.code for v in schedule][-1] == "month_6"


def test_dated_schedule_carries_the_time_zone_and_refuses_a_naive_time():
    infusion = datetime(2025, 3, 10, 9, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    dated = {d.spec.code: d for d in dated_schedule(template_for(IndicationGroup.SSC), infusion)}
    assert dated["day_7"].target == infusion + timedelta(days=7)
    assert dated["day_7"].opens.tzinfo is not None
    assert dated["month_12"].target.astimezone(UTC) == (infusion + timedelta(hours=8766)).astimezone(UTC)
    with pytest.raises(ValueError, match="time zone"):
        dated_schedule(template_for(IndicationGroup.SSC), datetime(2025, 3, 10))


def test_overdue_visits_become_coordinator_findings_from_the_course():
    parsed = carttrack.parse_case(case([sledai(-120), sledai(3 * MONTH), sledai(6 * MONTH + 20 * DAY)], SLE))
    result = evaluate_followup(parsed.patient, parsed.observations, visits_as_of_hours=9 * MONTH + 15 * DAY)
    overdue = [f for f in result.findings if f.code == "visit_overdue"]
    subjects = [f.subject for f in overdue]
    assert "month_6" in subjects  # 20 days late is outside ±14 days
    assert "month_3" not in subjects and "month_9" in subjects
    assert all(f.urgency == "routine" and f.recipient == "coordinator" for f in overdue)
    assert overdue[-1].text == "Month 9 visit not documented by the end of its window (day 287.9)"


@pytest.mark.parametrize(
    ("indication", "group"),
    [
        ("SLE", "sle"),
        ("refractory SLE with lupus nephritis", "lupus_nephritis"),
        ("lupus nephritis class IV", "lupus_nephritis"),
        ("SLE without nephritis", "sle"),
        ("non-renal SLE", "sle"),
        ("juvenile dermatomyositis", "juvenile_dermatomyositis"),
        ("anti-synthetase syndrome myositis", "myositis"),
        ("diffuse cutaneous systemic sclerosis", "ssc"),
        ("myasthenia gravis", "other_autoimmune"),
        ("relapsed B-ALL", "oncology"),
        ("DLBCL after all lines", "oncology"),
    ],
)
def test_indication_group_read_from_the_indication(indication, group):
    assert indication_group(indication, None, autoimmune=is_autoimmune(indication, DEFAULT_SETTINGS)) == group
    assert is_b_all(indication) is (indication == "relapsed B-ALL")
