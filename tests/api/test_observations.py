"""Observations over the API: idempotent recording, validation errors, corrections, scoping."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection
from django.urls import reverse

from monitoring.models import GradeEvaluation, Observation, ObservationStatus

from .conftest import client_for, vitals_body

LIST = reverse("api-observation-list")


def detail(pk):
    return reverse("api-observation-detail", args=[pk])


def amend_url(pk):
    return reverse("api-observation-amend", args=[pk])


def eie_url(pk):
    return reverse("api-observation-entered-in-error", args=[pk])


@pytest.mark.django_db
class TestRecord:
    def test_first_post_201_replay_200_same_body_one_row(
        self, api, infusion, django_capture_on_commit_callbacks, monkeypatch
    ):
        from alerts.tasks import process_evaluation

        enqueued: list[int] = []
        monkeypatch.setattr(process_evaluation, "delay", enqueued.append)
        body = vitals_body(infusion, temp_c=38.4, hr=110)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            first = api.post(LIST, body, format="json")
        assert first.status_code == 201, first.content
        assert first.json()["status"] == "final"
        assert first.json()["grade"]["crs_grade"] == 1
        assert enqueued == []  # nothing is enqueued before the commit ...
        for callback in callbacks:
            callback()
        assert enqueued == [first.json()["grade"]["id"]]  # ... then the alert task, once

        with django_capture_on_commit_callbacks(execute=True):
            replay = api.post(LIST, body, format="json")
        assert replay.status_code == 200
        assert replay.json() == first.json()
        assert enqueued == [first.json()["grade"]["id"]]  # a replay enqueues nothing
        assert Observation.objects.filter(client_uuid=body["client_uuid"]).count() == 1
        assert GradeEvaluation.objects.filter(infusion=infusion).count() == 1

    def test_same_uuid_different_payload_is_409(self, api, infusion):
        body = vitals_body(infusion, temp_c=37.2)
        assert api.post(LIST, body, format="json").status_code == 201
        changed = {**body, "payload": {**body["payload"], "temp_c": 39.5}}
        response = api.post(LIST, changed, format="json")
        assert response.status_code == 409
        assert "detail" in response.json()
        assert Observation.objects.get(client_uuid=body["client_uuid"]).payload["temp_c"] == 37.2

    def test_impossible_value_is_400_naming_field_and_range(self, api, infusion):
        response = api.post(LIST, vitals_body(infusion, temp_c=60), format="json")
        assert response.status_code == 400
        errors = response.json()
        assert "temp_c" in errors
        assert "25" in errors["temp_c"][0] and "45" in errors["temp_c"][0]
        assert not Observation.objects.exists()

    def test_unknown_payload_field_is_400(self, api, infusion):
        response = api.post(LIST, vitals_body(infusion, heart_rate=80), format="json")
        assert response.status_code == 400
        assert "heart_rate" in str(response.json())

    def test_malformed_json_is_400(self, api, infusion):
        response = api.post(LIST, data='{"client_uuid": ', content_type="application/json")
        assert response.status_code == 400
        assert "JSON" in response.json()["detail"]

    @pytest.mark.parametrize(
        "change, field",
        [
            ({"client_uuid": "not-a-uuid"}, "client_uuid"),
            ({"kind": "horoscope"}, "kind"),
            ({"payload": [1, 2]}, "payload"),
            ({"observed_at": "yesterday"}, "observed_at"),
            ({"infusion": "x"}, "infusion"),
            ({"payload": {"kind": "vitals", "hr": 80}}, "payload"),
        ],
    )
    def test_envelope_errors_are_400_with_field(self, api, infusion, change, field):
        response = api.post(LIST, {**vitals_body(infusion), **change}, format="json")
        assert response.status_code == 400
        assert field in response.json()

    def test_future_time_is_refused(self, api, infusion):
        body = vitals_body(infusion)
        body["observed_at"] = "2999-01-01T00:00:00Z"
        response = api.post(LIST, body, format="json")
        assert response.status_code == 400
        assert "observed_at" in response.json()

    def test_closed_infusion_refuses_observations(self, api, infusion):
        infusion.status = "closed"
        infusion.close_reason = "monitoring_complete"
        infusion.save()
        response = api.post(LIST, vitals_body(infusion), format="json")
        assert response.status_code == 400
        assert "infusion" in response.json()

    def test_coordinator_cannot_record_403(self, coordinator_api, infusion):
        response = coordinator_api.post(LIST, vitals_body(infusion), format="json")
        assert response.status_code == 403
        assert not Observation.objects.exists()

    def test_nurse_cannot_record_a_death_403(self, api, infusion):
        body = vitals_body(infusion)
        body.update(kind="event", payload={"event": "death", "attributed_to": "CRS"})
        response = api.post(LIST, body, format="json")
        assert response.status_code == 403

    def test_another_teams_infusion_is_not_found(self, other_api, infusion):
        response = other_api.post(LIST, vitals_body(infusion), format="json")
        assert response.status_code == 400
        assert "infusion" in response.json()
        assert not Observation.objects.exists()

    def test_anonymous_is_refused(self, client, infusion):
        response = client.post(LIST, vitals_body(infusion), content_type="application/json")
        assert response.status_code in (401, 403)


@pytest.mark.django_db
def test_write_responses_equal_the_serializer_representation(api, infusion):
    """The POST and correction responses are built without DRF fields (the hot path): they must be
    exactly what ObservationSerializer gives for the same rows, in another time zone too."""
    from django.test import override_settings
    from django.utils import timezone

    from monitoring.serializers import ObservationSerializer

    def serialized(pk, evaluation_id):
        obs = Observation.objects.select_related("superseded_by").get(pk=pk)
        evaluation = GradeEvaluation.objects.get(pk=evaluation_id)
        context = {"evaluations": {pk: evaluation}, "new_rows": set()}
        return ObservationSerializer(obs, context=context).data

    with override_settings(TIME_ZONE="Europe/Berlin"), timezone.override("Europe/Berlin"):
        first = api.post(LIST, vitals_body(infusion, temp_c=38.6, hr=121), format="json").json()
        assert list(first) == ObservationSerializer.Meta.fields
        assert first == serialized(first["id"], first["grade"]["id"])
        assert first["observed_at"].endswith("+01:00") or first["observed_at"].endswith("+02:00")
        body = {"payload": {**first["payload"], "temp_c": 37.1}, "reason": "Wrong patient"}
        amended = api.post(amend_url(first["id"]), body, format="json").json()
        assert amended["supersedes"] == first["id"]
        assert amended == serialized(amended["id"], amended["grade"]["id"])


@pytest.mark.django_db
class TestRead:
    def test_list_by_infusion_with_status_and_supersedes(self, api, infusion, other_api, other_infusion):
        first = api.post(LIST, vitals_body(infusion, temp_c=38.9), format="json").json()
        other_api.post(LIST, vitals_body(other_infusion), format="json")
        fixed = api.post(
            amend_url(first["id"]),
            {"payload": {**first["payload"], "temp_c": 37.9}, "reason": "typo"},
            format="json",
        )
        assert fixed.status_code == 201, fixed.content

        rows = api.get(LIST, {"infusion": infusion.pk}).json()["results"]
        assert [(r["id"], r["status"], r["supersedes"], r["superseded_by"]) for r in rows] == [
            (first["id"], "final", None, fixed.json()["id"]),
            (fixed.json()["id"], "amended", first["id"], None),
        ]
        assert api.get(LIST, {"infusion": infusion.pk, "status": "amended"}).json()["count"] == 1
        # The other team's observation never shows up, even when asked for by infusion.
        assert api.get(LIST, {"infusion": other_infusion.pk}).json()["count"] == 0
        assert api.get(LIST).json()["count"] == 2

    def test_another_teams_observation_is_404(self, api, other_api, other_infusion):
        theirs = other_api.post(LIST, vitals_body(other_infusion), format="json").json()
        assert api.get(detail(theirs["id"])).status_code == 404
        assert api.post(eie_url(theirs["id"]), {"reason": "x"}, format="json").status_code == 404
        assert (
            api.post(amend_url(theirs["id"]), {"payload": {}, "reason": "x"}, format="json").status_code
            == 404
        )

    def test_bad_filters_are_400(self, api):
        assert api.get(LIST, {"infusion": "abc"}).status_code == 400
        assert api.get(LIST, {"status": "deleted"}).status_code == 400
        assert api.get(LIST, {"infusion": str(10**30)}).status_code == 400


@pytest.mark.django_db
class TestCorrections:
    def test_amend_then_entered_in_error_chain(self, api, infusion):
        original = api.post(LIST, vitals_body(infusion, temp_c=39.4, hr=118), format="json").json()
        assert original["grade"]["crs_grade"] == 1

        amended = api.post(
            amend_url(original["id"]),
            {
                "payload": {**original["payload"], "temp_c": 37.4},
                "reason": "Thermometer in the wrong patient",
            },
            format="json",
        )
        assert amended.status_code == 201, amended.content
        body = amended.json()
        assert body["status"] == "amended"
        assert body["supersedes"] == original["id"]
        assert body["reason"] == "Thermometer in the wrong patient"
        assert body["grade"]["crs_grade"] == 0

        voided = api.post(eie_url(body["id"]), {"reason": "Whole set belonged to bed 4"}, format="json")
        assert voided.status_code == 201, voided.content
        assert voided.json()["status"] == "entered_in_error"
        assert voided.json()["supersedes"] == body["id"]

        # All three rows stay visible; nothing was updated or deleted.
        rows = Observation.objects.filter(infusion=infusion).order_by("id")
        assert [r.status for r in rows] == ["final", "amended", "entered_in_error"]
        assert rows[0].payload["temp_c"] == 39.4

        # Correcting a row that was already corrected: 409 naming who did it.
        again = api.post(
            amend_url(original["id"]), {"payload": original["payload"], "reason": "x"}, format="json"
        )
        assert again.status_code == 409
        assert "already" in again.json()["detail"]

    def test_reason_is_required(self, api, infusion):
        original = api.post(LIST, vitals_body(infusion), format="json").json()
        response = api.post(eie_url(original["id"]), {"reason": ""}, format="json")
        assert response.status_code == 400
        assert "reason" in response.json()
        response = api.post(amend_url(original["id"]), {"payload": original["payload"]}, format="json")
        assert response.status_code == 400
        assert "reason" in response.json()

    def test_amend_with_impossible_value_is_400(self, api, infusion):
        original = api.post(LIST, vitals_body(infusion), format="json").json()
        response = api.post(
            amend_url(original["id"]),
            {"payload": {**original["payload"], "spo2": 140}, "reason": "x"},
            format="json",
        )
        assert response.status_code == 400
        assert "spo2" in response.json()

    def test_coordinator_cannot_amend_403(self, api, coordinator_api, infusion):
        original = api.post(LIST, vitals_body(infusion), format="json").json()
        response = coordinator_api.post(eie_url(original["id"]), {"reason": "x"}, format="json")
        assert response.status_code == 403
        assert Observation.objects.get(pk=original["id"]).status == ObservationStatus.FINAL


def _run_concurrently(*calls):
    """Start the calls in threads released at the same moment; return their results."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
