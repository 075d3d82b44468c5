"""Integration tokens (``Authorization: Bearer …``): scopes and the token's one care team."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, Membership, Role
from accounts.tokens import issue_api_token, revoke_api_token
from monitoring.models import Observation

from .conftest import vitals_body

OBSERVATIONS = reverse("api-observation-list")
PATIENTS = reverse("api-patient-list")


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.mark.django_db
class TestTokens:
    def test_write_scope_records_observations(self, nurse, team, infusion):
        _token, key = issue_api_token(name="monitor", user=nurse, team=team, scopes=["observations:write"])
        response = bearer(key).post(OBSERVATIONS, vitals_body(infusion), format="json")
        assert response.status_code == 201, response.content
        assert Observation.objects.get().recorded_by == nurse

    def test_missing_scope_is_403(self, nurse, team, infusion, patient):
        _token, key = issue_api_token(name="reader", user=nurse, team=team, scopes=["patients:read"])
        client = bearer(key)
        assert client.get(PATIENTS).status_code == 200
        assert client.post(OBSERVATIONS, vitals_body(infusion), format="json").status_code == 403
        assert client.get(OBSERVATIONS).status_code == 403
        assert not Observation.objects.exists()

    def test_token_reaches_only_its_team(self, nurse, team, other_team, patient, other_patient, product):
        from tests import factories

        Membership.objects.create(user=nurse, team=other_team, role=Role.NURSE)
        other_infusion = factories.make_infusion(other_patient, product)
        _token, key = issue_api_token(
            name="ward gw", user=nurse, team=team, scopes=["patients:read", "observations:write"]
        )
        client = bearer(key)
        assert [p["id"] for p in client.get(PATIENTS).json()["results"]] == [patient.pk]
        assert client.get(reverse("api-patient-detail", args=[other_patient.pk])).status_code == 404
        response = client.post(OBSERVATIONS, vitals_body(other_infusion), format="json")
        assert response.status_code == 400 and "infusion" in response.json()

    def test_token_cannot_manage_patients(self, coordinator, team):
        _token, key = issue_api_token(name="ehr", user=coordinator, team=team, scopes=["patients:read"])
        body = {
            "mrn": "X1",
            "given_name": "A",
            "family_name": "B",
            "date_of_birth": "1990-01-01",
            "weight_kg": "70",
            "indication": "lbcl",
            "care_team": team.pk,
        }
        assert bearer(key).post(PATIENTS, body, format="json").status_code == 403

    def test_revoked_or_expired_token_is_401(self, nurse, team):
        token, key = issue_api_token(name="old", user=nurse, team=team, scopes=["patients:read"])
        revoke_api_token(token=token)
        assert bearer(key).get(PATIENTS).status_code == 401
        expired, key2 = issue_api_token(name="exp", user=nurse, team=team, scopes=["patients:read"])
        ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
        assert bearer(key2).get(PATIENTS).status_code == 401
        assert bearer("ctk_nonsense").get(PATIENTS).status_code == 401


@pytest.mark.django_db
def test_token_lookup_reads_user_and_roles_like_the_orm(nurse, team, other_team):
    """The token, its user and the user's roles come from one hand-written statement: they must be
    what the ORM reads (every field, and team_roles as from the memberships)."""
    from accounts.models import ApiToken, User
    from accounts.tokens import hash_key, token_with_user_and_roles

    Membership.objects.create(user=nurse, team=other_team, role=Role.PHYSICIAN)
    Membership.objects.create(user=nurse, team=other_team, role=Role.COORDINATOR)
    _token, key = issue_api_token(name="gw", user=nurse, team=team, scopes=["observations:write"])
    found = token_with_user_and_roles(hash_key(key))
    orm = ApiToken.objects.select_related("user").get(key_hash=hash_key(key))
    for a, b in ((found, orm), (found.user, orm.user)):
        names = [f.attname for f in type(b)._meta.concrete_fields]
        assert {n: getattr(a, n) for n in names} == {n: getattr(b, n) for n in names}
    assert (
        found.user.team_roles()
        == User.objects.get(pk=nurse.pk).team_roles()
        == {
            team.pk: frozenset({Role.NURSE}),
            other_team.pk: frozenset({Role.PHYSICIAN, Role.COORDINATOR}),
        }
    )
    assert token_with_user_and_roles(hash_key(key + "x")) is None

    Membership.objects.filter(user=nurse).delete()  # a token whose user lost every membership
    assert token_with_user_and_roles(hash_key(key)).user.team_roles() == {}


@pytest.mark.django_db
def test_token_of_a_deactivated_user_is_401(nurse, team, infusion):
    _token, key = issue_api_token(name="gw", user=nurse, team=team, scopes=["observations:write"])
    nurse.is_active = False
    nurse.save(update_fields=["is_active"])
    response = bearer(key).post(OBSERVATIONS, vitals_body(infusion), format="json")
    assert response.status_code == 401
    assert not Observation.objects.exists()
