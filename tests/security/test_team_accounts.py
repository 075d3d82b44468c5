"""An admin's Team accounts screen: unlock a locked sign-in and reset a lost phone's two-factor for
members of their own teams only, with a history row; tokens issued and revoked there; and the pages
the docs send an admin to answer without a 403 (the demo admin has no Django permission flags)."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ApiToken
from tests import factories

from .conftest import verified_client


def fail_sign_in(username: str, times: int) -> Client:
    client = Client(REMOTE_ADDR="10.0.0.7")
    for _ in range(times):
        client.post("/accounts/login/", {"username": username, "password": "wrong-password-123"})
    return client


@pytest.fixture
def staff_admin(site_admin):
    site_admin.is_staff = True  # as the demo seeder makes its admin: staff, no permission flags
    site_admin.save()
    return site_admin


@pytest.mark.django_db
def test_admin_unlocks_a_locked_nurse_who_then_signs_in(settings, staff_admin, nurse):
    blocked = fail_sign_in(nurse.username, settings.AXES_FAILURE_LIMIT)
    answer = blocked.post("/accounts/login/", {"username": nurse.username, "password": factories.PASSWORD})
    assert answer.status_code == 429
    admin = verified_client(staff_admin)
    page = admin.get("/accounts/team/").content.decode()
    assert "Locked after repeated wrong passwords" in page

    response = admin.post(f"/accounts/team/{nurse.pk}/unlock/", follow=True)
    assert "Sign-in unlocked" in response.content.decode()
    assert not AccessAttempt.objects.filter(username=nurse.username).exists()
    answer = blocked.post("/accounts/login/", {"username": nurse.username, "password": factories.PASSWORD})
    assert answer.status_code == 302
    note = nurse.history.get(history_change_reason__contains="unlocked")
    assert note.history_user == staff_admin


@pytest.mark.django_db
def test_admin_resets_two_factor_and_the_next_sign_in_enrols(staff_admin, physician):
    TOTPDevice.objects.create(user=physician, name="old phone", confirmed=True)
    admin = verified_client(staff_admin)
    response = admin.post(f"/accounts/team/{physician.pk}/two-factor/reset/", follow=True)
    assert "Two-factor reset" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=physician).exists()
    client = Client()
    client.force_login(physician)
    enrol = client.get("/accounts/two-factor/").content.decode()
    assert "data:image/svg+xml;base64," in enrol  # a new QR code to scan
    assert physician.history.get(history_change_reason__contains="two-factor").history_user == staff_admin


@pytest.mark.django_db
def test_another_teams_account_is_not_found(staff_admin, other_team):
    stranger = factories.make_user("physician", other_team, username="stranger")
    TOTPDevice.objects.create(user=stranger, name="phone", confirmed=True)
    admin = verified_client(staff_admin)
    assert "stranger" not in admin.get("/accounts/team/").content.decode()
    assert admin.post(f"/accounts/team/{stranger.pk}/two-factor/reset/").status_code == 404
    assert TOTPDevice.objects.filter(user=stranger).exists()


@pytest.mark.django_db
def test_admin_issues_a_token_shown_once_and_revokes_it(staff_admin, team, nurse):
    admin = verified_client(staff_admin)
    response = admin.post(
        "/accounts/team/tokens/",
        {
            "name": "Ward monitor",
            "team": team.pk,
            "user": nurse.pk,
            "scopes": ["observations:write"],
            "days": 30,
        },
    )
    page = response.content.decode()
    token = ApiToken.objects.get(name="Ward monitor")
    assert token.team == team and token.scopes == ["observations:write"] and token.expires_at > timezone.now()
    shown = [part.split("</code>")[0] for part in page.split("<code>")[1:]]  # usernames are code too
    key = next(text for text in shown if text.startswith(token.prefix))
    assert key not in admin.get("/accounts/team/").content.decode()  # shown once
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/observations/").status_code == 403  # write-only token: reading is refused
    admin.post(f"/accounts/team/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api.get("/api/observations/").status_code == 401

    bad = admin.post("/accounts/team/tokens/", {"name": "x", "team": team.pk, "user": nurse.pk, "days": 900})
    assert bad.status_code == 422
    assert "365" in bad.content.decode()  # the allowed range, named


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/accounts/team/", "/admin/", "/admin/accounts/apitoken/", "/admin/audit/accesslog/", "/audit/"]
)
def test_pages_the_docs_name_open_for_a_team_admin(staff_admin, url):
    assert verified_client(staff_admin).get(url).status_code == 200


@pytest.mark.django_db
def test_a_token_for_a_physician_without_two_factor_is_refused_in_words(staff_admin, team, physician):
    admin = verified_client(staff_admin)
    TOTPDevice.objects.filter(user=physician).delete()
    response = admin.post(
        "/accounts/team/tokens/",
        {"name": "Script", "team": team.pk, "user": physician.pk, "scopes": ["patients:read"], "days": 30},
    )
    assert response.status_code == 422
    assert "has not set up two-factor" in response.content.decode()
    assert not ApiToken.objects.filter(name="Script").exists()
