"""Integration tokens: hashed at rest, scoped, limited to one care team, expiring and revocable."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.permissions import HasScope, scopes_for_user
from accounts.tokens import hash_key, issue_api_token, revoke_api_token
from tests import factories

from .helpers import NORMAL_VITALS


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def vitals(infusion) -> dict:
    return {
        "client_uuid": str(uuid.uuid4()),
        "infusion": infusion.pk,
        "kind": "vitals",
        "payload": NORMAL_VITALS,
        "observed_at": (timezone.now() - timedelta(minutes=2)).isoformat(),
    }


@pytest.fixture
def gateway(team):
    """A service account for the ward's monitor gateway (a nurse role: it records vitals)."""
    return factories.make_user("nurse", team, username="monitor-gateway")


@pytest.mark.django_db
class TestApiTokens:
    def test_key_is_shown_once_and_only_its_hash_is_stored(self, gateway, team):
        token, key = issue_api_token(name="Monitors", user=gateway, team=team, scopes=["observations:write"])
        assert key.startswith("ctk_") and len(key) > 40
        stored = ApiToken.objects.get(pk=token.pk)
        assert stored.key_hash == hash_key(key) and key not in str(stored.__dict__)

    def test_write_scope_records_an_observation(self, gateway, team, infusion):
        _, key = issue_api_token(
            name="Monitors", user=gateway, team=team, scopes=["observations:write", "patients:read"]
        )
        response = bearer(key).post("/api/observations/", vitals(infusion), format="json")
        assert response.status_code == 201, response.content

    def test_read_only_token_cannot_write(self, gateway, team, infusion):
        _, key = issue_api_token(name="Reader", user=gateway, team=team, scopes=["patients:read"])
        assert bearer(key).get("/api/patients/").status_code == 200
        assert bearer(key).post("/api/observations/", vitals(infusion), format="json").status_code == 403

    def test_token_does_not_reach_its_users_other_teams(self, gateway, team, other_team, other_patient):
        factories.Membership.objects.create(user=gateway, team=other_team, role="nurse")
        _, key = issue_api_token(name="Reader", user=gateway, team=team, scopes=["patients:read"])
        assert bearer(key).get(f"/api/patients/{other_patient.pk}/").status_code == 404
        assert other_patient.pk not in [p["id"] for p in bearer(key).get("/api/patients/").json()["results"]]

    @pytest.mark.parametrize("state", ["expired", "revoked", "garbage"])
    def test_unusable_tokens_are_401(self, state, gateway, team):
        token, key = issue_api_token(name="Reader", user=gateway, team=team, scopes=["patients:read"])
        if state == "expired":
            ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        elif state == "revoked":
            revoke_api_token(token=token)
        else:
            key = "ctk_not-a-real-key"
        response = bearer(key).get("/api/patients/")
        assert response.status_code == 401 and response["WWW-Authenticate"] == "Bearer"

    def test_token_for_a_team_its_user_is_not_in_is_refused(self, gateway, other_team):
        with pytest.raises(ValueError, match="not a member"):
            issue_api_token(name="x", user=gateway, team=other_team, scopes=["patients:read"])

    def test_unknown_scope_is_refused(self, gateway, team):
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError, match="Unknown scope"):
            issue_api_token(name="x", user=gateway, team=team, scopes=["everything"])
        with pytest.raises(KeyError):
            HasScope.for_("everything")

    def test_people_signed_in_hold_the_scopes_of_their_roles(self, nurse, physician, coordinator, team):
        assert scopes_for_user(nurse) == {
            "patients:read",
            "observations:read",
            "observations:write",
            "alerts:read",
            "fhir:read",  # the FHIR interface (interop) reads and records what the nurse may
            "fhir:write",
        }
        assert "alerts:write" in scopes_for_user(physician)
        assert not {"observations:write", "fhir:write"} & scopes_for_user(coordinator)


@pytest.mark.django_db
def test_issue_command_prints_a_working_key_once(gateway, team, patient, capsys):
    from django.core.management import call_command

    call_command(
        "issue_api_token",
        "EHR",
        "--user",
        "monitor-gateway",
        "--team",
        team.slug,
        "--scope",
        "patients:read",
        "--days",
        "30",
    )
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert bearer(key).get(f"/api/patients/{patient.pk}/").status_code == 200
    assert ApiToken.objects.get().expires_at > timezone.now() + timedelta(days=29)


