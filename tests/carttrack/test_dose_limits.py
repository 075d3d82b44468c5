"""TOCI-2/TOCI-3 (A-13): what a course still allows, as the handover shows it and as the
suggestions withhold tocilizumab."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from carttrack import DecisionSettings, tocilizumab_allowance

S = DecisionSettings()
times = st.lists(st.floats(min_value=0, max_value=400, allow_nan=False), max_size=6)


@given(times, st.floats(min_value=0, max_value=500, allow_nan=False))
def test_limits_left_never_exceed_the_rules(doses, extra):
    as_of = max(doses, default=0.0) + extra
    allowance = tocilizumab_allowance(doses, as_of, S)
    assert allowance.given_course == len(doses)
    assert 0 <= allowance.left_24h <= allowance.left_course <= S.tocilizumab_max_doses_course
    assert allowance.given_24h + allowance.left_24h <= S.tocilizumab_max_doses_24h or allowance.left_24h == 0
    blocked = allowance.given_24h >= 3 or len(doses) >= 4
    assert (allowance.blocked_reason is not None) == blocked
    if allowance.next_not_before_t is not None:
        assert allowance.next_not_before_t > as_of and allowance.next_not_before_t == max(doses) + 8.0


def test_worked_example():
    allowance = tocilizumab_allowance([10.0, 18.5], 20.0, S)
    assert (allowance.given_course, allowance.left_course) == (2, 2)
    assert (allowance.given_24h, allowance.left_24h) == (2, 1)
    assert allowance.next_not_before_t == 26.5 and allowance.blocked_reason is None
    # A dose exactly 24 h ago no longer counts (half-open window, TOCI-3).
    assert tocilizumab_allowance([0.0, 8.0, 16.0], 24.0, S).given_24h == 2
    full = tocilizumab_allowance([0.0, 8.0, 16.0], 20.0, S)
    assert full.left_24h == 0 and "max 3 per 24 h" in full.blocked_reason
    course = tocilizumab_allowance([0.0, 30.0, 60.0, 90.0], 200.0, S)
    assert course.left_course == 0 and "this course (max 4" in course.blocked_reason
