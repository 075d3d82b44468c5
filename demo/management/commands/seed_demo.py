"""``manage.py seed_demo``: a believable ward for demonstrations and manual testing.

Two care teams (haematology, rheumatology), one demo user per role, six CAR-T products with their
monitoring templates, and 14 patients at different days post-infusion, oncology and SLE/lupus
nephritis. Every observation goes through ``monitoring.services.observation_record`` so the grades
on screen are the clinical core's real verdicts (e.g. CRS grade 2 treated with tocilizumab, ICANS
grade 3, a child scored with CAPD, prolonged neutropenia).

Idempotent: users, teams, products and patients are looked up by their unique names/MRNs; a patient
who already has an infusion is left as it is (running twice does not duplicate anything).
"""

from __future__ import annotations

import shlex
import sys
import uuid
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import CareTeam, Membership, Role, User
from accounts.two_factor import enrol_demo_totp
from demo.acute_ward import HAEM, RHEUM, DemoPatient, ward
from demo.alerting import seed_alerting
from demo.followup_ward import seed_followup
from demo.observation_builders import lab
from monitoring import services
from monitoring.models import Infusion, MonitoringTemplate, ObservationSource, Patient, Product

DEMO_PASSWORD = "demo-ward-password-2025"  # noqa: S105 - printed demo credential, never production
NAMESPACE = uuid.UUID("6f1c1d8e-6d7a-4c55-9a9e-2b8f3f1a7c10")
TIME_ZONE = "Europe/Berlin"

TEMPLATES = {
    "Default (June 2025 US labels)": {},
    "Cilta-cel (June 2025 US label, extended neuro watch)": {"neuro_days": 28, "vitals_days": 14},
    "Autoimmune CD19 CAR-T (academic protocol)": {"vitals_days": 10, "neuro_days": 10, "labs_days": 14},
}
PRODUCTS = [
    # name, antigen, tocilizumab mg/kg under 30 kg, high ICANS risk, template
    ("Axicabtagene ciloleucel (axi-cel)", "CD19", "8.0", True, "Default (June 2025 US labels)"),
    ("Tisagenlecleucel (tisa-cel)", "CD19", "12.0", False, "Default (June 2025 US labels)"),
    ("Lisocabtagene maraleucel (liso-cel)", "CD19", "8.0", False, "Default (June 2025 US labels)"),
    (
        "Ciltacabtagene autoleucel (cilta-cel)",
        "BCMA",
        "8.0",
        False,
        "Cilta-cel (June 2025 US label, extended neuro watch)",
    ),
    ("Idecabtagene vicleucel (ide-cel)", "BCMA", "8.0", False, "Default (June 2025 US labels)"),
    (
        "Academic CD19 CAR-T for SLE (4-1BB)",
        "CD19",
        "8.0",
        False,
        "Autoimmune CD19 CAR-T (academic protocol)",
    ),
]
USERS = [
    # username, role, display name, lead, SMS number (a fictional Berlin number; the demo's
    # ALERT_GATEWAY=outbox writes SMS and pager messages to var/outbox/, so none leaves the machine)
    ("demo_nurse", Role.NURSE, "Nurse Anna Keller (demo)", True, "+493055501001"),
    ("demo_physician", Role.PHYSICIAN, "Dr. Jonas Weber (demo)", True, "+493055501002"),
    ("demo_coordinator", Role.COORDINATOR, "Maria Schulz, coordinator (demo)", False, "+493055501003"),
    ("demo_admin", Role.ADMIN, "Site administrator (demo)", False, "+493055501004"),
]


