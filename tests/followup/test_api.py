"""Follow-up through the API: observations through the same observation endpoint and rules, results
readable per patient and course."""

from __future__ import annotations

from tests import factories

from .conftest import api_post, make_course, sledai_items


def test_follow_up_observations_use_the_observation_endpoint_and_its_rules(rheum_api, lupus_course):
    bad = api_post(rheum_api, lupus_course, "sledai", {"items": {"rash": "yes"}}, 2160)
    assert bad.status_code == 400
    assert "items.rash" in bad.json()
    ok = api_post(rheum_api, lupus_course, "sledai", {"items": sledai_items(), "pga": 0.1}, 2160)
    assert ok.status_code == 201, ok.content


def test_results_are_readable_per_patient_and_course(rheum_api, lupus_patient, record_fu):
    first = make_course(lupus_patient, months_ago=20)
    second = make_course(lupus_patient, months_ago=3.2)
    record_fu(first, "sledai", {"items": sledai_items("rash")}, hours=2160)
    record_fu(second, "sledai", {"items": sledai_items()}, hours=1000)
    record_fu(second, "sledai", {"items": sledai_items()}, hours=2160)
    by_patient = rheum_api.get(f"/api/followup-results/?patient={lupus_patient.pk}").json()
    rows = by_patient["results"] if isinstance(by_patient, dict) else by_patient
    assert [r["course"] for r in rows] == [first.pk, second.pk]  # the latest result of each course
    assert rows[0]["result"]["sledai_2k"] == 2 and rows[1]["result"]["sledai_2k"] == 0
    one = rheum_api.get(f"/api/followup-results/?course={second.pk}").json()
    one = one["results"] if isinstance(one, dict) else one
    assert len(one) == 1 and one[0]["visit_template_version"] == "g1-2025.1"


def test_another_teams_results_are_not_listed(rheum_api, team, record_fu, physician):
    patient = factories.make_patient(team, indication="sle")
    course = make_course(patient, months_ago=4)
    record_fu(course, "sledai", {"items": sledai_items()}, hours=2160, user=physician)
    rows = rheum_api.get(f"/api/followup-results/?patient={patient.pk}").json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    assert rows == []
