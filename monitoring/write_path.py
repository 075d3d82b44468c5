"""The fixed statements every observation save runs, as SQL written once (see :mod:`sql_rows`).

* :func:`lock_infusion`: the infusion row, locked for the rest of the transaction, with its patient
  and product, the decision policy in force and any row already stored under the request's client
  UUID, in one statement.
* :func:`unseen_rows`: the infusion's observation rows above an id, with the count of all its rows
  (the course cache's completeness check), in one statement.

Both run on PostgreSQL and on SQLite (the embedded default), where ``FOR UPDATE`` does not exist
and transactions take the database's write lock when they begin (``config/settings``).  The
services' tests and the API's scoping tests run through them; ``tests/monitoring/test_write_path.py``
compares them with the equivalent ORM querysets.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.db import connections

from accounts import sql_rows

from .models import DecisionPolicy, Infusion, Observation, Patient, Product


@dataclass(frozen=True)
class InfusionScope:
    """Which infusions a write may find.

    ``patient_teams``: the care teams whose patients the user sees (the rule of
    ``Patient.objects.visible_to``, from :meth:`for_user`).  ``infusion_teams``: with an
    integration token, the token's care team (``None``: no further limit)."""

    patient_teams: frozenset[int]
    infusion_teams: frozenset[int] | None = None

    @classmethod
    def for_user(cls, user: Any, *, infusion_teams: Collection[int] | None = None) -> InfusionScope:
        return cls(
            patient_teams=frozenset(Patient.objects.visible_team_ids(user)),
            infusion_teams=None if infusion_teams is None else frozenset(infusion_teams),
        )

    def is_empty(self) -> bool:
        return not self.patient_teams or (self.infusion_teams is not None and not self.infusion_teams)


def _placeholders(n: int) -> str:
    return ", ".join(["%s"] * n)


@functools.lru_cache(maxsize=256)
def _lock_sql(db: str, vendor: str, with_uuid: bool, patient_teams: int, infusion_teams: int | None) -> str:
    """The lock statement for one shape of request (identifiers from ``_meta``, values as %s)."""
    connection = connections[db]
    q = connection.ops.quote_name
    col = functools.partial(sql_rows.column, db=db)
    inf, pat, prod = Infusion._meta, Patient._meta, Product._meta
    obs, pol = Observation._meta, DecisionPolicy._meta
    replay = "NULL"
    if with_uuid:
        uuid_column = col(Observation, "client_uuid")
        replay = f"(SELECT {q('id')} FROM {q(obs.db_table)} WHERE {uuid_column} = %s LIMIT 1)"  # noqa: S608
    where = [f"{q('i')}.{col(Infusion, 'id')} = %s"]
    if patient_teams:
        where.append(f"{q('p')}.{col(Patient, 'care_team')} IN ({_placeholders(patient_teams)})")
    if infusion_teams:
        where.append(f"{q('i')}.{col(Infusion, 'care_team')} IN ({_placeholders(infusion_teams)})")
    lock = f" FOR UPDATE OF {q('i')}" if connection.features.has_select_for_update_of else ""
    return (
        f"SELECT {sql_rows.column_list(Infusion, 'i', db)}, {sql_rows.column_list(Patient, 'p', db)}, "  # noqa: S608
        f"{sql_rows.column_list(Product, 'r', db)}, "
        f"(SELECT {q('id')} FROM {q(pol.db_table)} "
        f"ORDER BY {col(DecisionPolicy, 'created_at')} DESC, {q('id')} DESC LIMIT 1), "
        f"{replay} "
        f"FROM {q(inf.db_table)} {q('i')} "
        f"INNER JOIN {q(pat.db_table)} {q('p')} "
        f"ON {q('p')}.{col(Patient, 'id')} = {q('i')}.{col(Infusion, 'patient')} "
        f"INNER JOIN {q(prod.db_table)} {q('r')} "
        f"ON {q('r')}.{col(Product, 'id')} = {q('i')}.{col(Infusion, 'product')} "
        f"WHERE {' AND '.join(where)}{lock}"
    )


