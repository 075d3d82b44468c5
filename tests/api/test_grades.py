"""Grades over the API: the evaluations of an infusion with drivers and suggestions (with doses)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from monitoring.models import GradeEvaluation

from .conftest import vitals_body

OBSERVATIONS = reverse("api-observation-list")
GRADES = reverse("api-grade-list")


def latest_url(pk):
    return reverse("api-infusion-latest-grade", args=[pk])


def grades_url(pk):
    return reverse("api-infusion-grades", args=[pk])


@pytest.mark.django_db
class TestGrades:
    def test_crs_grade_3_with_drivers_and_weight_based_tocilizumab(self, api, infusion):
        # 62 kg patient (factory default), fever with a vasopressor: CRS grade 3.
        body = vitals_body(infusion, temp_c=39.1, hr=124, sbp=84, dbp=48, vasopressors=["norepinephrine"])
        recorded = api.post(OBSERVATIONS, body, format="json")
        assert recorded.status_code == 201, recorded.content
        assert recorded.json()["grade"]["crs_grade"] == 3

        latest = api.get(latest_url(infusion.pk))
        assert latest.status_code == 200
        grade = latest.json()
        assert grade["crs_grade"] == 3 and grade["crs_max"] == 3
        assert grade["triggered_by"] == recorded.json()["id"]
        assert grade["rule_set"]
        assert grade["drivers"]["crs"], grade["drivers"]
        assert any(
            "norepinephrine" in str(d).lower() or "vasopressor" in str(d).lower()
            for d in grade["drivers"]["crs"]
        )
        codes = {s["code"] for s in grade["suggestions"]}
        assert {"tocilizumab", "icu_transfer"} <= codes, codes
        toci = next(s for s in grade["suggestions"] if s["code"] == "tocilizumab")
        assert toci["dose_mg"] == pytest.approx(496.0)

    def test_grades_list_newest_first_and_scoped(self, api, other_api, infusion, other_infusion):
        api.post(OBSERVATIONS, vitals_body(infusion, temp_c=38.3), format="json")
        api.post(OBSERVATIONS, vitals_body(infusion, temp_c=37.0), format="json")
        other_api.post(OBSERVATIONS, vitals_body(other_infusion, temp_c=38.5), format="json")

        rows = api.get(grades_url(infusion.pk)).json()["results"]
        assert len(rows) == 2
        assert rows[0]["id"] > rows[1]["id"]
        assert rows[0]["crs_max"] == 1
        assert api.get(GRADES).json()["count"] == 2
        assert api.get(GRADES, {"infusion": other_infusion.pk}).json()["count"] == 0
        theirs = GradeEvaluation.objects.get(infusion=other_infusion)
        assert api.get(reverse("api-grade-detail", args=[theirs.pk])).status_code == 404
        assert api.get(latest_url(other_infusion.pk)).status_code == 404
        assert api.get(grades_url(other_infusion.pk)).status_code == 404

    def test_latest_grade_before_any_observation_is_404_with_reason(self, api, infusion):
        response = api.get(latest_url(infusion.pk))
        assert response.status_code == 404
        assert "not been graded" in response.json()["detail"]
