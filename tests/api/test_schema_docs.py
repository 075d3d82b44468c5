"""The OpenAPI schema validates without warnings, and the docs page works without any script."""

from __future__ import annotations

import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse


def test_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    for expected in (
        "/api/patients/",
        "/api/infusions/{id}/close/",
        "/api/infusions/{id}/latest-grade/",
        "/api/observations/",
        "/api/observations/{id}/amend/",
        "/api/observations/{id}/entered-in-error/",
        "/api/grades/",
        "/api/alerts/{id}/acknowledge/",
        "/api/alerts/{id}/resolve/",
    ):
        assert expected in paths, expected
    post = paths["/api/observations/"]["post"]
    assert {"200", "201", "400", "409"} <= set(post["responses"])
    assert "apiToken" in schema["components"]["securitySchemes"]


@pytest.mark.django_db
def test_docs_page_lists_operations_without_scripts_or_cdn(client, nurse):
    client.force_login(nurse)
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "POST /api/observations/" in html
    assert "client_uuid" in html
    assert "ObservationCreateRequest" in html
    # No inline script, no third-party host (the CSP forbids both).
    assert not re.search(r"<script(?![^>]*\bsrc=\"/static/)", html)
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html


@pytest.mark.django_db
def test_docs_page_needs_login(client):
    response = client.get(reverse("api-docs"))
    assert response.status_code == 302
