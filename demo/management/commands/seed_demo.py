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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import CareTeam, Membership, Role, User
from accounts.two_factor import enrol_demo_totp
from demo.alerting import seed_alerting
from demo.followup_ward import seed_followup
from monitoring import services
from monitoring.models import (
    Indication,
    Infusion,
    MonitoringTemplate,
    ObservationSource,
    Patient,
    Product,
)

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


# ---------------------------------------------------------------- observation builders (t = hours)
def vit(
    t,
    temp=36.8,
    hr=78,
    sbp=122,
    dbp=74,
    rr=14,
    spo2=98,
    device="room_air",
    flow=None,
    pressors=(),
    bolus=False,
):
    p: dict[str, Any] = {
        "temp_c": temp,
        "hr": hr,
        "sbp": sbp,
        "dbp": dbp,
        "rr": rr,
        "spo2": spo2,
        "o2_device": device,
        "vasopressors": list(pressors),
    }
    if flow is not None:
        p["o2_flow_l_min"] = flow
    if bolus:
        p["fluid_bolus_for_hypotension"] = True
    return (t, "vitals", p, "nurse")


def ice(t, orientation=4, naming=3, commands=1, writing=1, attention=1, consciousness="alert", **extra):
    p = {
        "ice": {
            "orientation": orientation,
            "naming": naming,
            "commands": commands,
            "writing": writing,
            "attention": attention,
        },
        "consciousness": consciousness,
        "seizure": "none",
        "motor": "none",
        "icp_edema": "none",
        **extra,
    }
    return (t, "neuro", p, "nurse")


def capd(t, items, consciousness="alert"):
    return (
        t,
        "neuro",
        {
            "capd_items": list(items),
            "consciousness": consciousness,
            "seizure": "none",
            "motor": "none",
            "icp_edema": "none",
        },
        "nurse",
    )


def lab(t, **values):
    return (t, "lab", values, "nurse")


def med(t, drug, dose, **extra):
    return (t, "medication", {"drug": drug, "dose_mg": dose, **extra}, "nurse")


def event(t, name, attributed_to=None):
    p = {"event": name}
    if attributed_to:
        p["attributed_to"] = attributed_to
    return (t, "event", p, "physician")


def routine(start: float, end: float, *, every: float = 4, **kw) -> list:
    out, t = [], start
    while t <= end:
        out.append(vit(t, **kw))
        t += every
    return out


def checks(start: float, end: float, *, every: float = 12) -> list:
    out, t = [], start
    while t <= end:
        out.append(ice(t))
        t += every
    return out


def daily_labs(start_day: int, end_day: int, **values) -> list:
    return [lab(d * 24 + 6, **values) for d in range(start_day, end_day + 1)]


@dataclass
class DemoPatient:
    mrn: str
    given: str
    family: str
    born: date
    sex: str
    weight: str
    indication: str
    team: str
    product: str
    hours_since_infusion: float
    story: str
    observations: Callable[[float], list] = field(default=lambda h: [])
    developmental_delay: bool = False
    #: this morning's routine labs (20 h ago), None for none (e.g. to show overdue labs)
    labs_today: dict | None = field(default_factory=lambda: dict(ROUTINE_LABS))


ROUTINE_LABS = {
    "anc_per_uL": 1200,
    "platelets_10e9_L": 95,
    "hgb_g_dL": 9.8,
    "crp_mg_L": 12,
    "ferritin_ng_mL": 450,
}


def _years_ago(years: float) -> date:
    return (timezone.now() - timedelta(days=round(years * 365.2425))).date()


HAEM, RHEUM = "Haematology ward (demo)", "Rheumatology ward (demo)"


