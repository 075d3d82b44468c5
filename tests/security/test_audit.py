"""Audit: access log of patient reads, change history, amendment chains, the admin's audit view."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tokens import issue_api_token
from audit.models import AccessLog
from audit.selectors import observation_chain, patient_change_history
from monitoring import services
from monitoring.models import Patient
from tests import factories

from .conftest import verified_client
from .helpers import NORMAL_VITALS, record_vitals

BROWSER = {"HTTP_USER_AGENT": "WardTablet/1.0 (Safari)", "REMOTE_ADDR": "10.1.2.3"}


@pytest.mark.django_db
class TestAccessLog:
    def test_opening_a_patient_record_logs_who_which_patient_when_and_where(self, nurse, patient, infusion):
        client = verified_client(nurse)
        response = client.get(reverse("monitoring:patient_detail", args=[patient.pk]), **BROWSER)
        assert response.status_code == 200
        entry = AccessLog.objects.get()
        assert (entry.user_id, entry.username, entry.patient_id) == (nurse.pk, "nurse", patient.pk)
        assert entry.ip_address == "10.1.2.3" and entry.user_agent.startswith("WardTablet")
        assert entry.view_name == "monitoring:patient_detail" and entry.method == "GET"

    def test_no_clinical_values_or_identifiers_are_logged(self, nurse, patient, infusion):
        client = verified_client(nurse)
        client.get(reverse("monitoring:patient_detail", args=[patient.pk]) + f"?q={patient.mrn}", **BROWSER)
        entry = AccessLog.objects.get()
        stored = " ".join(str(getattr(entry, f.attname)) for f in AccessLog._meta.fields)
        for secret in (patient.mrn, patient.family_name, str(patient.date_of_birth), "37.0"):
            assert secret not in stored

    def test_another_teams_patient_is_404_and_not_a_read(self, nurse, other_patient):
        client = verified_client(nurse)
        assert client.get(reverse("monitoring:patient_detail", args=[other_patient.pk])).status_code == 404
        assert not AccessLog.objects.exists()

    def test_api_detail_read_of_a_patient_is_logged_with_the_token(self, nurse, team, patient):
        _, key = issue_api_token(name="EHR bridge", user=nurse, team=team, scopes=["patients:read"])
        api = APIClient()
        response = api.get(f"/api/patients/{patient.pk}/", HTTP_AUTHORIZATION=f"Bearer {key}", **BROWSER)
        assert response.status_code == 200, response.content
        entry = AccessLog.objects.get()
        assert entry.patient_id == patient.pk and entry.via_api_token and entry.username == "nurse"

    def test_api_list_is_not_a_record_read_but_observation_detail_is(self, nurse, patient, infusion):
        observation, _ = record_vitals(infusion, nurse)
        api = APIClient()
        api.force_authenticate(nurse)
        assert api.get("/api/patients/").status_code == 200
        assert not AccessLog.objects.exists()
        assert api.get(f"/api/observations/{observation.pk}/").status_code == 200
        assert AccessLog.objects.get().patient_id == patient.pk

    def test_background_poll_of_a_patient_panel_is_logged(self, nurse, patient, infusion):
        client = verified_client(nurse)
        client.get(reverse("monitoring:grade_panel", args=[patient.pk]), HTTP_X_BACKGROUND_POLL="1")
        assert AccessLog.objects.filter(patient_id=patient.pk).count() == 1


@pytest.mark.django_db
class TestChangeHistory:
    def test_editing_a_patient_over_the_api_records_who_changed_what(self, coordinator, patient):
        api = APIClient()
        api.force_authenticate(coordinator)
        response = api.patch(f"/api/patients/{patient.pk}/", {"weight_kg": "64.5"}, format="json")
        assert response.status_code == 200, response.content
        changes = patient_change_history(patient)
        latest = changes[0]
        assert latest.record == "Patient" and latest.action == "changed" and latest.by == str(coordinator)
        assert ("weight kg", "62.0", "64.5") in [(f, o, n) for f, o, n in latest.changes]  # by its name
        assert changes[-1].action == "created"

    def test_membership_and_user_changes_are_kept_without_passwords(self, nurse, team):
        nurse.set_password("another-long-password-1")
        nurse.save()
        assert nurse.history.count() >= 2
        assert not hasattr(nurse.history.first(), "password")
        membership = nurse.memberships.get()
        membership.is_lead = True
        membership.save()
        assert membership.history.first().is_lead is True


@pytest.mark.django_db
class TestAmendmentChain:
    def test_chain_from_any_member_lists_original_then_corrections(self, nurse, infusion):
        original, _ = record_vitals(infusion, nurse, temp_c=38.9)
        amended, _ = services.observation_amend(
            original=original,
            payload={**NORMAL_VITALS, "temp_c": 37.9},
            reason="Typo: 37.9 not 38.9",
            user=nurse,
        )
        voided, _ = services.observation_mark_entered_in_error(
            original=amended, reason="Wrong patient", user=nurse
        )
        expected = [original.pk, amended.pk, voided.pk]
        for member in (original, amended, voided):
            assert [o.pk for o in observation_chain(member)] == expected


@pytest.mark.django_db
class TestAuditView:
    def test_admin_filters_the_access_log_by_user_patient_and_date(
        self, site_admin, nurse, patient, infusion, team
    ):
        other = factories.make_patient(team)
        verified_client(nurse).get(reverse("monitoring:patient_detail", args=[patient.pk]))
        verified_client(nurse).get(reverse("monitoring:patient_detail", args=[other.pk]))
        admin = verified_client(site_admin)
        page = admin.get(reverse("audit:access_log"), {"username": "nurse", "patient": patient.pk})
        assert page.status_code == 200
        assert page.context["page"].paginator.count == 1
        day = AccessLog.objects.first().at.date()
        in_range = admin.get(
            reverse("audit:access_log"), {"date_from": day.isoformat(), "date_to": day.isoformat()}
        )
        assert in_range.context["page"].paginator.count == 2  # the list itself is not a patient read
        before = admin.get(reverse("audit:access_log"), {"date_to": (day - timedelta(days=1)).isoformat()})
        assert before.context["page"].paginator.count == 0

    def test_bad_filter_is_400_with_a_message_not_a_crash(self, site_admin):
        response = verified_client(site_admin).get(
            reverse("audit:access_log"), {"date_from": "2026-13-45", "patient": "x"}
        )
        assert response.status_code == 400
        assert b"valid date" in response.content

    def test_patient_audit_page_shows_changes_reads_and_amendments(
        self, site_admin, nurse, patient, infusion
    ):
        original, _ = record_vitals(infusion, nurse, temp_c=38.9)
        services.observation_amend(
            original=original,
            payload={**NORMAL_VITALS, "temp_c": 37.9},
            reason="Typo in temperature",
            user=nurse,
        )
        Patient.objects.filter(pk=patient.pk)  # the factory created it: one "created" history row
        verified_client(nurse).get(reverse("monitoring:patient_detail", args=[patient.pk]))
        page = verified_client(site_admin).get(reverse("audit:patient", args=[patient.pk]))
        html = page.content.decode()
        assert page.status_code == 200
        assert "created" in html and "Typo in temperature" in html and "nurse" in html
        assert f"corrects #{original.pk}" in html

    def test_observation_history_page(self, site_admin, nurse, infusion):
        original, _ = record_vitals(infusion, nurse, temp_c=38.9)
        amended, _ = services.observation_amend(
            original=original, payload={**NORMAL_VITALS, "temp_c": 37.9}, reason="Typo", user=nurse
        )
        page = verified_client(site_admin).get(reverse("audit:observation", args=[original.pk]))
        assert page.status_code == 200
        assert [o.pk for o in page.context["chain"]] == [original.pk, amended.pk]

    @pytest.mark.parametrize("role", ["nurse", "physician", "coordinator"])
    def test_other_roles_cannot_audit(self, role, request, patient):
        client = verified_client(request.getfixturevalue(role))
        assert client.get(reverse("audit:access_log")).status_code == 403
        assert client.get(reverse("audit:patient", args=[patient.pk])).status_code == 403

    def test_admin_of_another_team_gets_404_for_this_patient(self, other_team, patient):
        outsider = factories.make_user("admin", other_team, username="otheradmin")
        assert verified_client(outsider).get(reverse("audit:patient", args=[patient.pk])).status_code == 404

    def test_anonymous_is_sent_to_sign_in(self, patient):
        response = Client().get(reverse("audit:patient", args=[patient.pk]))
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


@pytest.mark.django_db
class TestAuditTimesAndWords:
    """Issue 13 item 3 on the audit screens: times in the care team's zone with its abbreviation (the
    ISO time with its offset kept in each ``<time datetime>``), changed fields and values in words."""

    @pytest.fixture
    def berlin(self, team, patient, infusion):
        team.time_zone = "Europe/Berlin"
        team.save()
        return patient

    def _zoned(self, at) -> tuple[str, str]:
        local = at.astimezone(ZoneInfo("Europe/Berlin"))
        return local.strftime("%Y-%m-%d %H:%M:%S"), local.strftime("%Z")

    def test_access_log_shows_reads_in_the_auditors_team_zone(self, site_admin, nurse, berlin):
        verified_client(nurse).get(reverse("monitoring:patient_detail", args=[berlin.pk]))
        read = AccessLog.objects.get()
        html = verified_client(site_admin).get(reverse("audit:access_log")).content.decode()
        wall, zone = self._zoned(read.at)
        assert zone in {"CET", "CEST"}
        assert f"{wall} {zone}</time>" in html
        assert f'datetime="{read.at.isoformat()}"' in html and read.at.isoformat().endswith("+00:00")
        assert "(UTC)" not in html and " UTC<" not in html

    def test_patient_trail_shows_changes_and_reads_in_the_patients_team_zone(
        self, site_admin, nurse, infusion, berlin
    ):
        original, _ = record_vitals(infusion, nurse, temp_c=38.9)
        services.observation_amend(
            original=original, payload={**NORMAL_VITALS, "temp_c": 37.9}, reason="Typo", user=nurse
        )
        berlin.indication = "lupus_nephritis"
        berlin.save()
        html = verified_client(site_admin).get(reverse("audit:patient", args=[berlin.pk])).content.decode()
        change = patient_change_history(berlin)[0]
        wall, zone = self._zoned(change.at)
        assert f"{wall} {zone}</time>" in html
        observed = original.observed_at.astimezone(ZoneInfo("Europe/Berlin"))
        assert f"{observed:%Y-%m-%d %H:%M} {zone}</time>" in html
        assert "(UTC)" not in html
        assert "indication: Large B-cell lymphoma → SLE with lupus nephritis" in html  # words, not codes
        assert "lupus_nephritis" not in html and "lbcl" not in html
        assert "T 37.9 °C" in html  # the corrected observation read as a nurse reads it
