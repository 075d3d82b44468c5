"""Pre-leukapheresis washout checklist (ELIG-3): the earliest date per drug and what is missing."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from carttrack.followup.washout import still_missing, washout_checklist

BERLIN = ZoneInfo("Europe/Berlin")
PLANNED = datetime(2025, 6, 2, 8, 0, tzinfo=BERLIN)


def test_each_drug_shows_its_earliest_date_and_whether_it_is_cleared():
    items = washout_checklist(
        PLANNED,
        {
            "MMF": PLANNED - timedelta(days=15),  # ≥ 2 weeks: cleared
            "methotrexate": PLANNED - timedelta(days=20),  # ≥ 3 weeks: one day short
            "rituximab": PLANNED - timedelta(days=7),  # ≥ 1 week: exactly cleared
            "hydroxychloroquine": PLANNED - timedelta(hours=2),  # no washout
            "cladribine": PLANNED - timedelta(days=150),  # ≥ 6 months
            "leflunomide": PLANNED - timedelta(days=60),  # not listed: never shown as cleared
        },
        {"prednisolone": 7.5, "hydrocortisone": 20},
    )
    by_drug = {i.drug: i for i in items}
    assert by_drug["mycophenolate_mofetil"].cleared is True
    mtx = by_drug["methotrexate"]
    assert mtx.cleared is False and mtx.earliest == PLANNED + timedelta(days=1)
    assert "earliest 2025-06-03 08:00 CEST — not yet" in mtx.text
    assert by_drug["rituximab"].cleared is True and by_drug["hydroxychloroquine"].cleared is True
    assert by_drug["cladribine"].cleared is False
    assert by_drug["leflunomide"].cleared is None and "no washout listed" in by_drug["leflunomide"].text
    gc = by_drug["glucocorticoid"]
    assert gc.cleared is False and "12.5 mg/day" in gc.text  # 7.5 + hydrocortisone 20 ≙ 5
    assert [i.drug for i in still_missing(items)] == [
        "cladribine",
        "leflunomide",
        "methotrexate",
        "glucocorticoid",
    ]


def test_times_must_carry_their_zone_and_glucocorticoids_must_be_known():
    with pytest.raises(ValueError, match="time zone"):
        washout_checklist(datetime(2025, 6, 2), {})
    with pytest.raises(ValueError, match="time zone"):
        washout_checklist(PLANNED, {"azathioprine": datetime(2025, 5, 1)})
    with pytest.raises(ValueError, match="not a glucocorticoid: budesonide"):
        washout_checklist(PLANNED, {}, {"budesonide": 9})
