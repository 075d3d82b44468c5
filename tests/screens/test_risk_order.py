"""Sorted by risk (issue 13 item 5): My patients and the census put the highest current grade first,
then open alerts, then overdue checks; the order and the filters stay in the address and the export."""

from __future__ import annotations

import csv
import io
import re
from itertools import pairwise
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from carttrack.risk import risk_order
from tests import factories
from tests.dashboards.helpers import alert, evaluation

pytestmark = pytest.mark.django_db


@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 4), st.integers(0, 4), st.text(min_size=1, max_size=5)),
        min_size=2,
        max_size=8,
    )
)
def test_risk_order_puts_grade_before_alerts_before_overdue_checks(rows):
    ordered = sorted(
        rows, key=lambda r: risk_order(top_grade=r[0], open_alerts=r[1], overdue_checks=r[2], name=r[3])
    )
    for first, second in pairwise(ordered):
        assert (first[0], first[1], first[2]) >= (second[0], second[1], second[2])


@pytest.fixture
def ward(team, product):
    """Aaron (grade 0), Mills (grade 0, an open alert), Zeller (CRS grade 3): alphabetical is wrong."""
    aaron = factories.make_infusion(factories.make_patient(team, family_name="Aaron"), product, hours_ago=20)
    mills = factories.make_infusion(factories.make_patient(team, family_name="Mills"), product, hours_ago=20)
    zeller = factories.make_infusion(
        factories.make_patient(team, family_name="Zeller"), product, hours_ago=20
    )
    evaluation(aaron, hours=19, crs=0, icans=0)
    evaluation(mills, hours=19, crs=0, icans=0)
    evaluation(zeller, hours=19, crs=3, icans=0)
    alert(mills, syndrome="overdue_check", grade=None)
    return aaron, mills, zeller


def _names(html: str) -> list[str]:
    return re.findall(r'class="patient-link"[^>]*>(\w+),', html)


def test_my_patients_defaults_to_risk_and_keeps_a_chosen_order(client, nurse, ward):
    client.force_login(nurse)
    html = client.get(reverse("monitoring:my_patients")).content.decode()
    assert _names(html) == ["Zeller", "Mills", "Aaron"]
    assert "1 open alert" in html
    html = client.get(reverse("monitoring:my_patients"), {"sort": "name"}).content.decode()
    assert _names(html) == ["Aaron", "Mills", "Zeller"]
    assert 'value="name" selected' in html  # the order is in the address and shown as chosen


def test_my_patients_in_the_navigation_keeps_the_order_the_nurse_chose(client, nurse, ward):
    client.force_login(nurse)
    url = reverse("monitoring:my_patients")  # the navigation's link: no order in it
    assert _names(client.get(url).content.decode()) == ["Zeller", "Mills", "Aaron"]  # risk first
    client.get(url, {"sort": "name"})  # the nurse chooses alphabetical
    html = client.get(url).content.decode()
    assert _names(html) == ["Aaron", "Mills", "Zeller"] and 'value="name" selected' in html
    client.get(url, {"sort": "risk"})  # and back to risk
    assert _names(client.get(url).content.decode()) == ["Zeller", "Mills", "Aaron"]


def test_census_defaults_to_risk_and_the_export_carries_the_filters(client, coordinator, ward):
    client.force_login(coordinator)
    html = client.get("/census/").content.decode()
    assert _names(html) == ["Zeller", "Mills", "Aaron"]
    html = client.get("/census/", {"grade": "none", "sort": "name"}).content.decode()
    shown = _names(html)
    assert shown == ["Aaron", "Mills"]
    link = re.search(r'id="census-export" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(link).query) == {"grade": ["none"], "sort": ["name"]}  # no encoded dict
    rows = list(csv.DictReader(io.StringIO(client.get(link).content.decode())))
    assert [r["patient"].split(",")[0] for r in rows] == shown
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", rows[0]["infused_at"])


def test_census_in_the_navigation_opens_the_view_the_coordinator_chose(client, coordinator, ward):
    client.force_login(coordinator)
    assert _names(client.get("/census/").content.decode()) == ["Zeller", "Mills", "Aaron"]  # risk
    client.get("/census/", {"grade": "none", "sort": "name"})  # chosen on the census
    client.get(
        "/census/", {"grade": "", "sort": "risk", "partial": "rows"}, HTTP_X_BACKGROUND_POLL="1"
    )  # a background refresh repeats what is on screen; it chooses nothing
    back = client.get("/census/")  # the navigation's link: no query
    assert back.status_code == 302
    assert parse_qs(urlsplit(back["Location"]).query) == {"grade": ["none"], "sort": ["name"]}
    html = client.get(back["Location"]).content.decode()
    assert _names(html) == ["Aaron", "Mills"] and 'value="name" selected' in html
    clear = re.search(r'href="([^"]+)">Clear</a>', html).group(1)
    assert _names(client.get(clear).content.decode()) == ["Zeller", "Mills", "Aaron"]
    assert client.get("/census/").status_code == 200  # cleared: the default view, no redirect
