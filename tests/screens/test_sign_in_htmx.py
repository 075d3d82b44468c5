"""An htmx save never receives the sign-in page (issue 13 item 1): 401 + HX-Redirect back to the page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _post(client, infusion, current_url):
    url = reverse("monitoring:record", args=[infusion.patient_id, "vitals"])
    return client.post(url, {"hr": "80"}, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=current_url)


def test_signed_out_htmx_save_gets_401_and_returns_to_the_patient_page(client, infusion):
    page = f"http://testserver/patients/{infusion.patient_id}/"
    response = _post(client, infusion, page)
    assert response.status_code == 401
    redirect = urlsplit(response["HX-Redirect"])
    assert redirect.path == reverse("accounts:login")
    assert parse_qs(redirect.query)["next"] == [f"/patients/{infusion.patient_id}/"]
    assert b"password" not in response.content


def test_the_page_of_another_site_is_never_the_next_page(client, infusion):
    response = _post(client, infusion, "https://evil.example/patients/1/")
    assert response.status_code == 401
    assert urlsplit(response["HX-Redirect"]).query == ""


def test_a_plain_page_still_redirects_to_sign_in(client, infusion):
    response = client.get(reverse("monitoring:patient_detail", args=[infusion.patient_id]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_a_request_from_a_sign_in_page_never_asks_to_come_back_to_it(client, infusion):
    response = _post(client, infusion, "http://testserver/accounts/two-factor/?next=/census/")
    assert response.status_code == 401
    assert urlsplit(response["HX-Redirect"]).query == ""  # no next: no redirect loop between sign-in pages
