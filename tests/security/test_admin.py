"""The Django admin: patient data scoped to the admin's teams, observations read-only."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from monitoring.models import Observation, Patient

from .conftest import verified_client
from .helpers import record_vitals


@pytest.fixture
def admin_client(site_admin):
    site_admin.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["monitoring"]))
    return verified_client(site_admin)


@pytest.mark.django_db
class TestAdminScoping:
    def test_patient_list_shows_only_the_admins_teams(self, admin_client, patient, other_patient):
        page = admin_client.get(reverse("admin:monitoring_patient_changelist"))
        assert page.status_code == 200
        shown = list(page.context["cl"].queryset)
        assert patient in shown and other_patient not in shown

    def test_another_teams_patient_cannot_be_opened(self, admin_client, other_patient):
        response = admin_client.get(reverse("admin:monitoring_patient_change", args=[other_patient.pk]))
        assert response.status_code in (302, 404)
        assert other_patient.family_name.encode() not in response.content

    def test_observations_are_read_only(self, admin_client, site_admin, nurse, infusion, rf):
        observation, _ = record_vitals(infusion, nurse)
        model_admin = admin.site._registry[Observation]
        request = rf.get("/")
        request.user = site_admin
        assert model_admin.has_view_permission(request, observation)
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request, observation)
        assert not model_admin.has_delete_permission(request, observation)
        change = admin_client.post(
            reverse("admin:monitoring_observation_change", args=[observation.pk]),
            {"payload": "{}", "status": "entered_in_error"},
        )
        assert change.status_code == 403
        observation.refresh_from_db()
        assert observation.status == "final" and observation.payload["temp_c"] == 37.0
        assert (
            admin_client.post(
                reverse("admin:monitoring_observation_delete", args=[observation.pk]), {"post": "yes"}
            ).status_code
            == 403
        )
        assert Observation.objects.filter(pk=observation.pk).exists()

    def test_staff_without_an_admin_role_sees_no_patients(self, nurse, patient):
        nurse.is_staff = True
        nurse.save()
        nurse.user_permissions.set(Permission.objects.filter(content_type__app_label="monitoring"))
        client = verified_client(nurse)
        assert client.get(reverse("admin:monitoring_patient_changelist")).status_code == 403
        assert Patient.objects.exists()


@pytest.mark.django_db
def test_access_log_in_admin_is_read_only_and_scoped(admin_client, nurse, patient, other_patient, infusion):
    from audit.models import AccessLog

    verified_client(nurse).get(reverse("monitoring:patient_detail", args=[patient.pk]))
    AccessLog.objects.create(username="x", patient_id=other_patient.pk, view_name="v", path="/", method="GET")
    page = admin_client.get(reverse("admin:audit_accesslog_changelist"))
    assert page.status_code == 200
    assert [e.patient_id for e in page.context["cl"].queryset] == [patient.pk]
    entry = AccessLog.objects.get(patient_id=patient.pk)
    assert (
        admin_client.post(
            reverse("admin:audit_accesslog_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert AccessLog.objects.filter(pk=entry.pk).exists()
