"""T-ICAHT (ICAHT-12…ICAHT-14, 2025 proposal [T-ICAHT 2025]): thrombocytopenia grades, early (day 0–30)
and late (day 31–100), strict thresholds, joined runs and provisional windows as for ICAHT."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .helpers import lab, run


def platelets(values_by_day: dict[int, float], *, until_day: int = 31) -> list[dict]:
    """One platelet count per listed day at 08:00, and a normal count on ``until_day`` (closes the window)."""
    obs = [lab(24 * d + 8, platelets_10e9_L=v) for d, v in values_by_day.items()]
    if until_day is not None:
        obs.append(lab(24 * until_day + 8, platelets_10e9_L=180))
    return obs


def daily(first: int, last: int, value: float) -> dict[int, float]:
    return dict.fromkeys(range(first, last + 1), value)


@pytest.mark.parametrize(
    ("days", "grade"),
    [
        (daily(1, 30, 150), 0),
        (daily(1, 3, 50), 0),  # exactly 50 is not "< 50"
        (daily(1, 3, 49), 1),
        (daily(1, 6, 40), 1),
        (daily(1, 7, 40), 2),
        ({**daily(1, 7, 40), 3: 20}, 2),  # exactly 20 is not "< 20"
        ({**daily(1, 7, 40), 3: 19}, 3),
        (daily(1, 13, 15), 3),
        (daily(1, 14, 15), 4),
    ],
)
def test_early_t_icaht_boundaries(days, grade):
    result = run(platelets({**daily(0, 30, 150), **days}))
    assert result.t_icaht.early == grade
    assert result.t_icaht.early_provisional is False


def test_a_recovery_shorter_than_three_days_joins_the_runs_and_counts():
    days = {**daily(0, 30, 150), **daily(1, 4, 40), 5: 80, 6: 80, **daily(7, 9, 40)}
    result = run(platelets(days))
    assert result.t_icaht.early == 2  # days 1–9: 9 days < 50 with a 2-day non-stable recovery
    assert "9 days" in result.t_icaht.drivers[0].text


def test_the_early_window_is_provisional_while_it_is_open():
    result = run(platelets({1: 40, 2: 40}, until_day=None))
    assert result.t_icaht.early == 1 and result.t_icaht.early_provisional is True
    assert result.t_icaht.late is None


def test_counts_before_the_infusion_are_ignored():
    result = run([lab(-48, platelets_10e9_L=10), *platelets(daily(0, 30, 150))])
    assert result.t_icaht.early == 0


@pytest.mark.parametrize(
    ("late_days", "grade"),
    [
        ({40: 150}, 0),
        ({40: 100}, 0),
        ({40: 99}, 1),
        ({40: 49}, 2),
        ({40: 19}, 3),
        (daily(35, 48, 15), 4),
    ],
)
def test_late_t_icaht(late_days, grade):
    result = run(platelets({**daily(0, 30, 150), **late_days, 101: 180}, until_day=None))
    assert result.t_icaht.late == grade
    assert result.t_icaht.late_provisional is False


def test_the_command_line_reports_t_icaht_beside_icaht():
    output = run(platelets({**daily(0, 30, 150), **daily(1, 7, 40)})).case_output("T1")
    assert output["t_icaht_grade"] == {"early": 2, "late": 0}  # the day-31 count opens the late window


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 300), min_size=1, max_size=40),
    st.integers(0, 39),
    st.integers(1, 150),
    st.booleans(),
)
def test_lower_platelets_never_lower_t_icaht(counts, where, drop, closed):
    """Monotonic: lowering any one day's count never lowers the early or late T-ICAHT grade."""
    days = {d * 2 + 1: float(v) for d, v in enumerate(counts)}  # every other day, days 1–79
    lower = dict(days)
    key = sorted(days)[where % len(days)]
    lower[key] = max(0.0, days[key] - drop)
    until = 101 if closed else None
    a = run(platelets(days, until_day=until)).t_icaht
    b = run(platelets(lower, until_day=until)).t_icaht
    assert (b.early or 0) >= (a.early or 0)
    assert (b.late or 0) >= (a.late or 0)
