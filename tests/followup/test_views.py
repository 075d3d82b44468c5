"""Follow-up screens: the visit form per disease, the patient's follow-up page, the planned course's
work-up and washout, the coordinators' tasks and the outcomes page."""

from __future__ import annotations

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from followup.models import Finding, PlannedCourse
from monitoring import services
from monitoring.models import Indication, Observation
from tests import factories

from .conftest import make_course, sledai_items, visit_post

BASELINE = sledai_items("arthritis", "rash", "low_complement", "increased_dna_binding")


@pytest.fixture
def rheum_client(client, rheumatologist):
    client.force_login(rheumatologist)
    return client


def test_a_month_3_visit_form_shows_doris_remission_and_drug_free(rheum_client, record_fu, lupus_course):
    record_fu(lupus_course, "sledai", {"items": BASELINE, "pga": 2.0}, hours=-120)
    record_fu(
        lupus_course, "medication_status", {"drugs": [{"drug": "prednisolone", "mg_per_day": 10}]}, hours=-120
    )
    url = reverse("followup:visit", args=[lupus_course.patient_id, lupus_course.pk])
    page = rheum_client.get(url)
    assert page.status_code == 200
    assert "Low complement (2)" in page.content.decode() and "attributed to lupus" in page.content.decode()
    assert "CVA (8)" in page.content.decode() and "Increased DNA binding (2)" in page.content.decode()
    # the current regimen is prefilled: the rheumatologist stops prednisolone by clearing its row
    assert 'value="prednisolone"' in page.content.decode()
    response = rheum_client.post(
        url, visit_post(lupus_course, 2160, med_0_drug="", lab_cd19_per_uL="0"), follow=True
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "In DORIS remission" in html
    assert "Drug-free" in html and "since month 3.0" in html
    assert Observation.objects.filter(infusion=lupus_course, kind="lab").count() == 1
    assert "stopped prednisolone" in html


def test_an_impossible_pga_is_refused_and_nothing_is_saved(rheum_client, lupus_course):
    url = reverse("followup:visit", args=[lupus_course.patient_id, lupus_course.pk])
    response = rheum_client.post(url, visit_post(lupus_course, 2160, pga="2.345"))
    assert response.status_code == 422
    assert "pga" in response.content.decode() and "two decimals" in response.content.decode()
    assert not Observation.objects.exists()


def test_the_ssc_form_has_the_17_site_body_map(rheum_client, rheum_team):
    patient = factories.make_patient(rheum_team, indication=Indication.SYSTEMIC_SCLEROSIS)
    course = make_course(patient, months_ago=6)
    page = rheum_client.get(reverse("followup:visit", args=[patient.pk, course.pk])).content.decode()
    assert page.count('class="mrss-site') == 17
    assert "Tendon friction rubs" in page


def test_the_follow_up_page_shows_both_courses_and_times_with_their_zone(
    rheum_client, record_fu, lupus_patient
):
    first = make_course(lupus_patient, months_ago=20)
    second = make_course(lupus_patient, months_ago=3.2)
    record_fu(first, "lab", {"cd19_per_uL": 0, "igg_mg_dL": 500}, hours=24 * 40)
    record_fu(second, "lab", {"cd19_per_uL": 30, "igg_mg_dL": 700}, hours=24 * 40)
    html = rheum_client.get(reverse("followup:patient", args=[lupus_patient.pk])).content.decode()
    assert "Course 1" in html and "Course 2" in html
    assert "CET" in html or "CEST" in html
    assert "CD19 B cells" in html and 'class="trajectory"' in html
    assert "Month 6" in html  # the visit schedule of the chosen (latest) course


def test_another_teams_patient_is_not_found(rheum_client, team):
    other = factories.make_patient(team, indication=Indication.SLE)
    assert rheum_client.get(reverse("followup:patient", args=[other.pk])).status_code == 404


def test_the_planned_course_says_what_is_still_missing(client, rheum_team):
    coordinator = factories.make_user(Role.COORDINATOR, rheum_team)
    client.force_login(coordinator)
    patient = factories.make_patient(rheum_team, indication=Indication.LUPUS_NEPHRITIS)
    url = reverse("followup:planned_course", args=[patient.pk])
    leuka = timezone.localtime(timezone.now() + timedelta(days=10))
    response = client.post(
        url,
        {
            "planned_leukapheresis_at": leuka.strftime("%Y-%m-%dT%H:%M"),
            "w_pre_treatment_activity": "SLEDAI-2K 14",
            "l_0_drug": "mycophenolate mofetil",
            "l_0_at": timezone.localtime(timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "l_1_drug": "prednisolone",
            "l_1_mg": "15",
        },
        follow=True,
    )
    html = response.content.decode()
    assert PlannedCourse.objects.filter(patient=patient).exists()
    assert "mycophenolate mofetil last" in html and "not yet: leukapheresis too early" in html
    assert "glucocorticoid 15 mg/day" in html and "reduce" in html
    assert "HBV, HCV and HIV screening" in html
    assert "refractory lupus nephritis not yet decided" in html
    assert ">HBV, HCV and HIV screening</label>" in html  # the field's label keeps its capitals


def test_the_outcomes_page_shows_rates_with_denominators_and_a_kaplan_meier_curve(
    client, rheum_team, record_fu, lupus_patient
):
    coordinator = factories.make_user(Role.COORDINATOR, rheum_team)
    course = make_course(lupus_patient, months_ago=7)
    record_fu(course, "sledai", {"items": BASELINE, "pga": 2.0}, hours=-120)
    record_fu(course, "medication_status", {"drugs": []}, hours=2160)
    record_fu(course, "sledai", {"items": sledai_items(), "pga": 0.1}, hours=2160)
    client.force_login(coordinator)
    html = client.get(reverse("followup:outcomes")).content.decode()
    assert "DORIS" in html and "1 / 1" in html
    assert "Caution: fewer than 10" in html
    assert 'class="km"' in html and "Number at risk" in html
    assert "CET" in html or "CEST" in html  # "as of" in the coordinator's team zone


def test_the_outcomes_page_reads_a_fixed_number_of_queries_whatever_the_cohort(
    client, rheum_team, record_fu, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    coordinator = factories.make_user(Role.COORDINATOR, rheum_team)
    client.force_login(coordinator)

    def followed_patient():
        patient = factories.make_patient(rheum_team, indication=Indication.SLE)
        course = make_course(patient, months_ago=4)
        record_fu(course, "sledai", {"items": BASELINE, "pga": 2.0}, hours=-120)
        record_fu(course, "sledai", {"items": sledai_items(), "pga": 0.1}, hours=2160)

    followed_patient()
    client.get(reverse("followup:outcomes"))  # warm-up
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("followup:outcomes"))
    for _ in range(3):
        followed_patient()
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get(reverse("followup:outcomes")).status_code == 200


def test_each_part_of_a_visit_is_parsed_once_and_a_resubmission_stores_nothing_twice(
    rheum_client, lupus_course, monkeypatch
):
    """The visit's payloads go through the clinical core once each (the observation service's parse),
    and the same form sent twice (a double tap, a resend) records the visit once."""
    calls = []
    real = services.validate_payload

    def counting(**kwargs):
        calls.append(kwargs["kind"])
        return real(**kwargs)

    monkeypatch.setattr(services, "validate_payload", counting)
    url = reverse("followup:visit", args=[lupus_course.patient_id, lupus_course.pk])
    data = visit_post(lupus_course, 2160, lab_cd19_per_uL="0", client_uuid=str(uuid.uuid4()))
    assert rheum_client.post(url, data).status_code == 302
    assert sorted(calls) == ["lab", "medication_status", "sledai"]  # one parse per part
    assert rheum_client.post(url, data).status_code == 302
    assert Observation.objects.filter(infusion=lupus_course).count() == 3


def test_a_refused_part_is_named_and_no_part_of_the_visit_is_saved(rheum_client, lupus_course):
    """The lab part (recorded after the SLEDAI-2K and the medications) is refused by the core: its
    message names the part, the field and the range, and the parts before it are not kept either."""
    url = reverse("followup:visit", args=[lupus_course.patient_id, lupus_course.pk])
    response = rheum_client.post(url, visit_post(lupus_course, 2160, lab_igg_mg_dL="20000"))
    assert response.status_code == 422
    html = response.content.decode()
    assert "lab — igg_mg_dL:" in html and "10000" in html
    assert not Observation.objects.exists()


def test_the_follow_up_page_of_the_navigation_lists_the_patients_in_follow_up(
    rheum_client, rheum_team, lupus_course, team
):
    """A rheumatologist opens "Follow-up" and finds the patients whose courses are followed (not only
    the open tasks); another team's patient is not listed."""
    planned = factories.make_patient(rheum_team, indication=Indication.SYSTEMIC_SCLEROSIS)
    PlannedCourse.objects.create(patient=planned, care_team=rheum_team)
    other = factories.make_patient(team, indication=Indication.SLE)
    make_course(other, months_ago=4)
    html = rheum_client.get(reverse("followup:tasks")).content.decode()
    followed = html.split('id="followed"')[1].split("</section>")[0]
    assert str(lupus_course.patient) in followed and lupus_course.product.name in followed
    assert str(other) not in html
    assert str(planned) in html.split('id="planned"')[1]
    page = rheum_client.get(reverse("followup:patient", args=[lupus_course.patient_id])).content.decode()
    assert "acute weeks: monitoring completed" in page


def test_a_task_is_dated_in_its_care_teams_zone(rheum_client, lupus_course):
    Finding.objects.create(
        infusion=lupus_course,
        care_team=lupus_course.care_team,
        key="visit_overdue@1440:month_2",
        kind="visit_overdue",
        urgency="routine",
        recipient="coordinator",
        text="Month 2 visit not documented by the end of its window",
        t_hours=1440,
        task_status="open",
    )
    html = rheum_client.get(reverse("followup:tasks")).content.decode()
    row = html.split("Month 2 visit not documented")[1].split("</tr>")[0]
    assert ("CET" in row or "CEST" in row) and "UTC" not in row
    # The due time is a date a coordinator reads (the window's close), not only the core's "day 60".
    due = timezone.localtime(lupus_course.infused_at + timedelta(hours=1440), ZoneInfo("Europe/Berlin"))
    cells = row.split("</td>")
    assert due.strftime("%Y-%m-%d %H:%M %Z") in cells[1]


SKIPPED = "2026-03-29T02:30"  # Europe/Berlin: the clocks jump from 02:00 to 03:00 (INPUT-12)
SKIPPED_WORDS = "does not exist in Europe/Berlin (the clocks skip it for daylight saving)"


def test_a_visit_time_the_clocks_skip_is_refused_in_the_cores_words(rheum_client, lupus_course):
    """The visit form reads its time by the nurse's forms' rule and message, not Django's own."""
    url = reverse("followup:visit", args=[lupus_course.patient_id, lupus_course.pk])
    before = Observation.objects.count()
    response = rheum_client.post(url, visit_post(lupus_course, 2160, observed_at=SKIPPED))
    assert response.status_code == 422
    assert SKIPPED_WORDS in response.content.decode()
    assert Observation.objects.count() == before


def test_planned_course_times_the_clocks_skip_are_refused_in_the_cores_words(client, rheum_team):
    coordinator = factories.make_user(Role.COORDINATOR, rheum_team)
    client.force_login(coordinator)
    patient = factories.make_patient(rheum_team, indication=Indication.SLE)
    url = reverse("followup:planned_course", args=[patient.pk])
    for field in ("planned_leukapheresis_at", "l_0_at"):
        data = {"l_0_drug": "mycophenolate mofetil", field: SKIPPED}
        response = client.post(url, data)
        assert response.status_code == 422, field
        assert SKIPPED_WORDS in response.content.decode(), field
    assert not PlannedCourse.objects.filter(patient=patient).exists()


def test_followup_itself_leads_to_the_follow_up_list(rheum_client):
    """A user who types /followup/ (the section's address) lands on the follow-up list, not a 404."""
    response = rheum_client.get("/followup/", follow=True)
    assert response.redirect_chain == [(reverse("followup:tasks"), 302)]
    assert "Patients in follow-up" in response.content.decode()