class TestConcurrency:
    def test_two_concurrent_posts_with_one_uuid_store_one(self, nurse, infusion):
        body = vitals_body(infusion, temp_c=38.2)
        clients = [client_for(nurse), client_for(nurse)]
        responses = _run_concurrently(*[lambda c=c: c.post(LIST, body, format="json") for c in clients])
        assert sorted(r.status_code for r in responses) == [200, 201]
        assert responses[0].json() == responses[1].json()
        assert Observation.objects.filter(client_uuid=body["client_uuid"]).count() == 1
        assert Observation.objects.count() == 1

    def test_concurrent_amendments_one_wins_other_409(self, nurse, physician, infusion):
        original = client_for(nurse).post(LIST, vitals_body(infusion, temp_c=38.6), format="json").json()
        a, b = client_for(nurse), client_for(physician)
        responses = _run_concurrently(
            lambda: a.post(
                amend_url(original["id"]),
                {"payload": {**original["payload"], "temp_c": 37.6}, "reason": "a"},
                format="json",
            ),
            lambda: b.post(eie_url(original["id"]), {"reason": "b"}, format="json"),
        )
        assert sorted(r.status_code for r in responses) == [201, 409]
        assert Observation.objects.filter(supersedes_id=original["id"]).count() == 1
        loser = next(r for r in responses if r.status_code == 409)
        assert "already" in loser.json()["detail"]


