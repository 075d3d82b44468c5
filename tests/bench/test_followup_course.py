"""The 5-year course the follow-up benchmark times (bench/followup_course.py, issue 14) is the course
the issue describes: the toxicity weeks, a pre-lymphodepletion baseline and 20 visits to year 5, and
the clinical core evaluates all of it (toxicity grades and the follow-up result)."""

from __future__ import annotations

import carttrack
from bench import followup_course

YEAR_HOURS = 8766.0


def test_the_benchmarked_course_holds_the_toxicity_weeks_a_baseline_and_20_visits_to_year_5():
    case = carttrack.parse_case(followup_course.build(seed=0))
    acute = [o for o in case.observations if o.kind == "vitals" and 0 <= o.t_hours <= 30 * 24]
    assert len(acute) >= 150  # vitals every 4 hours through the first month
    sledai = sorted(o.t_hours for o in case.observations if o.kind == "sledai")
    assert sledai[0] < 0 and len(sledai) == 1 + followup_course.VISITS == 21
    assert sledai[-1] == 5 * YEAR_HOURS  # the 20th visit, every 3 months, is at year 5
    result = carttrack.evaluate_case_followup(case)
    assert result is not None and result.group == "lupus_nephritis"
    assert len(result.sle_visits) == 21 and result.last_hours == 5 * YEAR_HOURS
    assert result.renal is not None  # the lupus-nephritis renal response is judged over the 5 years
    assert carttrack.evaluate(case).crs.maximum >= 1  # the toxicity weeks are graded too (CRS in this course)
