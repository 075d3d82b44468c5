"""Issue 11 items 1–2 over the API: fragments never lower a grade, and the API refuses what the tablet
refuses, with the clinical core's message naming the field (one set of input rules)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

import carttrack
from monitoring.models import GradeEvaluation, Observation
from tests.monitoring.conftest import FEVER_CANNULA, FEVER_NOREPI

from .conftest import vitals_body

LIST = reverse("api-observation-list")


def post(api, infusion, payload, *, minutes_ago: float = 1.0, observed_at: str | None = None):
    body = {
        "client_uuid": str(uuid.uuid4()),
        "infusion": infusion.pk,
        "kind": "vitals",
        "observed_at": observed_at or (timezone.now() - timedelta(minutes=minutes_ago)).isoformat(),
        "payload": payload,
    }
    return api.post(LIST, body, format="json")


def latest_crs(infusion) -> int | None:
    return GradeEvaluation.objects.filter(infusion=infusion).latest().crs_grade


@pytest.mark.django_db
class TestFragments:
    def test_heart_rate_only_record_keeps_crs_2_on_nasal_cannula(self, api, infusion):
        first = post(api, infusion, FEVER_CANNULA, minutes_ago=30)
        assert first.status_code == 201 and first.json()["grade"]["crs_grade"] == 2
        only_hr = post(api, infusion, {"hr": 96})
        assert only_hr.status_code == 201, only_hr.content
        grade = only_hr.json()["grade"]
        assert grade["crs_grade"] == 2  # the standing cannula 3 L/min still counts
        codes = [s["code"] for s in GradeEvaluation.objects.get(pk=grade["id"]).suggestions]
        assert "continue_monitoring" not in codes
        # Exactly what was recorded is stored: no room_air, no "no vasopressors" added.
        assert Observation.objects.latest("id").payload == {"hr": 96}

    def test_temperature_only_after_norepinephrine_keeps_crs_3(self, api, infusion):
        assert post(api, infusion, FEVER_NOREPI, minutes_ago=30).json()["grade"]["crs_grade"] == 3
        response = post(api, infusion, {"temp_c": 38.2})
        assert response.status_code == 201 and response.json()["grade"]["crs_grade"] == 3

    def test_empty_vitals_is_400_and_the_grade_stays(self, api, infusion):
        assert post(api, infusion, FEVER_NOREPI, minutes_ago=30).json()["grade"]["crs_grade"] == 3
        response = post(api, infusion, {})
        assert response.status_code == 400
        assert "at least one recorded value" in str(response.json()["vitals"])
        assert Observation.objects.count() == 1
        assert latest_crs(infusion) == 3

    def test_explicit_room_air_and_no_pressors_do_lower_it(self, api, infusion):
        post(api, infusion, FEVER_NOREPI, minutes_ago=30)
        response = post(api, infusion, {"sbp": 118, "dbp": 70, "vasopressors": [], "o2_device": "room_air"})
        assert response.status_code == 201
        assert response.json()["grade"]["crs_grade"] == 1  # the standing fever alone


# Each reproduction of the issue, and the field the answer must name (the core's own message).
REFUSED = [
    ("diastolic above systolic", {"sbp": 90, "dbp": 110}, "dbp", "must be below systolic 90 mmHg"),
    ("flow on room air", {"o2_device": "room_air", "o2_flow_l_min": 4}, "o2_flow_l_min", "room_air"),
    ("FiO2 on room air", {"o2_device": "room_air", "fio2": 0.4}, "fio2", "0.21 (21 %)"),
    ("nasal cannula 60 L/min", {"o2_device": "nasal_cannula", "o2_flow_l_min": 60}, "o2_flow_l_min", "HFNC"),
    ("SpO2 as a fraction", {"spo2": 0.95}, "spo2", "did you mean 95 %"),
    ("flow without a device", {"o2_flow_l_min": 4}, "o2_flow_l_min", "with o2_device"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("what", "payload", "field", "words"), REFUSED, ids=[r[0] for r in REFUSED])
def test_api_refuses_what_the_core_refuses_with_its_message(api, infusion, what, payload, field, words):
    response = post(api, infusion, {"hr": 90, **payload})
    assert response.status_code == 400, what
    messages = response.json()[field]
    assert any(words in m for m in messages), messages
    core = [
        str(e) for e in carttrack.observation_errors({"kind": "vitals", "t_hours": 1.0, "hr": 90, **payload})
    ]
    assert messages[0] in core  # the same words the tablet and the case files get
    assert not Observation.objects.exists()


@pytest.mark.django_db
def test_every_error_of_the_record_is_answered_at_once(api, infusion):
    response = post(api, infusion, {"sbp": 90, "dbp": 110, "spo2": 0.95})
    assert response.status_code == 400
    assert {"dbp", "spo2"} <= set(response.json())


@pytest.mark.django_db
class TestObservedAt:
    @pytest.fixture
    def berlin(self, team):
        team.time_zone = "Europe/Berlin"
        team.save()
        return ZoneInfo("Europe/Berlin")

    def test_time_without_zone_is_read_in_the_team_zone(self, api, infusion, berlin):
        wall = (timezone.now() - timedelta(hours=1)).astimezone(berlin).replace(tzinfo=None, microsecond=0)
        response = post(api, infusion, {"hr": 88}, observed_at=wall.isoformat())
        assert response.status_code == 201, response.content
        stored = Observation.objects.get().observed_at
        assert stored == wall.replace(tzinfo=berlin)  # Berlin wall time, not UTC

    def test_time_with_offset_is_taken_as_written(self, api, infusion, berlin):
        moment = (timezone.now() - timedelta(hours=1)).replace(microsecond=0)
        response = post(api, infusion, {"hr": 88}, observed_at=moment.astimezone(ZoneInfo("UTC")).isoformat())
        assert response.status_code == 201
        assert Observation.objects.get().observed_at == moment

    def test_a_wall_time_the_clocks_skip_is_refused(self, api, infusion, berlin):
        response = post(api, infusion, {"hr": 88}, observed_at="2026-03-29T02:30:00")
        assert response.status_code == 400
        assert "does not exist in Europe/Berlin" in response.json()["observed_at"][0]

    def test_not_a_time_names_the_field(self, api, infusion, berlin):
        response = post(api, infusion, {"hr": 88}, observed_at="yesterday")
        assert response.status_code == 400 and "ISO-8601" in response.json()["observed_at"][0]


@pytest.mark.django_db
def test_vitals_body_helper_still_records(api, infusion):
    """The normal record of the other API tests (explicit room air) is unaffected."""
    response = api.post(LIST, vitals_body(infusion), format="json")
    assert response.status_code == 201 and response.json()["grade"]["crs_grade"] == 0


@pytest.mark.django_db
def test_a_closing_time_without_zone_is_read_in_the_team_zone(coordinator_api, team, infusion):
    team.time_zone = "Europe/Berlin"
    team.save()
    berlin = ZoneInfo("Europe/Berlin")
    wall = (timezone.now() - timedelta(minutes=10)).astimezone(berlin).replace(tzinfo=None, microsecond=0)
    url = reverse("api-infusion-close", args=[infusion.pk])
    response = coordinator_api.post(
        url, {"close_reason": "monitoring_complete", "closed_at": wall.isoformat()}
    )
    assert response.status_code == 200, response.content
    infusion.refresh_from_db()
    assert infusion.closed_at == wall.replace(tzinfo=berlin)


@pytest.mark.django_db
class TestInfusedAt:
    """Starting an infusion over the API reads its time by the same rule as an observation's (INPUT-12):
    before, DRF read a time without offset as UTC although the team is in Europe/Berlin."""

    @pytest.fixture
    def berlin(self, team):
        team.time_zone = "Europe/Berlin"
        team.save()
        return ZoneInfo("Europe/Berlin")

    def start(self, coordinator_api, patient, product, infused_at):
        body = {"patient": patient.pk, "product": product.pk, "infused_at": infused_at}
        return coordinator_api.post(reverse("api-infusion-list"), body, format="json")

    def test_a_time_without_zone_is_read_in_the_team_zone(self, coordinator_api, patient, product, berlin):
        wall = (timezone.now() - timedelta(hours=2)).astimezone(berlin).replace(tzinfo=None, microsecond=0)
        response = self.start(coordinator_api, patient, product, wall.isoformat())
        assert response.status_code == 201, response.content
        infusion = patient.infusions.get()
        assert infusion.infused_at == wall.replace(tzinfo=berlin)  # Berlin wall time, not UTC

    def test_a_time_with_offset_is_taken_as_written(self, coordinator_api, patient, product, berlin):
        moment = (timezone.now() - timedelta(hours=2)).replace(microsecond=0)
        response = self.start(coordinator_api, patient, product, moment.isoformat())
        assert response.status_code == 201 and patient.infusions.get().infused_at == moment

    def test_a_wall_time_the_clocks_skip_is_refused_in_the_cores_words(
        self, client, coordinator, coordinator_api, patient, product, berlin
    ):
        response = self.start(coordinator_api, patient, product, "2026-03-29T02:30:00")
        assert response.status_code == 400
        [message] = response.json()["infused_at"]
        assert "does not exist in Europe/Berlin" in message
        # The coordinator's screen refuses the same time with the same words.
        client.force_login(coordinator)
        screen = client.post(
            f"/courses/patients/{patient.pk}/infusion/start/",
            {"product": product.pk, "infused_at": "2026-03-29T02:30"},
        )
        assert screen.status_code == 422
        assert "does not exist in Europe/Berlin (the clocks skip it for daylight saving)" in message
        assert "does not exist in Europe/Berlin (the clocks skip it for daylight saving)" in (
            screen.content.decode()
        )
        assert not patient.infusions.exists()

    @pytest.mark.parametrize("text", ["yesterday", "2026-03-01", ""])
    def test_not_a_time_names_the_field(self, coordinator_api, patient, product, berlin, text):
        response = self.start(coordinator_api, patient, product, text)
        assert response.status_code == 400 and response.json()["infused_at"], response.content
        assert not patient.infusions.exists()
