"""Checks of ``monitoring.write_path`` against the equivalent ORM querysets, runnable on any backend:
``test_write_path.py`` runs them on PostgreSQL in the test database and, in a subprocess, on a
fresh SQLite database (the embedded default)."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import CareTeam, Membership, Role, User
from monitoring import write_path
from monitoring.models import (
    DecisionPolicy,
    Indication,
    Infusion,
    MonitoringTemplate,
    Observation,
    ObservationStatus,
    Patient,
    Product,
)

PATIENT_FIELDS = [f.attname for f in Patient._meta.concrete_fields]
INFUSION_FIELDS = [f.attname for f in Infusion._meta.concrete_fields]
PRODUCT_FIELDS = [f.attname for f in Product._meta.concrete_fields]


def _values(obj, names):
    return {name: getattr(obj, name) for name in names}


def build_ward(tag: str = "wp") -> dict:
    """Two teams, a nurse in the first, three infusions (one in the other team, one whose patient and
    infusion rows name different teams), a decision policy and a few observations with corrections."""
    first = CareTeam.objects.create(name=f"{tag} first", slug=f"{tag}-first")
    second = CareTeam.objects.create(name=f"{tag} second", slug=f"{tag}-second")
    nurse = User.objects.create_user(username=f"{tag}-nurse", password="x-y-z-123456")
    Membership.objects.create(user=nurse, team=first, role=Role.NURSE)
    template = MonitoringTemplate.objects.create(name=f"{tag} template")
    product = Product.objects.create(
        name=f"{tag} product",
        target_antigen="BCMA",
        monitoring_template=template,
        tocilizumab_mg_per_kg_under_30kg=Decimal("12.0"),
    )

    def infusion(team, infusion_team=None, **patient):
        p = Patient.objects.create(
            mrn=f"{tag}{uuid.uuid4().hex[:10]}",
            given_name="Ann",
            family_name="Example",
            date_of_birth=date(2015, 2, 28),
            sex="F",
            weight_kg=Decimal("27.5"),
            indication=Indication.SLE,
            developmental_delay=True,
            home_o2_l_min=Decimal("1.5"),
            care_team=team,
            **patient,
        )
        return Infusion.objects.create(
            patient=p,
            product=product,
            care_team=infusion_team or team,
            infused_at=timezone.now() - timedelta(days=3, minutes=7),
        )

    mine = infusion(first)
    theirs = infusion(second)
    mixed = infusion(first, infusion_team=second)
    policy = DecisionPolicy.objects.create(overrides={}, note="write path check")
    rows = []
    for h in range(6):
        rows.append(
            Observation.objects.create(
                infusion=mine,
                kind="vitals",
                payload={"temp_c": 37.0 + h / 5, "hr": 80 + h, "o2_device": "room_air"},
                observed_at=mine.infused_at + timedelta(hours=h, seconds=0.25),
                recorded_by=nurse,
                client_uuid=uuid.uuid4(),
            )
        )
    Observation.objects.create(
        infusion=mine,
        kind="vitals",
        payload={"temp_c": 36.9},
        observed_at=rows[2].observed_at,
        recorded_by=nurse,
        client_uuid=uuid.uuid4(),
        status=ObservationStatus.AMENDED,
        supersedes=rows[2],
        reason="typo",
    )
    return {
        "nurse": nurse,
        "first": first,
        "second": second,
        "mine": mine,
        "theirs": theirs,
        "mixed": mixed,
        "policy": policy,
        "uuid": rows[4].client_uuid,
        "row": rows[4].pk,
    }


def check_lock(ward: dict) -> list[str]:
    """Mismatches between ``write_path.lock_infusion`` and the ORM (empty: none)."""
    problems: list[str] = []
    nurse, mine = ward["nurse"], ward["mine"]
    scope = write_path.InfusionScope.for_user(nurse)
    with transaction.atomic():
        locked = write_path.lock_infusion(mine.pk, scope=scope, client_uuid=ward["uuid"])
        if locked is None:
            return ["own infusion not found"]
        orm = Infusion.objects.select_related("patient", "product").get(pk=mine.pk)
        for label, a, b, names in (
            ("infusion", locked, orm, INFUSION_FIELDS),
            ("patient", locked.patient, orm.patient, PATIENT_FIELDS),
            ("product", locked.product, orm.product, PRODUCT_FIELDS),
        ):
            if _values(a, names) != _values(b, names):
                problems.append(f"{label}: {_values(a, names)} != {_values(b, names)}")
            if type(getattr(a, names[-1])) is not type(getattr(b, names[-1])):
                problems.append(f"{label}: types differ")
        newest = DecisionPolicy.objects.order_by("-created_at", "-id").values_list("id", flat=True).first()
        if locked.policy_id != newest:
            problems.append(f"policy {locked.policy_id} != {newest}")
        if locked.replay_of != ward["row"]:
            problems.append(f"replay_of {locked.replay_of} != {ward['row']}")
        if write_path.lock_infusion(mine.pk, scope=scope, client_uuid=uuid.uuid4()).replay_of is not None:
            problems.append("a new client UUID found a replay")
        if write_path.lock_infusion(mine.pk).replay_of is not None:
            problems.append("no client UUID found a replay")
        # Scoping: exactly what Infusion.objects.visible_to(user) (+ the token's team) finds.
        for infusion in (ward["mine"], ward["theirs"], ward["mixed"]):
            for token_teams in (None, [ward["first"].pk], [ward["second"].pk], []):
                expected = Infusion.objects.visible_to(nurse)
                if token_teams is not None:
                    expected = expected.filter(care_team_id__in=token_teams)
                want = expected.filter(pk=infusion.pk).exists()
                s = write_path.InfusionScope.for_user(nurse, infusion_teams=token_teams)
                got = write_path.lock_infusion(infusion.pk, scope=s) is not None
                if want != got:
                    problems.append(f"scope {token_teams} infusion {infusion.pk}: orm {want}, sql {got}")
        outsider = write_path.InfusionScope(patient_teams=frozenset())
        if write_path.lock_infusion(mine.pk, scope=outsider) is not None:
            problems.append("a user with no team found an infusion")
        if write_path.lock_infusion(10**12) is not None:
            problems.append("a missing id was found")
    return problems


def check_unseen(ward: dict, seed: int = 5) -> list[str]:
    problems: list[str] = []
    mine = ward["mine"]
    ids = list(Observation.objects.filter(infusion=mine).order_by("id").values_list("id", flat=True))
    rng = random.Random(seed)
    for after in [None, 0, ids[0], ids[-1], *rng.sample(ids, k=min(3, len(ids)))]:
        qs = Observation.objects.filter(infusion=mine).order_by("id")
        if after is not None:
            qs = qs.filter(id__gt=after)
        expected = [
            (*row, len(ids))
            for row in qs.values_list("id", "kind", "payload", "observed_at", "status", "supersedes_id")
        ]
        got = write_path.unseen_rows(mine.pk, after)
        if got != expected:
            problems.append(f"after {after}: {got} != {expected}")
    if write_path.unseen_rows(ward["theirs"].pk, None) != []:
        problems.append("rows for an infusion without observations")
    return problems
