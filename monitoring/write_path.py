"""The reads every observation save runs, as SQL written once and run through ``Model.objects.raw()``
(documented Django: the ORM builds the instances and converts each column as a queryset would).

* :func:`lock_infusion`: the infusion row, locked for the rest of the transaction (``FOR UPDATE OF``
  the infusion only, on PostgreSQL), with the decision policy in force and any row already stored
  under the request's client UUID; then its patient and product by primary key.
* :func:`unseen_rows`: the infusion's observation rows above an id, with the count of all its rows
  (the course cache's completeness check), in one statement.

Both run on PostgreSQL and on SQLite (the embedded default), where ``FOR UPDATE`` does not exist
and transactions take the database's write lock when they begin (``config/settings``).
``tests/monitoring/test_write_path.py`` checks the scoping against ``Infusion.objects.visible_to``
and every field against the ORM's querysets, on both backends.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Model

from .models import Infusion, Observation, Patient, Product


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


#: The lock: the infusion row (and only it) with the decision policy in force and the row already
#: stored under the request's client UUID.  Written once as SQL and run through ``raw()``, which
#: builds the instance with the model's own column conversions: the same read built through the ORM
#: (select_related, two subqueries, select_for_update) costs about 1.3 ms more CPU on every POST,
#: the unseen rows 0.9 ms (docs/api.md).  tests/monitoring/test_write_path.py compares both reads
#: with the ORM on PostgreSQL and SQLite.
_LOCK_SQL = (
    "SELECT i.*,"
    " (SELECT d.id FROM monitoring_decisionpolicy d ORDER BY d.created_at DESC, d.id DESC LIMIT 1)"
    " AS policy_id, {replay} AS replay_of"
    " FROM monitoring_infusion i INNER JOIN monitoring_patient p ON p.id = i.patient_id"
    " WHERE i.id = %s{scope}{lock}"
)
_REPLAY_SQL = "(SELECT o.id FROM monitoring_observation o WHERE o.client_uuid = %s LIMIT 1)"


def _in(column: str, n: int) -> str:
    return f" AND {column} IN ({', '.join(['%s'] * n)})"


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
    where = ""
    if scope is not None:
        where += _in("p.care_team_id", len(scope.patient_teams))
        params.extend(sorted(scope.patient_teams))
        if scope.infusion_teams is not None:
            where += _in("i.care_team_id", len(scope.infusion_teams))
            params.extend(sorted(scope.infusion_teams))
    sql = _LOCK_SQL.format(
        replay=_REPLAY_SQL if client_uuid is not None else "NULL",
        scope=where,
        lock=" FOR UPDATE OF i" if connection.vendor == "postgresql" else "",
    )
    infusion = _first(Infusion, sql, params, db)
    if infusion is None:
        return None
    infusion.patient = _first(
        Patient, "SELECT * FROM monitoring_patient WHERE id = %s", [infusion.patient_id], db
    )
    infusion.product = _first(
        Product, "SELECT * FROM monitoring_product WHERE id = %s", [infusion.product_id], db
    )
    return infusion


def _first(model: type[Model], sql: str, params: list[Any], db: str) -> Any:
    """The first instance ``raw()`` builds (the ORM converts each column as a queryset would)."""
    return next(iter(model.objects.db_manager(db).raw(sql, params)), None)


#: (id, kind, payload, observed_at, status, supersedes_id, total rows of the infusion)
UnseenRow = tuple[int, str, Any, Any, str, int | None, int]

_UNSEEN_SQL = (
    "SELECT o.id, o.kind, o.payload, o.observed_at, o.status, o.supersedes_id,"
    " (SELECT COUNT(*) FROM monitoring_observation c WHERE c.infusion_id = %s) AS total"
    " FROM monitoring_observation o WHERE o.infusion_id = %s{after} ORDER BY o.id"
)


def unseen_rows(infusion_id: int, after_id: int | None, db: str = "default") -> list[UnseenRow]:
    """The infusion's observation rows with an id above ``after_id`` (None: all of them), in id
    order, each with the number of all the infusion's rows (the same in every row of one answer)."""
    params = [infusion_id, infusion_id] if after_id is None else [infusion_id, infusion_id, after_id]
    sql = _UNSEEN_SQL.format(after="" if after_id is None else " AND o.id > %s")
    return [
        (o.pk, o.kind, o.payload, o.observed_at, o.status, o.supersedes_id, o.total)
        for o in Observation.objects.db_manager(db).raw(sql, params)
    ]
