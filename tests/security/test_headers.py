"""Security headers on every page; production settings pass ``check --deploy``."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

REPO = Path(__file__).resolve().parents[2]


def directives(header: str) -> dict[str, set[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = set(words[1:])
    return out


@pytest.mark.django_db
def test_strict_content_security_policy_and_frame_protection():
    response = Client().get(reverse("accounts:login"))
    csp = directives(response["Content-Security-Policy"])
    assert csp["script-src"] == {"'self'"}  # no inline scripts, no CDN
    assert csp["default-src"] == {"'self'"}
    assert csp["frame-ancestors"] == {"'none'"} and csp["object-src"] == {"'none'"}
    assert csp["img-src"] == {"'self'", "data:"}
    assert (
        csp["form-action"] == {"'self'"}
        and csp["base-uri"] == {"'self'"}
        and csp["connect-src"] == {"'self'"}
    )
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


TEMPLATE_DIRS = [p for p in REPO.glob("*/templates") if ".venv" not in str(p)] + [REPO / "templates"]
TEMPLATES = sorted({t for d in TEMPLATE_DIRS for t in d.rglob("*.html")})
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_ATTR = re.compile(r"\s(on[a-z]+|hx-on[:\-\w]*)\s*=", re.IGNORECASE)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(REPO)))
def test_templates_have_no_inline_script(template):
    text = template.read_text()
    text = re.sub(r"<script[^>]*type=\"application/json\"[^>]*>", "", text)  # json_script output is data
    assert not INLINE_SCRIPT.search(text), "inline <script> is blocked by the CSP: move it to static/js/"
    assert not EVENT_ATTR.search(text), "on*= / hx-on attributes are blocked by the CSP"
    assert "javascript:" not in text.lower()


def test_check_deploy_is_clean():
    # The browser tests relax async safety for their own process; a deployment never does.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(48)[:50],
        "ALLOWED_HOSTS": "example.org",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
