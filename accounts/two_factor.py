"""TOTP two-factor authentication (django-otp) for physicians, coordinators and admins.

Nurses on shared ward tablets sign in with a password only (a phone per glove change is not
realistic); every role that can acknowledge alerts, export the cohort or administer the site must
prove a second factor once per session.  ``TWO_FACTOR_REQUIRED = False`` switches the requirement
off (test settings only).
"""

from __future__ import annotations

import base64
import io
import time
from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import Role, User

TWO_FACTOR_ROLES = frozenset({Role.PHYSICIAN, Role.COORDINATOR, Role.ADMIN})


def requires_two_factor(user: User) -> bool:
    if not getattr(settings, "TWO_FACTOR_REQUIRED", True):
        return False
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or user.is_superuser:
        return True
    return user.memberships.filter(role__in=TWO_FACTOR_ROLES).exists()


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def pending_device(user: User) -> TOTPDevice:
    """The unconfirmed device being enrolled (created on first visit, reused until confirmed)."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def secret_of(device: TOTPDevice) -> str:
    """The base32 secret an authenticator app asks for when typed in by hand."""
    return b32encode(device.bin_key).decode()


def qr_data_url(device: TOTPDevice) -> str:
    """The device's otpauth:// URL as an SVG QR code in a data: URL (no external service)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def current_code(device: TOTPDevice, at: float | None = None) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{device.digits}d}"


@transaction.atomic
def enrol_demo_totp(user: User) -> str:
    """Give a demo user one confirmed TOTP device and return its base32 secret (demo data only)."""
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, name="Demo authenticator", confirmed=True)
    return secret_of(device)
