"""Demo-like data of a network of centres for ``bench/network_load.py`` (bench only).

Per centre (care team, Europe/Berlin): ``patients`` active infusions with a history of q4h vitals
and one stored grade, an open alert for every fifth patient, a nurse whose tablet posts with a
personal token, a device gateway (service user) with an integration token, a coordinator and two
physicians signed in with two-factor (sessions as a browser holds them).  One network coordinator
is a coordinator of every centre.  History rows are bulk-inserted (``bench/seeding.py``: grading
them one by one through the service would take minutes for 2 500 courses); every POST of the load
is graded for real.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from bench import seeding


@dataclass
class Centre:
    team_id: int
    infusions: list[int]
    nurse_id: int
    tablet_token: str
    device_token: str
    coordinator_cookie: str
    physician_cookies: list[str]


@dataclass
class Network:
    centres: list[Centre] = field(default_factory=list)
    network_cookie: str = ""

    @property
    def patients(self) -> int:
        return sum(len(c.infusions) for c in self.centres)


def vitals_payload(rng: random.Random) -> dict:
    """A full set from the tablet, mostly normal (the network is not on fire)."""
    return {
        "temp_c": round(rng.uniform(36.4, 37.9), 1),
        "hr": rng.randint(62, 100),
        "sbp": rng.randint(100, 138),
        "dbp": rng.randint(58, 86),
        "rr": rng.randint(12, 20),
        "spo2": rng.randint(94, 99),
        "o2_device": "room_air",
    }


def device_fragment(rng: random.Random) -> dict:
    """One vital per request, as a monitor's feed sends it (A-14: the others stand)."""
    choice = rng.randrange(5)
    if choice == 0:
        return {"hr": rng.randint(62, 100)}
    if choice == 1:
        return {"spo2": rng.randint(94, 99)}
    if choice == 2:
        return {"temp_c": round(rng.uniform(36.4, 37.9), 1)}
    if choice == 3:
        return {"rr": rng.randint(12, 20)}
    return {"sbp": rng.randint(100, 138), "dbp": rng.randint(58, 86)}


def _signed_in_cookie(user, session_cookie_name: str) -> str:
    """A session that has passed password and two-factor sign-in (as tests/security does)."""
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return f"{session_cookie_name}={session.session_key}"


def seed(centres: int, patients: int, history: int) -> Network:
    """Seed the (already migrated) database Django is set up against."""
    from django.conf import settings
    from django.utils import timezone

    from accounts.models import CareTeam, Membership, Role, User
    from accounts.tokens import issue_api_token
    from monitoring.models import Indication, MonitoringTemplate, Product

    rng = random.Random(16)
    now = timezone.now()
    template = MonitoringTemplate.objects.create(name="Network template")
    products = [
        Product.objects.create(name=f"CD19 CAR-T {k}", target_antigen="CD19", monitoring_template=template)
        for k in range(4)
    ]
    indications = [Indication.LBCL, Indication.MYELOMA, Indication.SLE, Indication.B_ALL]
    cookie = settings.SESSION_COOKIE_NAME
    network_user = User.objects.create_user(username="network-coordinator", password="bench-password-123")
    network = Network()
    for c in range(centres):
        team = CareTeam.objects.create(
            name=f"Centre {c:02d}", slug=f"centre-{c:02d}", time_zone="Europe/Berlin"
        )

        def member(username: str, role: str, team=team) -> User:
            user = User.objects.create_user(username=username, password="bench-password-123")
            Membership.objects.create(user=user, team=team, role=role)
            return user

        nurse = member(f"nurse-{c:02d}", Role.NURSE)
        gateway = member(f"monitor-gateway-{c:02d}", Role.NURSE)
        coordinator = member(f"coordinator-{c:02d}", Role.COORDINATOR)
        physicians = [member(f"physician-{c:02d}-{k}", Role.PHYSICIAN) for k in range(2)]
        Membership.objects.create(user=network_user, team=team, role=Role.COORDINATOR)
        _t, tablet_key = issue_api_token(
            name=f"tablet {c:02d}", user=nurse, team=team, scopes=["observations:write"]
        )
        _t, device_key = issue_api_token(
            name=f"monitor feed {c:02d}", user=gateway, team=team, scopes=["observations:write"]
        )

        def history_of(i: int) -> list[seeding.HistoryRow]:
            return [("vitals", timedelta(hours=1 + 4 * h), vitals_payload(rng)) for h in range(history)]

        def grade_of(i: int) -> list[seeding.GradeRow]:
            last = timedelta(hours=1 + 4 * max(history - 1, 0))
            return [(last, {"crs_grade": i % 2, "crs_max": i % 3, "icans_grade": 0, "icans_max": 0})]

        infusions = seeding.seed_courses(
            team=team,
            nurse=nurse,
            products=products,
            patients=[
                {
                    "mrn": f"N{c:02d}{i:04d}",
                    "given_name": "Net",
                    "family_name": f"Patient{c:02d}{i:04d}",
                    "date_of_birth": date(1950 + i % 40, 1 + i % 12, 1),
                    "weight_kg": Decimal("70.0"),
                    "indication": indications[i % 4],
                }
                for i in range(patients)
            ],
            infused_at=lambda i: now - timedelta(hours=4 * history + 2 + (i * 5) % 200),
            history=history_of,
            grades=grade_of,
            alert_every=5,
            now=now,
        )
        network.centres.append(
            Centre(
                team_id=team.pk,
                infusions=[i.pk for i in infusions],
                nurse_id=nurse.pk,
                tablet_token=tablet_key,
                device_token=device_key,
                coordinator_cookie=_signed_in_cookie(coordinator, cookie),
                physician_cookies=[_signed_in_cookie(p, cookie) for p in physicians],
            )
        )
    network.network_cookie = _signed_in_cookie(network_user, cookie)
    return network
