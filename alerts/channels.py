"""Delivery channels: in-app inbox, email (Django email backend), SMS/pager (signed HTTPS webhook, or
the local outbox when ``ALERT_GATEWAY = "outbox"``: the demo ward and development machines).

No patient data leaves through these channels: messages carry the alert kind, grade, urgency and a
link (the link needs a login).  Each delivery carries the notification's idempotency key
(``Idempotency-Key`` header / ``Message-ID``) so that a gateway can drop a redelivery made after a
worker crashed between sending and recording the send.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage

from carttrack import wording

from .models import Channel

logger = logging.getLogger(__name__)


class DeliveryError(Exception):
    """The channel could not deliver (the notification is marked failed and retried)."""


@dataclass(frozen=True)
class Outgoing:
    channel: str
    idempotency_key: str
    recipient_id: int
    address: str
    subject: str
    text: str
    link: str
    urgency: str
    recipient_name: str = ""  # the display name, for messages a person reads


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over ``"<timestamp>.<body>"``, hex; the receiver recomputes and compares."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, max_age: int = 300) -> bool:
    """Receiver-side check (used by tests and documented for gateway implementers)."""
    try:
        age = abs(time.time() - int(timestamp))
    except ValueError:
        return False
    return age <= max_age and hmac.compare_digest(sign(secret, timestamp, body), signature)


def address_for(channel: str, user) -> str:
    if channel == Channel.EMAIL:
        return user.email or ""
    if channel == Channel.SMS:
        return user.phone or ""
    if channel == Channel.PAGER:
        return user.pager or ""
    return str(user.pk)


def deliver(out: Outgoing) -> None:
    if out.channel == Channel.INAPP:
        return  # the Notification row is the inbox entry
    if not out.address:
        who = out.recipient_name or "the recipient"
        raise DeliveryError(f"no {wording.words(out.channel)} address on file for {who}")
    if out.channel == Channel.EMAIL:
        _send_email(out)
    elif out.channel in (Channel.SMS, Channel.PAGER) and settings.ALERT_GATEWAY == "outbox":
        _send_to_outbox(out)
    elif out.channel in (Channel.SMS, Channel.PAGER):
        _send_webhook(out)
    else:
        raise DeliveryError(f"unknown channel {out.channel!r}")


def _send_email(out: Outgoing) -> None:
    domain = settings.SITE_URL.split("//", 1)[-1].split("/", 1)[0].split(":")[0] or "localhost"
    message = EmailMessage(
        subject=out.subject,
        body=f"{out.text}\n\nOpen CAR-T Track to see the patient and acknowledge: {out.link}\n",
        to=[out.address],
        headers={"Message-ID": f"<{out.idempotency_key}@{domain}>", "X-CarTTrack-Urgency": out.urgency},
    )
    try:
        sent = message.send(fail_silently=False)
    except Exception as exc:  # SMTP errors, timeouts, refused connections
        raise DeliveryError(f"email: {type(exc).__name__}") from exc
    if sent != 1:
        raise DeliveryError("email backend accepted no message")


def _gateway_body(out: Outgoing) -> bytes:
    """What the SMS/pager gateway receives (the webhook's body, the outbox's line)."""
    return json.dumps(
        {
            "channel": out.channel,
            "to": out.address,
            "message": out.text[:160],
            "link": out.link,
            "urgency": out.urgency,
            "idempotency_key": out.idempotency_key,
        },
        separators=(",", ":"),
    ).encode()


def _send_to_outbox(out: Outgoing) -> None:
    """Append the gateway's message as one JSON line to ``ALERT_OUTBOX_DIR/<channel>.jsonl`` and log
    it: delivered on this machine, as the demo ward needs (no gateway, no false failure)."""
    folder = settings.ALERT_OUTBOX_DIR
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / f"{out.channel}.jsonl").open("ab") as outbox:
            outbox.write(_gateway_body(out) + b"\n")
    except OSError as exc:
        raise DeliveryError(f"outbox: {type(exc).__name__}") from exc
    logger.info("%s to %s (local outbox): %s %s", Channel(out.channel).label, out.address, out.text, out.link)


def _send_webhook(out: Outgoing) -> None:
    url = settings.ALERT_WEBHOOK_URL
    secret = settings.ALERT_WEBHOOK_SECRET
    if not url or not secret:
        raise DeliveryError("ALERT_WEBHOOK_URL / ALERT_WEBHOOK_SECRET not configured")
    body = _gateway_body(out)
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - URL comes from settings, http(s) only
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-CarTTrack-Timestamp": timestamp,
            "X-CarTTrack-Signature": sign(secret, timestamp, body),
            "Idempotency-Key": out.idempotency_key,
        },
    )
    if not url.startswith(("https://", "http://")):
        raise DeliveryError("ALERT_WEBHOOK_URL must be http(s)")
    try:
        with urllib.request.urlopen(request, timeout=settings.ALERT_WEBHOOK_TIMEOUT) as response:  # noqa: S310
            if not 200 <= response.status < 300:
                raise DeliveryError(f"webhook answered {response.status}")
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"webhook answered {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DeliveryError(f"webhook: {type(exc).__name__}") from exc
