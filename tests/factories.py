"""Small builders for test data shared by every test package (no extra dependency)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import CareTeam, Membership, Role, User
from monitoring.models import Indication, Infusion, MonitoringTemplate, Patient, Product

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery-staple"


def make_team(name: str | None = None, time_zone: str = "UTC") -> CareTeam:
    n = next(_seq)
    name = name or f"Team {n}"
    return CareTeam.objects.create(name=name, slug=f"team-{n}", time_zone=time_zone)


def make_user(role: str, team: CareTeam, *, username: str | None = None, is_lead: bool = False) -> User:
    username = username or f"{role}{next(_seq)}"
    user = User.objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@hospital.test", first_name=role.title()
    )
    Membership.objects.create(user=user, team=team, role=role, is_lead=is_lead)
    if role == Role.ADMIN:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return user


def make_product(name: str | None = None, **kwargs) -> Product:
    template, _ = MonitoringTemplate.objects.get_or_create(name="Default (June 2025 US labels)")
    return Product.objects.create(
        name=name or f"Product {next(_seq)}", target_antigen=kwargs.pop("target_antigen", "CD19"),
        monitoring_template=template, **kwargs,
    )


def make_patient(team: CareTeam, **kwargs) -> Patient:
    n = next(_seq)
    defaults = {
        "mrn": f"MRN{n:06d}",
        "given_name": "Test",
        "family_name": f"Patient{n}",
        "date_of_birth": date(1962, 5, 1),
        "sex": "M",
        "weight_kg": Decimal("62.0"),
        "indication": Indication.LBCL,
        "care_team": team,
    }
    defaults.update(kwargs)
    return Patient.objects.create(**defaults)


def make_infusion(patient: Patient, product: Product | None = None, *, hours_ago: float = 30,
                  infused_at: datetime | None = None) -> Infusion:
    return Infusion.objects.create(
        patient=patient,
        product=product or make_product(),
        care_team=patient.care_team,
        infused_at=infused_at or timezone.now() - timedelta(hours=hours_ago),
    )
