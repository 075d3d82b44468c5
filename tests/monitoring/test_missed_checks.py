"""A nurse records on the tablet why an overdue check was not done: the record is found as every tablet
page finds it (another team's patient is a 404) and goes through the one service the inbox uses, which
records a due check's reason once and only while the course is monitored."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from monitoring.models import InfusionStatus, MissedCheck
from tests import factories

pytestmark = pytest.mark.django_db


def page_of(client, patient) -> str:
    return client.get(reverse("monitoring:patient_detail", args=[patient.pk])).content.decode()


def neuro_due_at(page: str) -> str:
    """The due time of the overdue neuro check, as the tablet's "Not done — record why" form posts it."""
    return re.search(r'checks/neuro/missed/".*?name="due_at" value="([^"]+)"', page, re.S).group(1)


def post_reason(client, patient, due: str, reason: str):
    url = reverse("monitoring:record_missed_check", args=[patient.pk, "neuro"])
    return client.post(url, {"due_at": due, "reason": reason}, follow=True)


@pytest.fixture
def ward(team):
    """A ward in Central European time (the message's times carry the ward's zone)."""
    team.time_zone = "Europe/Berlin"
    team.save(update_fields=["time_zone"])
    return team


def test_another_teams_patient_gives_404_and_nothing_is_recorded(client, nurse, other_patient, product):
    factories.make_infusion(other_patient, product)
    client.force_login(nurse)
    url = reverse("monitoring:record_missed_check", args=[other_patient.pk, "neuro"])
    response = client.post(url, {"due_at": timezone.now().isoformat(), "reason": "not my patient"})
    assert response.status_code == 404
    assert not MissedCheck.objects.exists()


def test_a_second_nurse_with_a_stale_page_is_told_who_already_recorded_the_reason(
    client, ward, nurse, patient, infusion
):
    colleague = factories.make_user(Role.NURSE, ward, username="second_nurse")
    client.force_login(nurse)
    due = neuro_due_at(page_of(client, patient))  # both tablets show the same overdue check
    assert (
        "Not done: patient off the ward in CT"
        in post_reason(client, patient, due, "patient off the ward in CT").content.decode()
    )

    client.force_login(colleague)
    html = post_reason(client, patient, due, "asleep").content.decode()
    assert "already recorded why it was not done" in html
    assert str(nurse) in html and "patient off the ward in CT" in html
    assert re.search(r"at \d\d:\d\d CE[S]?T", html), "the time a person sees carries its zone"
    assert "Not done: asleep" not in html
    assert list(MissedCheck.objects.values_list("reason", flat=True)) == ["patient off the ward in CT"]


def test_no_reason_is_recorded_once_the_course_is_closed(client, nurse, patient, infusion):
    client.force_login(nurse)
    due = neuro_due_at(page_of(client, patient))
    infusion.status = InfusionStatus.CLOSED
    infusion.closed_at = timezone.now() - timedelta(minutes=1)
    infusion.save(update_fields=["status", "closed_at"])
    html = post_reason(client, patient, due, "in theatre").content.decode()
    assert "monitoring of this infusion is closed" in html
    assert not MissedCheck.objects.exists()
