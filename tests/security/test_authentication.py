"""Sign-in: lockout per username + IP, idle timeout, TOTP two-factor for non-nurse roles."""

from __future__ import annotations

import re
import time

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.middleware import LAST_ACTIVITY_KEY
from accounts.two_factor import current_code, enrol_demo_totp, requires_two_factor

from .conftest import password_login, verified_client

HOME = "/"
POLL = {"HTTP_X_BACKGROUND_POLL": "1"}


@pytest.mark.django_db
class TestLockout:
    def test_five_wrong_passwords_lock_that_username_on_that_ip_with_advice(self, nurse):
        client = Client(REMOTE_ADDR="10.0.0.7")
        for _ in range(4):
            assert password_login(client, "nurse", "wrong-password").status_code == 200  # form again
        locked = password_login(client, "nurse", "wrong-password")
        assert locked.status_code == 429
        assert b"Sign-in locked" in locked.content and b"IT service desk" in locked.content
        # Even the right password is refused while locked.
        assert password_login(client, "nurse").status_code == 429

    def test_colleague_on_the_same_shared_tablet_can_still_sign_in(self, nurse, team):
        from tests import factories

        factories.make_user("nurse", team, username="colleague")
        tablet = Client(REMOTE_ADDR="10.0.0.7")
        for _ in range(5):
            password_login(tablet, "nurse", "wrong-password")
        response = password_login(tablet, "colleague")
        assert response.status_code == 302 and response["Location"] == reverse("monitoring:my_patients")

    def test_same_username_from_another_ip_is_not_locked(self, nurse):
        for _ in range(5):
            password_login(Client(REMOTE_ADDR="10.0.0.7"), "nurse", "wrong-password")
        assert password_login(Client(REMOTE_ADDR="10.0.0.8"), "nurse").status_code == 302

    def test_locked_page_can_be_opened_directly(self, client):
        response = client.get(reverse("accounts:locked_out"))
        assert response.status_code == 429
        assert b"What to do now" in response.content


@pytest.mark.django_db
class TestIdleTimeout:
    def _age_session(self, client, seconds):
        session = client.session
        session[LAST_ACTIVITY_KEY] = time.time() - seconds
        session.save()

    def test_page_after_15_idle_minutes_signs_out_and_asks_to_sign_in(self, nurse):
        client = verified_client(nurse)
        assert client.get(HOME).status_code == 200
        self._age_session(client, 15 * 60 + 5)
        response = client.get(HOME)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
        assert "_auth_user_id" not in client.session

    def test_activity_within_the_window_keeps_the_session(self, nurse):
        client = verified_client(nurse)
        client.get(HOME)
        self._age_session(client, 14 * 60)
        assert client.get(HOME).status_code == 200

    def test_background_polls_do_not_keep_an_idle_session_alive(self, nurse):
        client = verified_client(nurse)
        client.get(HOME)
        self._age_session(client, 10 * 60)
        before = client.session[LAST_ACTIVITY_KEY]
        assert client.get(HOME, **POLL).status_code == 200
        assert client.session[LAST_ACTIVITY_KEY] == before  # the poll did not refresh the clock
        self._age_session(client, 16 * 60)
        response = client.get(HOME, **POLL)
        assert response.status_code == 401
        assert response["HX-Redirect"].startswith(reverse("accounts:login"))

    def test_timeout_is_configurable(self, nurse, settings):
        settings.SESSION_IDLE_TIMEOUT_MINUTES = 2
        client = verified_client(nurse)
        client.get(HOME)
        self._age_session(client, 3 * 60)
        assert client.get(HOME).status_code == 302


@pytest.mark.django_db
def test_the_absolute_session_lifetime_ends_even_an_active_session(nurse):
    """A nurse busy all shift (a page every 14 minutes, inside the idle limit) is signed out once the
    session is older than SESSION_COOKIE_AGE (12 h) since sign-in, and signing in again starts anew."""
    import time_machine

    start = time.time()
    with time_machine.travel(start, tick=False) as clock:
        client = verified_client(nurse)
        for _ in range(51):  # 51 × 14 min = 11 h 54 min
            clock.shift(14 * 60)
            assert client.get(HOME).status_code == 200
        clock.shift(14 * 60)  # 12 h 8 min after sign-in
        response = client.get(HOME, **POLL)
        assert response.status_code == 401 and "a session lasts at most 12 hours" in response.content.decode()
        assert response["HX-Redirect"].startswith(reverse("accounts:login"))
        assert "_auth_user_id" not in client.session
        response = client.get(HOME)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
        client = verified_client(nurse)  # signed in again: a new 12 hours
        assert client.get(HOME).status_code == 200