def test_uuid_helper_is_unique():
    assert vitals_body.__doc__ and uuid.uuid4() != uuid.uuid4()


@pytest.mark.django_db
class TestHostileInput:
    """Values no device or nurse can mean are 400s naming the field, never a server error."""

    @pytest.mark.parametrize(
        "kind, payload, field",
        [
            ("event", {"event": "crs_diagnosed", "attributed_to": "CRS\x00"}, "attributed_to"),
            ("vitals", {"hr": 10**400}, "hr"),
            ("vitals", {"hr": -(10**30)}, "hr"),
            ("vitals", {"vasopressors": ["norepinephrine\x00"]}, "vasopressors"),
            ("neuro", {"ice": {"orientation": [[[[[[[[[[1]]]]]]]]]]}}, "ice"),
        ],
    )
    def test_rejected_with_field(self, physician_api, infusion, kind, payload, field):
        body = vitals_body(infusion)
        body.update(kind=kind, payload=payload)
        response = physician_api.post(LIST, body, format="json")
        assert response.status_code == 400, response.content
        assert field in response.json()
        assert not Observation.objects.exists()

    def test_json_nested_beyond_the_parser_is_400(self, api):
        response = api.post(LIST, data="[" * 100_000 + "]" * 100_000, content_type="application/json")
        assert response.status_code == 400


@pytest.mark.django_db
def test_a_device_post_reads_and_writes_a_bounded_number_of_times(
    infusion, nurse, team, django_assert_max_num_queries, monkeypatch
):
    """Token; its user with the caller's roles (once for every check); the locked infusion (with the
    policy in force and any earlier row of this UUID), its patient, its product; the row, the rows
    grading has not seen, the grade; plus BEGIN/COMMIT (13 before the course cache and the
    per-request roles; 8 while the reads were SQL assembled from ``_meta``)."""
    from rest_framework.test import APIClient

    from accounts.tokens import issue_api_token
    from alerts.tasks import process_evaluation

    monkeypatch.setattr(process_evaluation, "delay", lambda evaluation_id: None)
    _token, key = issue_api_token(name="gateway", user=nurse, team=team, scopes=["observations:write"])
    device = APIClient()
    device.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    # The first use of the token also stamps its last-used time (at most once a minute).
    for temp, queries in ((37.2, 12), (38.4, 11)):
        with django_assert_max_num_queries(queries):
            response = device.post(LIST, vitals_body(infusion, temp_c=temp), format="json")
        assert response.status_code == 201, response.content
    assert response.json()["grade"]["crs_grade"] == 1
