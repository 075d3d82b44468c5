"""Model instances from hand-written SELECTs, converted exactly as the ORM converts them.

The observation write path runs a few fixed statements on every save; building and compiling them
through the ORM cost more CPU than everything else the request does (``docs/api.md``).  Those
statements (:mod:`monitoring.write_path`, :mod:`accounts.tokens`) are written once as SQL, with
column lists taken from the models' ``_meta`` (a new or renamed field cannot be forgotten), and
their rows come back through this module: each value passes through the database backend's and
the field's own converters (the ones ``QuerySet`` applies: dates and decimals on SQLite, JSON
everywhere), and instances are built with ``Model.from_db`` like the ORM builds them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections
from django.db.models import Model

Converter = Callable[[Any, Any, Any], Any]


def quote(name: str, alias: str = "default") -> str:
    return connections[alias].ops.quote_name(name)


def column(model: type[Model], name: str, db: str = "default") -> str:
    """The quoted column of ``model``'s field ``name`` (``"patient_id"`` for ``patient``)."""
    return quote(model._meta.get_field(name).column, db)


@functools.cache
def _concrete_fields(model: type[Model]) -> tuple[Any, ...]:
    return tuple(model._meta.concrete_fields)


def column_list(model: type[Model], table_alias: str, db: str = "default") -> str:
    """``"t"."id", "t"."name", …`` for every concrete field of ``model``, in ``_meta`` order."""
    return ", ".join(f"{quote(table_alias, db)}.{quote(f.column, db)}" for f in _concrete_fields(model))


def _converters(model: type[Model], db: str) -> tuple[tuple[list[Converter], Any], ...]:
    connection = connections[db]
    result = []
    for field in _concrete_fields(model):
        col = field.get_col(model._meta.db_table)
        result.append((connection.ops.get_db_converters(col) + field.get_db_converters(connection), col))
    return tuple(result)


_CONVERTERS: dict[tuple[type[Model], str, str], tuple[tuple[list[Converter], Any], ...]] = {}


def converters(model: type[Model], db: str = "default") -> tuple[tuple[list[Converter], Any], ...]:
    """The converters of each concrete field (cached per model, database and backend)."""
    key = (model, db, connections[db].vendor)
    found = _CONVERTERS.get(key)
    if found is None:
        found = _CONVERTERS[key] = _converters(model, db)
    return found


def convert(value: Any, converters_: list[Converter], expression: Any, db: str = "default") -> Any:
    connection = connections[db]
    for converter in converters_:
        value = converter(value, expression, connection)
    return value


def instance_from(model: type[Model], values: Sequence[Any], db: str = "default") -> Model:
    """``model`` built from the raw column values of :func:`column_list` (same order)."""
    fields = _concrete_fields(model)
    converted = [
        convert(value, convs, col, db) if convs else value
        for value, (convs, col) in zip(values, converters(model, db), strict=True)
    ]
    return model.from_db(db, [f.attname for f in fields], converted)


def width(model: type[Model]) -> int:
    return len(_concrete_fields(model))


def field_converter(model: type[Model], name: str, db: str = "default") -> Callable[[Any], Any]:
    """A function converting one raw column value of ``model.name`` as the ORM would."""
    field = model._meta.get_field(name)
    index = _concrete_fields(model).index(field)
    convs, col = converters(model, db)[index]
    if not convs:
        return lambda value: value
    return lambda value: convert(value, convs, col, db)