@pytest.mark.django_db
class TestTwoFactor:
    def test_who_needs_it(self, nurse, physician, coordinator, site_admin):
        assert not requires_two_factor(nurse)
        assert (
            requires_two_factor(physician)
            and requires_two_factor(coordinator)
            and requires_two_factor(site_admin)
        )

    def test_nurse_goes_straight_to_patients_after_password(self, nurse, client):
        response = password_login(client, "nurse")
        assert response.status_code == 302
        assert client.get(HOME).status_code == 200

    def test_physician_first_sign_in_enrols_with_qr_code_then_reaches_patients(self, physician, client):
        password_login(client, "physician")
        blocked = client.get(HOME)
        assert blocked.status_code == 302 and blocked["Location"].startswith(reverse("accounts:two_factor"))
        page = client.get(blocked["Location"])
        html = page.content.decode()
        assert "Set up two-step sign-in" in html
        assert 'src="data:image/svg+xml;base64,' in html  # QR code generated on the server
        secret = re.search(r'class="otp-secret">([A-Z2-7]+)<', html).group(1)
        device = TOTPDevice.objects.get(user=physician, confirmed=False)
        assert secret and len(secret) >= 16

        response = client.post(
            reverse("accounts:two_factor"), {"otp_token": current_code(device), "next": "/"}
        )
        assert response.status_code == 302 and response["Location"] == "/"
        assert TOTPDevice.objects.get(user=physician).confirmed
        assert client.get(HOME).status_code == 200

    def test_wrong_code_is_refused_with_a_message(self, physician, client):
        enrol_demo_totp(physician)
        password_login(client, "physician")
        response = client.post(reverse("accounts:two_factor"), {"otp_token": "000000"})
        assert response.status_code == 400
        assert b"did not match" in response.content
        assert client.get(HOME).status_code == 302

    def test_enrolled_user_is_asked_for_a_code_not_shown_the_secret(self, coordinator, client):
        enrol_demo_totp(coordinator)
        password_login(client, "coordinator")
        page = client.get(reverse("accounts:two_factor"))
        assert b"Enter your sign-in code" in page.content and b"otp-secret" not in page.content
        device = TOTPDevice.objects.get(user=coordinator)
        assert (
            client.post(reverse("accounts:two_factor"), {"otp_token": current_code(device)}).status_code
            == 302
        )
        assert client.get(HOME).status_code == 200

    def test_unverified_session_is_blocked_from_api_and_polls(self, physician, client):
        password_login(client, "physician")
        assert client.get("/api/patients/").status_code == 403
        poll = client.get(HOME, **POLL)
        assert poll.status_code == 401 and poll["HX-Redirect"].startswith(reverse("accounts:two_factor"))

    def test_open_redirect_is_not_followed(self, physician, client):
        enrol_demo_totp(physician)
        password_login(client, "physician")
        device = TOTPDevice.objects.get(user=physician)
        response = client.post(
            reverse("accounts:two_factor"),
            {"otp_token": current_code(device), "next": "https://evil.example/"},
        )
        assert response["Location"] == reverse("monitoring:my_patients")

    def test_demo_totp_command_prints_a_code_that_signs_in(self, physician, client, capsys):
        secret = enrol_demo_totp(physician)
        assert re.fullmatch(r"[A-Z2-7]{32}", secret)
        call_command("demo_totp", "physician")
        code = capsys.readouterr().out.strip()
        assert re.fullmatch(r"\d{6}", code)
        password_login(client, "physician")
        assert client.post(reverse("accounts:two_factor"), {"otp_token": code}).status_code == 302
        assert client.get(HOME).status_code == 200
