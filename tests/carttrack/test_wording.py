"""Clinical language (issue 13 item 3): codes read as words, times carry their zone, ages in words."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

import carttrack
from carttrack import vocabulary, wording

CODES = (
    vocabulary.O2_DEVICES
    + vocabulary.DRUGS
    + vocabulary.EVENTS
    + vocabulary.CONSCIOUSNESS
    + vocabulary.SEIZURE
    + vocabulary.ICP_EDEMA
    + tuple(vocabulary.VASOPRESSORS)
    + ("routine", "urgent", "emergent", "inapp", "email", "sms", "pager")
)


@given(st.sampled_from(CODES))
def test_no_code_reads_with_underscores(code):
    assert "_" not in wording.words(code)


def test_the_slips_the_issue_names_read_as_words():
    assert wording.words("nasal_cannula") == "nasal cannula"
    assert wording.words("g_csf") == "G-CSF"
    assert wording.words("tmp_smx").startswith("TMP-SMX")
    assert wording.words("emergent") == "emergency"
    assert wording.words("Already words, kept as written") == "Already words, kept as written"


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
def test_spans_are_in_words_never_in_thousands_of_minutes(delta):
    text = wording.span(delta)
    minutes = re.search(r"(\d+) min", text)
    assert minutes is None or int(minutes.group(1)) < 60
    hours = re.search(r"(\d+) h", text)
    assert hours is None or int(hours.group(1)) < 48
    assert "." not in text and ":" not in text  # never "0:00:00.080526"


def test_ages_and_overdue():
    assert wording.ago(timedelta(hours=3, minutes=12)) == "3 h 12 min ago"
    assert wording.overdue_by(timedelta(minutes=17822)) == "overdue by 12 d 9 h"
    assert wording.span(timedelta(microseconds=80526)) == "under a second"


def test_times_carry_the_team_zone_abbreviation():
    at = datetime(2026, 12, 2, 13, 5, tzinfo=UTC)
    assert wording.clock(at, "Europe/Berlin") == "14:05 CET"
    assert wording.moment(at, "Europe/Berlin") == "2 Dec 14:05 CET"


@given(
    st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1)),
    st.floats(min_value=0, max_value=24 * 40),
    st.sampled_from(["Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata"]),
)
def test_time_after_infusion_counts_calendar_days_in_the_team_zone(infused, hours, zone):
    infused_at = infused.replace(tzinfo=ZoneInfo(zone))
    at = infused_at + timedelta(hours=hours)
    text = wording.after_infusion(at, infused_at, zone)
    day = int(re.match(r"day (\d+), \d\d:\d\d \S+$", text).group(1))
    tz = ZoneInfo(zone)
    assert day == (at.astimezone(tz).date() - infused_at.astimezone(tz).date()).days


def test_core_texts_lose_their_t_hours():
    infused_at = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    text = wording.clinical("CRS grade 3: norepinephrine, t=+79.2 h; and at t=+1.0 h", infused_at, "UTC")
    assert "t=+" not in text
    assert "day 3, 15:12 UTC" in text and "day 0, 09:00 UTC" in text


def test_rule_sets_read_by_their_names_not_their_ids():
    assert wording.rule_set(carttrack.RULE_SET) == "ASTCT 2019 consensus, CAR-T Track rules v2"
    followup = wording.rule_set(carttrack.FOLLOWUP_RULE_SET)
    assert followup.startswith("follow-up criteria 2025, CAR-T Track rules v")
    assert "_" not in wording.rule_set("some_basis/some_version") and "/" not in wording.rule_set("a-1/b-2")


def test_codes_quoted_in_a_core_text_read_by_their_names():
    assert wording.codes_in_words("renal response (kdigo_2024, G-5)") == "renal response (KDIGO 2024, G-5)"
    assert wording.codes_in_words("b_cells and some_unknown_code") == "B cells and some_unknown_code"
    assert wording.words("drug_free") == "drug-free remission" and wording.words("bliss_ln") == "BLISS-LN"
