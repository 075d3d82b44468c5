"""The "Alerting is delayed — use the phone tree" banner in a real browser: a page left open picks it
up by itself (htmx poll every 30 s) once an escalation step is overdue by more than 60 s."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

from alerts import services
from alerts.models import AuditorHeartbeat
from alerts.status_banner import BANNER_TEXT
from tests.alerts.conftest import make_evaluation

from .helpers import csp_errors, login, serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("page", ["landscape-1024x768"], indirect=True)
def test_an_open_page_shows_the_banner_within_the_poll_interval(page, nurse, infusion):
    AuditorHeartbeat.objects.create(pk=1, last_run_at=timezone.now())
    login(page, nurse)
    page.goto("/")
    banner = page.locator("#alerting-status [role=alert]")
    expect(page.locator("#alerting-status")).to_have_count(1)
    expect(banner).to_have_count(0)
    late = timezone.now() - timedelta(seconds=90)  # the worker never sent this page
    with transaction.atomic():  # one commit: a poll never sees the grade without its alert
        ev = make_evaluation(infusion, crs=2, at=late)
        services.open_alert(infusion=infusion, ev=ev, syndrome="crs", grade=2, urgency="urgent", now=late)
    # no reload: the 30 s poll brings it (one wait for the whole text, so a poll that came before
    # the commit cannot leave the step line to a 5 s wait)
    expect(banner).to_contain_text("escalation step(s) overdue since", timeout=35_000)
    expect(banner).to_contain_text(BANNER_TEXT)
    assert serious_axe_violations(page) == []
    assert csp_errors(page) == []
