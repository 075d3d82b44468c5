"""Registry reports (issue 15 item 3; E-3, REG-1…REG-3): the periods, the episode rules (occurred or
persisted, onset = first documented sign, maximum clipped to the period, prophylaxis continued
counts as therapy), "previously reported", the coordinator screen and the cohort CSV."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from interop import course, registry
from interop.models import Registry, RegistryReport, ReportState
from monitoring import services
from monitoring.models import Observation
from tests import factories
from tests.security.conftest import verified_client as client_for

from .course_builder import record_course

DAY0 = datetime(2026, 1, 1, 8, tzinfo=UTC)


class _Course:
    infused_at = DAY0


@pytest.mark.parametrize("periods", [registry.cibmtr_periods, registry.ebmt_periods])
def test_periods_are_contiguous_and_do_not_overlap(periods):
    found = periods(_Course())
    assert [p.key for p in found[:4]] == ["day-100", "6-month", "year-1", "year-2"]
    assert found[0].start == DAY0 and found[0].end == DAY0 + timedelta(days=100)
    assert found[1].end == DAY0 + timedelta(days=180) and found[2].end == DAY0 + timedelta(days=365)
    assert found[-1].end == DAY0 + timedelta(days=15 * 365)  # the CIBMTR 15-year track
    for a, b in itertools.pairwise(found):
        assert a.end == b.start


def _point(day: float, grade: int, row: int) -> course.Point:
    at = DAY0 + timedelta(days=day)
    return course.Point(
        at, row, {"crs": grade, "icans": 0}, {"crs": (row,), "icans": ()}, {"crs": at, "icans": None}
    )


@given(
    grades=st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=30),
    start=st.integers(min_value=0, max_value=30),
    length=st.integers(min_value=1, max_value=30),
)
def test_an_episode_is_reported_in_a_period_it_occurred_or_persisted_in_with_the_clipped_maximum(
    grades, start, length
):
    points = [_point(day, g, row) for row, (day, g) in enumerate(enumerate(grades), start=1)]
    p_start, p_end = DAY0 + timedelta(days=start), DAY0 + timedelta(days=start + length)
    for episode in course.episodes(points, "crs"):
        standing = [
            (p.grades["crs"], p.at)
            for p in points
            if episode.onset <= p.at and (episode.resolved is None or p.at < episode.resolved)
        ]
        # graded from its first point to the point before it resolved, all ≥ 1
        assert all(g >= 1 for g, _ in standing) and episode.maximum == max(g for g, _ in standing)
        lasting_until = episode.resolved or DAY0 + timedelta(days=10**4)
        overlaps = episode.onset < p_end and lasting_until >= p_start
        assert episode.in_period(p_start, p_end) == overlaps
        clipped = episode.maximum_between(p_start, p_end)
        inside = [g for g, at in standing if p_start <= at < p_end]
        carried = [g for g, at in standing if at < p_start][-1:] if lasting_until > p_start else []
        assert clipped == (max(inside + carried) if inside + carried else None)
        assert clipped is None or clipped <= episode.maximum


def values(report) -> dict[str, str | None]:
    return {v.question: v.answer for v in report.values}


@pytest.mark.django_db
def test_the_demo_course_reads_as_a_data_manager_reads_the_chart(infusion, nurse):
    record_course(infusion, nurse)
    rows = list(Observation.objects.filter(infusion=infusion).order_by("observed_at"))
    fever = next(r for r in rows if r.payload.get("temp_c") == 38.9)
    cibmtr = registry.build(infusion, Registry.CIBMTR, registry.cibmtr_periods(infusion)[0])
    assert values(cibmtr) == {
        "Did the recipient experience cytokine release syndrome (CRS)?": "yes",
        "Was the date of diagnosis previously reported?": "no",
        "Date of diagnosis (first symptom documented)": fever.observed_at.date().isoformat(),
        "Therapy given for CRS in this period: tocilizumab": "yes",
        "Therapy given for CRS in this period: corticosteroids": "yes",
        "Therapy given for CRS in this period: siltuximab": "no",
        "Therapy given for CRS in this period: anakinra": "no",
        "Therapy given for CRS in this period: other": "no",
    }
    diagnosis = next(v for v in cibmtr.values if v.question.startswith("Date of diagnosis"))
    assert diagnosis.rows == (fever.pk,)  # the value links to the fever that was the first symptom
    toci = next(v for v in cibmtr.values if v.question.endswith("tocilizumab"))
    assert [Observation.objects.get(pk=r).payload["drug"] for r in toci.rows] == ["tocilizumab"]
    assert "beyond the CRS block" in cibmtr.not_included

    ebmt = registry.build(infusion, Registry.EBMT, registry.ebmt_periods(infusion)[0])
    recovered = rows[-1]
    assert values(ebmt) == {
        "CRS": "yes",
        "CRS date of onset": fever.observed_at.date().isoformat(),
        "CRS date of resolution": recovered.observed_at.date().isoformat(),
        "CRS maximum grade (ASTCT 2019)": "3",
        "ICANS": "no",
    }
    norepinephrine = next(r for r in rows if r.payload.get("vasopressors"))
    top = next(v for v in ebmt.values if v.question.startswith("CRS maximum"))
    assert norepinephrine.pk in top.rows


@pytest.fixture
def long_course(patient, product, nurse):
    """CRS from day 95 to day 106: it occurs in the day-100 period and persists into the 6-month one;
    dexamethasone was given as prophylaxis before onset and continued after it."""
    infusion = factories.make_infusion(patient, product, hours_ago=150 * 24)
    for day, kind, payload in (
        (94.0, "medication", {"drug": "dexamethasone", "dose_mg": 10}),
        (95.0, "vitals", {"temp_c": 38.6}),
        (99.0, "medication", {"drug": "dexamethasone", "dose_mg": 10}),
        (101.0, "vitals", {"temp_c": 38.4, "sbp": 86, "dbp": 50}),
        (101.5, "medication", {"drug": "dexamethasone", "dose_mg": 10}),
        (106.0, "vitals", {"temp_c": 36.9, "sbp": 120, "dbp": 70}),
    ):
        services.observation_record(
            infusion=infusion,
            kind=kind,
            payload=payload,
            observed_at=infusion.infused_at + timedelta(days=day),
            recorded_by=nurse,
        )
    return infusion


@pytest.mark.django_db
def test_a_persisting_episode_is_reported_again_with_previously_reported_flag(long_course, coordinator):
    day100, month6 = registry.cibmtr_periods(long_course)[:2]
    first = values(registry.build(long_course, Registry.CIBMTR, day100))
    assert first["Was the date of diagnosis previously reported?"] == "no"
    assert first["Therapy given for CRS in this period: corticosteroids"] == "yes"  # prophylaxis continued
    before_marking = values(registry.build(long_course, Registry.CIBMTR, month6))
    assert before_marking["Was the date of diagnosis previously reported?"] == "no"
    services_mark = client_for(coordinator).post(
        reverse("interop:registry_mark", args=[long_course.pk]),
        {"registry": "cibmtr", "period": "day-100", "state": "done"},
    )
    assert services_mark.status_code == 302
    second = values(registry.build(long_course, Registry.CIBMTR, month6))
    assert second["Did the recipient experience cytokine release syndrome (CRS)?"] == "yes"  # persisted
    assert second["Was the date of diagnosis previously reported?"] == "yes"
    assert "Date of diagnosis (first symptom documented)" not in second
    assert second["Therapy given for CRS in this period: corticosteroids"] == "yes"
    ebmt = values(registry.build(long_course, Registry.EBMT, registry.ebmt_periods(long_course)[1]))
    assert ebmt["CRS maximum grade (ASTCT 2019)"] == "2"  # clipped: hypotension on day 101 (grade 2)
    assert values(registry.build(long_course, Registry.EBMT, day100))["CRS maximum grade (ASTCT 2019)"] == "1"


@pytest.mark.django_db
def test_the_coordinator_screen_lists_due_reports_and_records_done_and_checked(
    long_course, coordinator, nurse
):
    client = client_for(coordinator)
    page = client.get(reverse("interop:registry")).content.decode()
    assert "CIBMTR Form 4100" in page and "EBMT Cellular Therapy MED-A" in page
    assert page.count("<td>Due</td>") == 2  # day 100 of each registry has ended; 6 months has not
    assert " UTC" in page  # times carry their zone
    client.post(
        reverse("interop:registry_mark", args=[long_course.pk]),
        {"registry": "ebmt", "period": "day-100", "state": "checked"},
    )
    assert RegistryReport.objects.get(registry="ebmt").state == ReportState.CHECKED
    page = client.get(reverse("interop:registry")).content.decode()
    assert page.count("<td>Due</td>") == 1 and "<td>Checked against the chart</td>" in page
    bad = client.post(
        reverse("interop:registry_mark", args=[long_course.pk]),
        {"registry": "ebmt", "period": "day-7", "state": "done"},
    )
    assert (
        bad.status_code == 400
        and "'day-7' is not a period of this course; allowed: day-100" in bad.content.decode()
    )
    assert client_for(nurse).get(reverse("interop:registry")).status_code == 403


@pytest.mark.django_db
def test_the_report_page_links_every_value_to_its_observations(long_course, coordinator):
    url = reverse("interop:registry_report", args=[long_course.pk]) + "?registry=ebmt&period=day-100"
    page = client_for(coordinator).get(url).content.decode()
    fever = Observation.objects.filter(infusion=long_course, payload__temp_c=38.6).get()
    assert f'href="#obs-{fever.pk}"' in page and f'id="obs-{fever.pk}"' in page
    assert "late neurological events" in page  # what the report leaves out, said on it


@pytest.mark.django_db
def test_the_cohort_csv_uses_the_registry_field_names(long_course, coordinator):
    response = client_for(coordinator).get(reverse("interop:registry_csv", args=["cibmtr"]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["period"] for r in rows] == ["Day 100"]  # the 6-month period has not ended
    assert rows[0]["Did the recipient experience cytokine release syndrome (CRS)?"] == "yes"
    assert rows[0]["mrn"] == long_course.patient.mrn
    assert timezone.now() > long_course.infused_at


@pytest.mark.django_db
def test_the_report_names_each_therapy_with_its_doses_and_prophylaxis_continued(long_course, coordinator):
    """REG-3: a data manager reads which drug was given when, and why a dose before onset counts."""
    day100 = registry.cibmtr_periods(long_course)[0]
    report = registry.build(long_course, Registry.CIBMTR, day100)
    steroids = next(v for v in report.values if v.question.endswith("corticosteroids"))
    zone = ZoneInfo(long_course.care_team.time_zone)
    day99 = (long_course.infused_at + timedelta(days=99)).astimezone(zone).date()
    # day 94 (before onset on day 95) and day 99 in the period; day 101.5 is the 6-month period's
    assert steroids.note == f"dexamethasone {day99}, given before onset as prophylaxis and continued after it"
    toci = next(v for v in report.values if v.question.endswith("tocilizumab"))
    assert toci.answer == "no" and toci.note == ""
    url = reverse("interop:registry_report", args=[long_course.pk]) + "?registry=cibmtr&period=day-100"
    page = client_for(coordinator).get(url).content.decode()
    assert "given before onset as prophylaxis and continued after it" in page


@pytest.mark.django_db
def test_marking_a_report_confirms_it_by_the_periods_name(long_course, coordinator):
    client = client_for(coordinator)
    answer = client.post(
        reverse("interop:registry_mark", args=[long_course.pk]),
        {"registry": "cibmtr", "period": "day-100", "state": "done"},
        follow=True,
    )
    page = answer.content.decode()
    assert f"CIBMTR Form 4100, Day 100, {long_course.patient.family_name}: Done (submitted)" in page
    assert "day-100:" not in page


@pytest.mark.django_db
def test_a_report_and_the_cohort_file_are_access_logged(long_course, coordinator):
    from audit.models import AccessLog

    client = client_for(coordinator)
    url = reverse("interop:registry_report", args=[long_course.pk]) + "?registry=ebmt&period=day-100"
    assert client.get(url).status_code == 200
    assert client.get(reverse("interop:registry_csv", args=["ebmt"])).status_code == 200
    logged = AccessLog.objects.filter(patient_id=long_course.patient_id, username=coordinator.username)
    assert sorted(logged.values_list("view_name", flat=True)) == [
        "interop:registry_csv",
        "interop:registry_report",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["cibmtr", "ebmt"])
def test_every_filled_value_links_to_observations_shown_on_the_report(long_course, coordinator, name):
    """REG-3: every answer drawn from the chart (yes, a date, a grade) names the observations behind
    it, and each of them is on the page with its anchor; "previously reported" is the coordinator's
    record of an earlier report, not an observation."""
    client = client_for(coordinator)
    for period in registry.PERIODS[name](long_course)[:2]:
        report = registry.build(long_course, name, period)
        query = f"?registry={name}&period={period.key}"
        url = reverse("interop:registry_report", args=[long_course.pk]) + query
        page = client.get(url).content.decode()
        for value in report.values:
            if value.answer in (None, "no") or value.question.startswith("Was the date"):
                continue
            assert value.rows, (period.key, value.question)
            for row in value.rows:
                assert f'href="#obs-{row}"' in page and f'id="obs-{row}"' in page, (value.question, row)