class Command(BaseCommand):
    help = "Create a demo ward (teams, users per role, products, 14 patients with graded observations)."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEMO_PASSWORD, help="Password for the demo users")
        parser.add_argument("--quiet", action="store_true", help="Print only the logins")

    def handle(self, *args, password: str, quiet: bool, **options):
        teams = self._teams()
        users = self._users(teams, password)
        products = self._products()
        created_patients = recorded = 0
        for spec in ward():
            made, count = self._patient(spec, teams, products, users)
            created_patients += int(made)
            recorded += count
            if made and not quiet:
                self.stdout.write(
                    f"  {spec.mrn} {spec.family}, {spec.given}: {spec.story} ({count} observations)"
                )
        demo_count = Patient.objects.filter(mrn__startswith="DEMO-").count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ward ready: {len(teams)} teams, {demo_count} demo "
                f"patients ({created_patients} new, {recorded} observations recorded)."
            )
        )
        self._alerting(teams.values())
        made, count = seed_followup(teams=teams, products=products, users=users)
        self.stdout.write(
            f"Follow-up demo: {made} patients followed 6–24 months ({count} observations recorded)."
        )
        self._print_logins(users, password)

    # -- building blocks -------------------------------------------------------------------------
    def _teams(self) -> dict[str, CareTeam]:
        out = {}
        for name, slug in ((HAEM, "haematology-demo"), (RHEUM, "rheumatology-demo")):
            team, _ = CareTeam.objects.get_or_create(
                name=name, defaults={"slug": slug, "time_zone": TIME_ZONE}
            )
            out[name] = team
        return out

    @transaction.atomic
    def _users(self, teams: dict[str, CareTeam], password: str) -> dict[str, User]:
        out = {}
        for username, role, display, lead, phone in USERS:
            user, _ = User.objects.get_or_create(
                username=username, defaults={"display_name": display, "email": f"{username}@demo.invalid"}
            )
            user.display_name = display
            user.phone = user.phone or phone
            user.pager = user.pager or f"demo-pager-{phone[-4:]}"
            user.is_staff = role == Role.ADMIN
            user.is_superuser = False
            user.set_password(password)
            user.save()
            for team in teams.values():
                Membership.objects.get_or_create(user=user, team=team, role=role, defaults={"is_lead": lead})
            out[role] = user
        return out

    @transaction.atomic
    def _products(self) -> dict[str, Product]:
        templates = {}
        for name, overrides in TEMPLATES.items():
            templates[name], _ = MonitoringTemplate.objects.get_or_create(name=name, defaults=overrides)
        out = {}
        for name, antigen, toci, high_risk, template in PRODUCTS:
            out[name], _ = Product.objects.get_or_create(
                name=name,
                defaults={
                    "target_antigen": antigen,
                    "tocilizumab_mg_per_kg_under_30kg": Decimal(toci),
                    "high_icans_risk": high_risk,
                    "monitoring_template": templates[template],
                },
            )
        return out

    def _patient(self, spec: DemoPatient, teams, products, users) -> tuple[bool, int]:
        team = teams[spec.team]
        with transaction.atomic():
            patient, _ = Patient.objects.get_or_create(
                mrn=spec.mrn,
                defaults={
                    "given_name": spec.given,
                    "family_name": spec.family,
                    "date_of_birth": spec.born,
                    "sex": spec.sex,
                    "weight_kg": Decimal(spec.weight),
                    "indication": spec.indication,
                    "care_team": team,
                    "developmental_delay": spec.developmental_delay,
                },
            )
            if Infusion.objects.filter(patient=patient).exists():
                return False, 0
            infusion = Infusion.objects.create(
                patient=patient,
                product=products[spec.product],
                care_team=team,
                infused_at=(timezone.now() - timedelta(hours=spec.hours_since_infusion)).replace(
                    second=0, microsecond=0
                ),
            )
        count = 0
        now = timezone.now()
        planned = list(spec.observations(spec.hours_since_infusion))
        if spec.labs_today and spec.hours_since_infusion > 20:
            planned.append(lab(spec.hours_since_infusion - 20, **spec.labs_today))
        for index, (t, kind, payload, who) in enumerate(sorted(planned, key=lambda o: o[0])):
            observed_at = infusion.infused_at + timedelta(hours=t)
            if observed_at > now:
                continue
            user = users[Role.PHYSICIAN] if who == "physician" else users[Role.NURSE]
            _obs, _ev, created = services.observation_record(
                infusion=infusion,
                kind=kind,
                payload=payload,
                observed_at=observed_at,
                recorded_by=user,
                client_uuid=uuid.uuid5(NAMESPACE, f"{spec.mrn}/{index}"),
                source=ObservationSource.DEMO,
            )
            count += int(created)
        return True, count

    def _alerting(self, teams: Iterable[CareTeam]) -> None:
        result = seed_alerting(list(teams))
        self.stdout.write(f"Alerting: {result}")

    def _print_logins(self, users: dict[str, User], password: str) -> None:
        site = settings.SITE_URL
        # Works as printed from any directory and shell: this interpreter (the project's venv) and
        # this checkout's manage.py, both by absolute path.
        totp_command = " ".join(
            shlex.quote(str(part)) for part in (sys.executable, Path(settings.BASE_DIR) / "manage.py")
        )
        self.stdout.write(self.style.MIGRATE_HEADING(f"\nDemo logins ({site}/accounts/login/):"))
        for role, user in users.items():
            line = f"  {Role(role).label:<13} username {user.username:<17} password {password}"
            if role in (Role.PHYSICIAN, Role.COORDINATOR, Role.ADMIN):
                secret = enrol_demo_totp(user)
                line += f"  TOTP secret {secret} (code: {totp_command} demo_totp {user.username})"
            self.stdout.write(line)
        self.stdout.write(
            f"Where to start: nurses {site}/ · shift handover {site}/handover/ · coordinators "
            f"{site}/courses/ (register, start and close infusions) · admins {site}/accounts/team/ "
            "(unlock, reset two-factor, tokens)"
        )