def test_last_used_is_kept_to_the_minute_without_a_write_per_request(gateway, team, patient, time_machine):
    token, key = issue_api_token(name="Reader", user=gateway, team=team, scopes=["patients:read"])
    client = bearer(key)
    time_machine.move_to(timezone.now(), tick=False)
    assert client.get("/api/patients/").status_code == 200
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None

    time_machine.shift(timedelta(seconds=30))
    assert client.get("/api/patients/").status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first

    time_machine.shift(timedelta(seconds=31))
    assert client.get("/api/patients/").status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first


# --- One token system (issue 11 item 6) ------------------------------------------------------------
@pytest.mark.django_db
class TestOneTokenSystem:
    def test_drf_tokens_are_gone(self, physician, settings):
        assert "rest_framework.authtoken" not in settings.INSTALLED_APPS
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
        assert client.get("/api/patients/").status_code == 401

    def test_every_token_expires_within_a_year(self, gateway, team):
        from django.core.exceptions import ValidationError

        token, _ = issue_api_token(name="x", user=gateway, team=team, scopes=["patients:read"])
        assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)
        for expires_at in (timezone.now() + timedelta(days=366), timezone.now() - timedelta(seconds=1)):
            with pytest.raises(ValidationError) as refused:
                issue_api_token(
                    name="x", user=gateway, team=team, scopes=["patients:read"], expires_at=expires_at
                )
            assert refused.value.message_dict == {
                "expires_at": ["A token expires between now and 365 days from now."]
            }

    @pytest.mark.parametrize("days", ["0", "366"])
    def test_command_refuses_an_expiry_out_of_range(self, gateway, team, days):
        from django.core.management import CommandError, call_command

        with pytest.raises(CommandError, match="expires after 1 to 365 days"):
            call_command("issue_api_token", "EHR", "--user", gateway.username, "--team", team.slug,
                         "--scope", "patients:read", "--days", days)  # fmt: skip

    def test_physician_token_needs_two_factor_set_up(self, physician, team, patient):
        from django.core.exceptions import ValidationError
        from django_otp.plugins.otp_totp.models import TOTPDevice

        with pytest.raises(ValidationError, match="has not set up two-factor sign-in"):
            issue_api_token(name="script", user=physician, team=team, scopes=["alerts:write"])
        device = TOTPDevice.objects.create(user=physician, name="phone", confirmed=True)
        _, key = issue_api_token(name="script", user=physician, team=team, scopes=["patients:read"])
        assert bearer(key).get(f"/api/patients/{patient.pk}/").status_code == 200
        device.delete()  # the physician's second factor is gone: the token stops working
        response = bearer(key).get(f"/api/patients/{patient.pk}/")
        assert response.status_code == 401
        assert "has not set up two-factor sign-in" in response.json()["detail"]

    def test_coordinator_and_staff_tokens_too_but_not_a_nurse_gateway(self, coordinator, gateway, team):
        from accounts.tokens import token_needs_two_factor

        assert token_needs_two_factor(coordinator)
        assert not token_needs_two_factor(gateway)
        gateway.is_staff = True
        assert token_needs_two_factor(gateway)

    def test_admin_action_issues_a_token_and_shows_the_key_once(self, site_admin, gateway, team, patient):
        from django.urls import reverse

        from .conftest import verified_client

        site_admin.is_staff = site_admin.is_superuser = True
        site_admin.save()
        client = verified_client(site_admin)
        url = reverse("admin:accounts_user_changelist")
        form = client.post(url, {"action": "issue_token_action", "_selected_action": [gateway.pk]})
        assert form.status_code == 200 and "Issue the token" in form.content.decode()
        page = client.post(
            url,
            {
                "action": "issue_token_action",
                "_selected_action": [gateway.pk],
                "issue": "1",
                "name": "Ward monitors",
                "team": team.pk,
                "scopes": ["patients:read"],
                "days": "30",
            },
        ).content.decode()
        assert "shown only this once" in page
        key = page.split('<code id="api-token-key">')[1].split("</code>")[0]
        token = ApiToken.objects.get(user=gateway)
        assert token.key_hash == hash_key(key) and token.prefix == key[:12]
        assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
        assert bearer(key).get(f"/api/patients/{patient.pk}/").status_code == 200
        assert (
            key not in client.get(reverse("admin:accounts_apitoken_change", args=[token.pk])).content.decode()
        )
        too_long = client.post(
            url,
            {"action": "issue_token_action", "_selected_action": [gateway.pk], "issue": "1", "name": "x",
             "team": team.pk, "scopes": ["patients:read"], "days": "400"},
        )  # fmt: skip
        assert "Ensure this value is less than or equal to 365" in too_long.content.decode()