def ward() -> list[DemoPatient]:
    return [
        DemoPatient(
            "DEMO-0001",
            "Peter",
            "Hoffmann",
            _years_ago(62.4),
            "M",
            "62.0",
            Indication.LBCL,
            HAEM,
            "Axicabtagene ciloleucel (axi-cel)",
            3 * 24 + 4,
            "CRS grade 2 (hypotension needing fluids, 2 L O2), treated with tocilizumab",
            lambda h: [
                vit(2),
                ice(4),
                *daily_labs(0, 3, anc_per_uL=1800, crp_mg_L=18, ferritin_ng_mL=640),
                vit(24),
                vit(40, temp=38.6, hr=112),
                med(41, "acetaminophen", 1000),
                vit(
                    52, temp=38.9, hr=124, sbp=86, dbp=50, spo2=91, device="nasal_cannula", flow=2, bolus=True
                ),
                med(53, "tocilizumab", 496),
                ice(54),
                vit(60, temp=37.8, hr=104, sbp=96, dbp=58, spo2=94, device="nasal_cannula", flow=2),
                vit(h - 2, temp=37.4, hr=96, sbp=104, dbp=62, spo2=95, device="nasal_cannula", flow=1),
                ice(h - 3),
            ],
            labs_today={"anc_per_uL": 900, "crp_mg_L": 96, "ferritin_ng_mL": 2400, "fibrinogen_mg_dL": 310},
        ),
        DemoPatient(
            "DEMO-0002",
            "Sabine",
            "Krüger",
            _years_ago(57.9),
            "F",
            "71.5",
            Indication.LBCL,
            HAEM,
            "Axicabtagene ciloleucel (axi-cel)",
            5 * 24 + 6,
            "ICANS grade 3 (ICE 2, awakens to voice) on dexamethasone",
            lambda h: [
                vit(3),
                ice(4),
                vit(30, temp=38.3, hr=108),
                med(31, "acetaminophen", 1000),
                *routine(36, 100, every=8),
                ice(72),
                ice(96, orientation=2, naming=2, writing=0),
                ice(
                    h - 8,
                    orientation=1,
                    naming=1,
                    commands=0,
                    writing=0,
                    attention=0,
                    consciousness="awakens_to_voice",
                ),
                med(h - 7.5, "dexamethasone", 10),
                med(h - 7, "levetiracetam", 750),
                vit(h - 1),
            ],
        ),
        DemoPatient(
            "DEMO-0003",
            "Mia",
            "Schneider",
            _years_ago(7.3),
            "F",
            "23.0",
            Indication.B_ALL,
            HAEM,
            "Tisagenlecleucel (tisa-cel)",
            4 * 24 + 2,
            "Child scored with CAPD; CRS grade 1 fever",
            lambda h: [
                vit(2, hr=96, sbp=104, dbp=64, rr=20),
                capd(12, (0, 0, 0, 1, 1, 0, 0, 0)),
                capd(36, (1, 1, 0, 1, 1, 0, 1, 0)),
                vit(60, temp=38.9, hr=132, sbp=100, dbp=60, rr=24),
                med(61, "acetaminophen", 345),
                vit(h - 3, temp=38.2, hr=126, sbp=102, dbp=62, rr=22),
                capd(h - 4, (1, 1, 1, 1, 1, 0, 1, 1)),
            ],
        ),
        DemoPatient(
            "DEMO-0004",
            "Klaus",
            "Becker",
            _years_ago(68.1),
            "M",
            "80.0",
            Indication.MYELOMA,
            HAEM,
            "Ciltacabtagene autoleucel (cilta-cel)",
            24 * 24 + 5,
            "Prolonged neutropenia (ANC ≤ 500 /µL since day 1)",
            lambda h: [
                vit(2),
                ice(6),
                lab(-20, anc_per_uL=1400, platelets_10e9_L=110),
                *[
                    lab(d * 24 + 7, anc_per_uL=300 if d % 3 else 180, platelets_10e9_L=35)
                    for d in range(1, 24)
                ],
                vit(7 * 24, temp=38.2, hr=102),
                med(7 * 24 + 1, "acetaminophen", 1000),
                med(7 * 24 + 2, "cefepime", 2000),
                med(10 * 24, "filgrastim", 0.48),
                *routine(h - 20, h - 2, every=6),
                ice(h - 5),
            ],
            labs_today=None,
        ),
        DemoPatient(
            "DEMO-0005",
            "Laura",
            "Fischer",
            _years_ago(28.2),
            "F",
            "62.0",
            Indication.LUPUS_NEPHRITIS,
            RHEUM,
            "Academic CD19 CAR-T for SLE (4-1BB)",
            1 * 24 + 22,
            "SLE with lupus nephritis, CRS grade 1 fever on day 1",
            lambda h: [
                lab(-12, anc_per_uL=2600, crp_mg_L=4, creatinine_mg_dL=1.1, igg_mg_dL=820),
                vit(2),
                ice(3),
                vit(20, temp=38.0, hr=104, sbp=118, dbp=72, rr=16, spo2=97),
                ice(21),
                med(22, "acetaminophen", 1000),
                vit(h - 2, temp=37.6, hr=92),
            ],
        ),
        DemoPatient(
            "DEMO-0006",
            "Julia",
            "Wagner",
            _years_ago(34.6),
            "F",
            "58.5",
            Indication.SLE,
            RHEUM,
            "Academic CD19 CAR-T for SLE (4-1BB)",
            9 * 24 + 3,
            "SLE with neuropsychiatric lupus in the past (baseline ICE 9/10), uneventful so far",
            lambda h: [
                ice(-30, attention=0),  # pre-infusion baseline: shown beside the grades, not graded (B-1)
                lab(-10, anc_per_uL=2100, crp_mg_L=3, creatinine_mg_dL=0.8),
                *daily_labs(7, 9, anc_per_uL=1600, crp_mg_L=2, creatinine_mg_dL=0.8),
                *routine(h - 24, h - 1, every=6),
                *checks(h - 24, h - 2),
            ],
        ),
        DemoPatient(
            "DEMO-0007",
            "Thomas",
            "Schmidt",
            _years_ago(45.0),
            "M",
            "77.0",
            Indication.MYOSITIS,
            RHEUM,
            "Academic CD19 CAR-T for SLE (4-1BB)",
            6 * 24 + 1,
            "Myositis, afebrile",
            lambda h: [vit(2), ice(3), *routine(h - 16, h - 1, every=5), *checks(h - 20, h - 2)],
        ),
        DemoPatient(
            "DEMO-0008",
            "Helga",
            "Meyer",
            _years_ago(71.3),
            "F",
            "66.0",
            Indication.MYELOMA,
            HAEM,
            "Ciltacabtagene autoleucel (cilta-cel)",
            8 * 24 + 2,
            "Late-onset CRS grade 1 (cilta-cel, day 8)",
            lambda h: [
                vit(2),
                ice(4),
                *routine(h - 30, h - 8, every=6),
                vit(h - 2, temp=38.4, hr=106),
                ice(h - 3),
            ],
        ),
        DemoPatient(
            "DEMO-0009",
            "Wolfgang",
            "Schulz",
            _years_ago(64.8),
            "M",
            "84.0",
            Indication.MYELOMA,
            HAEM,
            "Idecabtagene vicleucel (ide-cel)",
            20,
            "Day 0/1 after ide-cel, stable",
            lambda h: [vit(1), ice(2), vit(5), vit(9), vit(13), ice(14), vit(17)],
        ),
        DemoPatient(
            "DEMO-0010",
            "Andrea",
            "Zimmermann",
            _years_ago(52.0),
            "F",
            "69.0",
            Indication.FL,
            HAEM,
            "Tisagenlecleucel (tisa-cel)",
            12 * 24 + 4,
            "Follicular lymphoma, recovered from CRS grade 1",
            lambda h: [
                vit(2),
                vit(3 * 24, temp=38.3, hr=101),
                med(3 * 24 + 1, "acetaminophen", 1000),
                *routine(h - 12, h - 1, every=4),
                ice(h - 6),
            ],
        ),
        DemoPatient(
            "DEMO-0011",
            "Stefan",
            "Braun",
            _years_ago(74.2),
            "M",
            "72.0",
            Indication.CLL,
            HAEM,
            "Lisocabtagene maraleucel (liso-cel)",
            3,
            "Just infused (day 0)",
            lambda h: [lab(-6, anc_per_uL=2200, crp_mg_L=6, ferritin_ng_mL=350), vit(0.5), ice(1)],
        ),
        DemoPatient(
            "DEMO-0012",
            "Monika",
            "Richter",
            _years_ago(59.4),
            "F",
            "64.0",
            Indication.LBCL,
            HAEM,
            "Axicabtagene ciloleucel (axi-cel)",
            13 * 24 + 9,
            "Vitals and labs overdue (last vitals 9 h ago)",
            lambda h: [vit(2), ice(3), *routine(h - 30, h - 9, every=4), ice(h - 10)],
            labs_today=None,
        ),
        DemoPatient(
            "DEMO-0013",
            "Erik",
            "Klein",
            _years_ago(39.7),
            "M",
            "81.0",
            Indication.SYSTEMIC_SCLEROSIS,
            RHEUM,
            "Academic CD19 CAR-T for SLE (4-1BB)",
            3 * 24 + 7,
            "Systemic sclerosis, neuro check due",
            lambda h: [vit(2), ice(3), *routine(h - 20, h - 1, every=4), ice(h - 13)],
        ),
        DemoPatient(
            "DEMO-0014",
            "Noah",
            "Wolf",
            _years_ago(15.5),
            "M",
            "48.0",
            Indication.B_ALL,
            HAEM,
            "Tisagenlecleucel (tisa-cel)",
            2 * 24 + 5,
            "Adolescent (ICE from 12 y) with developmental delay → CAPD",
            lambda h: [vit(2, hr=90), capd(10, (1, 1, 1, 1, 0, 0, 1, 0)), vit(h - 2, hr=88)],
            developmental_delay=True,
        ),
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
            user.pager = user.pager or f"demo-pager-{username}"
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
