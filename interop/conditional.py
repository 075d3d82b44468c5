"""Conditional create in a transaction or batch Bundle (FHIR-7, E-1): ``request.ifNoneExist`` of an
Observation or MedicationAdministration entry, searched by identifier as FHIR R4 specifies
(http.html#ccreate): no match, the entry is created; one match, nothing is created and the entry is
answered ``200 OK`` with the stored resource's location; more than one, ``412 Precondition Failed``.

Supported: one ``identifier`` parameter, ``system|value`` or a bare ``value`` (any system).  Any other
search is refused naming the entry and what is supported, never ignored.  When the match is the
entry's own identifier the entry is processed as without ``ifNoneExist`` (E-1): the same values are
the idempotent re-send they are anyway, a correction (corrected, amended, entered-in-error) corrects,
and a ``final`` with other values is refused as a conflict.  Answering that last one "200, nothing
changed" as plain FHIR would lets a changed result vanish without anyone reading the outcome: a
changed lab value is never dropped silently."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from monitoring.models import Observation

from . import outcome
from .models import ImportedResource
from .reading import EntryRefused, Problem, Reading
from .resources import location

SUPPORTED = "identifier=system|value (or identifier=value), one identifier"


def current_row(first: Observation) -> Observation:
    """The current version of the row ``first`` began (following its corrections)."""
    row = first
    while True:
        nxt = Observation.objects.filter(supersedes=row).first()
        if nxt is None:
            return row
        row = nxt


def _token(index: int, reading: Reading, query: Any) -> tuple[str | None, str]:
    where = f"Bundle.entry[{index}].request.ifNoneExist"
    try:
        params = (
            parse_qsl(query, keep_blank_values=True, strict_parsing=True) if isinstance(query, str) else []
        )
    except ValueError:
        params = []
    if len(params) != 1 or params[0][0] != "identifier" or not params[0][1].strip("|"):
        raise EntryRefused(
            [
                Problem(
                    f"entry[{index}] {reading.resource_type}: request.ifNoneExist {query!r} is not "
                    f"supported; supported: {SUPPORTED}",
                    where,
                    "not-supported",
                )
            ]
        )
    system, bar, value = params[0][1].rpartition("|")
    return (system if bar else None), value


def if_none_exist(index: int, entry: dict, reading: Reading, team_ids: list[int]) -> dict[str, Any] | None:
    """The response entry when a stored resource matches the entry's ``ifNoneExist`` (nothing is
    created); None when the entry is to be processed (no condition, no match, or its own correction)."""
    request = entry.get("request")
    if not isinstance(request, dict) or "ifNoneExist" not in request:
        return None
    system, value = _token(index, reading, request["ifNoneExist"])
    found = ImportedResource.objects.filter(
        resource_type=reading.resource_type,
        identifier_value=value,
        observation__infusion__care_team_id__in=team_ids,
    )
    if system is not None:
        found = found.filter(identifier_system=system)
    # one resource per identifier (its corrections are versions of it); order_by(): DISTINCT on
    # these two columns only
    pairs = found.order_by().values_list("identifier_system", "identifier_value").distinct()
    matches = list(pairs[:2])
    if not matches:
        return None
    if len(matches) > 1:
        raise EntryRefused(
            [
                Problem(
                    f"entry[{index}] {reading.resource_type}: request.ifNoneExist "
                    f"{request['ifNoneExist']!r} matches more than one stored resource; name the "
                    "identifier's system (identifier=system|value)",
                    f"Bundle.entry[{index}].request.ifNoneExist",
                    "multiple-matches",
                )
            ]
        )
    if matches[0] == reading.identifier:
        return None  # its own identifier: a re-send, a correction or a conflict, as without the condition
    first = found.filter(identifier_system=matches[0][0]).order_by("imported_at", "id").first()
    assert first is not None  # the match above
    row = current_row(first.observation)
    return {
        "response": {
            "status": "200 OK",
            "location": location(row, reading.resource_type),
            "outcome": outcome.informational(
                f"already stored under identifier {'|'.join(matches[0])} (request.ifNoneExist): not "
                "created, nothing changed"
            ),
        }
    }
