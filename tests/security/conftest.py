"""Fixtures of the security tests: two-factor switched on, signed-in clients per role."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.two_factor import enrol_demo_totp  # noqa: F401  (re-exported for tests)
from tests import factories


@pytest.fixture(autouse=True)
def _two_factor_on(settings):
    """Production behaviour: physicians, coordinators and admins must enter a TOTP code."""
    settings.TWO_FACTOR_REQUIRED = True


@pytest.fixture(autouse=True)
def _fresh_lockouts(db):
    from axes.models import AccessAttempt, AccessFailureLog

    AccessAttempt.objects.all().delete()
    AccessFailureLog.objects.all().delete()


def verified_client(user) -> Client:
    """A browser session that has passed password and (if required) two-factor sign-in."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="test", confirmed=True
    )
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


def password_login(client: Client, username: str, password: str = factories.PASSWORD, **extra):
    from django.urls import reverse

    return client.post(reverse("accounts:login"), {"username": username, "password": password}, **extra)