def lock_infusion(
    pk: int, *, scope: InfusionScope | None = None, client_uuid: uuid.UUID | None = None, db: str = "default"
) -> Infusion | None:
    """The infusion ``pk`` (within ``scope``), its row locked until the transaction ends, or None.

    Only the infusion's row is locked (patient and product are read, not locked). Annotated:
    ``policy_id`` (the newest decision policy, or None) and ``replay_of`` (the id of the observation
    already stored under ``client_uuid``, or None)."""
    if scope is not None and scope.is_empty():
        return None
    connection = connections[db]
    params: list[Any] = []
    if client_uuid is not None:
        uuid_field = Observation._meta.get_field("client_uuid")
        params.append(uuid_field.get_db_prep_value(client_uuid, connection))
    params.append(pk)
    if scope is not None:
        params.extend(sorted(scope.patient_teams))
        if scope.infusion_teams is not None:
            params.extend(sorted(scope.infusion_teams))
    sql = _lock_sql(
        db,
        connection.vendor,
        client_uuid is not None,
        len(scope.patient_teams) if scope is not None else 0,
        len(scope.infusion_teams) if scope is not None and scope.infusion_teams is not None else None,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    n_inf, n_pat = sql_rows.width(Infusion), sql_rows.width(Patient)
    infusion = sql_rows.instance_from(Infusion, row[:n_inf], db)
    infusion.patient = sql_rows.instance_from(Patient, row[n_inf : n_inf + n_pat], db)
    infusion.product = sql_rows.instance_from(Product, row[n_inf + n_pat : -2], db)
    infusion.policy_id, infusion.replay_of = row[-2], row[-1]
    return infusion


UNSEEN_FIELDS = ("id", "kind", "payload", "observed_at", "status", "supersedes")
#: (id, kind, payload, observed_at, status, supersedes_id, total rows of the infusion)
UnseenRow = tuple[int, str, Any, Any, str, int | None, int]


def unseen_rows(infusion_id: int, after_id: int | None, db: str = "default") -> list[UnseenRow]:
    """The infusion's observation rows with an id above ``after_id`` (None: all of them), in id
    order, each with the number of all the infusion's rows (the same in every row of one answer)."""
    params = [infusion_id, infusion_id] if after_id is None else [infusion_id, infusion_id, after_id]
    with connections[db].cursor() as cursor:
        cursor.execute(_unseen_sql(db, connections[db].vendor, after_id is not None), params)
        rows = cursor.fetchall()
    payload = sql_rows.field_converter(Observation, "payload", db)
    observed_at = sql_rows.field_converter(Observation, "observed_at", db)
    return [
        (row_id, kind, payload(raw_payload), observed_at(raw_time), status, supersedes_id, total)
        for row_id, kind, raw_payload, raw_time, status, supersedes_id, total in rows
    ]


@functools.lru_cache(maxsize=8)
def _unseen_sql(db: str, vendor: str, after: bool) -> str:
    q = connections[db].ops.quote_name
    col = functools.partial(sql_rows.column, db=db)
    table = q(Observation._meta.db_table)
    o = {name: f"{q('o')}.{col(Observation, name)}" for name in UNSEEN_FIELDS}
    infusion_of_c = f"{q('c')}.{col(Observation, 'infusion')}"
    newer = f"AND {o['id']} > %s" if after else ""
    return (
        f"SELECT {', '.join(o[name] for name in UNSEEN_FIELDS)}, "  # noqa: S608
        f"(SELECT COUNT(*) FROM {table} {q('c')} WHERE {infusion_of_c} = %s) "
        f"FROM {table} {q('o')} WHERE {q('o')}.{col(Observation, 'infusion')} = %s "
        f"{newer} ORDER BY {o['id']}"
    )
