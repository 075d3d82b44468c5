"""FHIR R4 import (FHIR-7, E-1, E-2): a transaction, batch or file-drop Bundle through the same
services as a nurse's entry (``monitoring.services.observations_write_all``).

* Each resource is checked against the R4 model (``fhirclient``), then read into the core's
  vocabulary (``interop.reading``: LOINC/UCUM mapping and unit conversion).
* The patient is matched by identifier within the token's care team; an unknown patient is refused,
  never created.  The infusion is the patient's course the time falls in.
* Idempotency by resource identifier: the client UUID of the row is derived from it, so the same
  resource again is a no-op; ``amended``/``corrected`` becomes an amendment of the identifier's current
  row and ``entered-in-error`` its marker, with a UUID derived from the content (a repeated
  correction is a no-op too).
* ``request.ifNoneExist`` (``identifier=system|value``) is a conditional create (``interop.conditional``).
* A ``transaction`` stores nothing when one entry fails; a ``batch`` (and a file drop) refuses only
  that entry.  Bundles of more than :data:`MAX_ENTRIES` entries are refused whole.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from fhirclient.models.fhirabstractbase import FHIRValidationError
from fhirclient.models.fhirelementfactory import FHIRElementFactory

from monitoring import services
from monitoring.models import (
    Observation,
    ObservationSource,
    ObservationStatus,
)

from . import codes, conditional, matching, outcome
from .models import ImportedResource
from .reading import EntryRefused, Problem, Reading, read
from .resources import location

#: CIBMTR's advice against time-outs (FHIR-7): bigger bundles are refused with a message.
MAX_ENTRIES = 50
#: Fixed namespace of the client UUIDs derived from FHIR identifiers (never change: idempotency).
IDENTIFIER_NAMESPACE = uuid.UUID("7f0d3c55-1f4e-4c55-9b8e-2f7c1f0e6a15")
BUNDLE_TYPES = ("transaction", "batch")
#: What CAR-T Track derives itself and so never imports (its own export re-imported, FHIR-8): the
#: grades, episodes and the infusion record are recomputed from the observations or registered by a
#: coordinator.  Such an entry is answered "200 OK" with an informational outcome.
DERIVED_TYPES = frozenset(
    {"Procedure", "Medication", "BiologicallyDerivedProduct", "Condition", "AdverseEvent"}
)
DERIVED_CODES = frozenset((codes.LOCAL_OBSERVATION, code) for code in codes.GRADE_CODES.values())
#: Why a SLEDAI-2K visit carrying a physician's LICATS mark (D-5) is refused whole, not stored without
#: the mark: unmarked, its LICATS descriptors would score in SLEDAI-2K (docs/interop.md "Export").
LICATS_NOT_TAKEN = (
    "; the visit carries a physician's LICATS mark (D-5) and is not stored: this account is no "
    "physician, and without the mark its descriptors would count in SLEDAI-2K. A physician of this "
    "site records the visit and the mark from the sending site's record"
)
_OBJECT_NOISE = re.compile(r" <fhirclient\.models\.[\w.]+ object at 0x[0-9a-f]+>| object at 0x[0-9a-f]+")


@dataclass(frozen=True)
class ImportResult:
    http_status: int
    body: dict[str, Any]  # a transaction-response / batch-response Bundle, or an OperationOutcome

    @property
    def refused(self) -> bool:
        return self.body.get("resourceType") == "OperationOutcome"


@dataclass
class _Planned:
    index: int
    reading: Reading
    write: services.ObservationWrite


def _refused(status: int, problems: list[Problem]) -> ImportResult:
    return ImportResult(status, outcome.operation_outcome(problems))


def _envelope(bundle: Any, *, file_drop: bool) -> tuple[str, list[dict]] | ImportResult:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return _refused(400, [Problem("the body must be a FHIR R4 Bundle (resourceType 'Bundle')", "Bundle")])
    kinds = (*BUNDLE_TYPES, "collection") if file_drop else BUNDLE_TYPES
    btype = bundle.get("type")
    if btype not in kinds:
        return _refused(
            400,
            [Problem(f"Bundle.type {btype!r} is not accepted; accepted: {', '.join(kinds)}", "Bundle.type")],
        )
    entries = bundle.get("entry") or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        return _refused(400, [Problem("Bundle.entry must be a list of entries", "Bundle.entry")])
    if len(entries) > MAX_ENTRIES:
        return _refused(
            413,
            [
                Problem(
                    f"the bundle has {len(entries)} entries; at most {MAX_ENTRIES} are processed in one "
                    "request (nothing was stored): split it into bundles of up to 50",
                    "Bundle.entry",
                    "too-costly",
                )
            ],
        )
    return ("batch" if btype == "collection" else btype), entries


def _structure_problems(index: int, resource: Any) -> list[Problem]:
    """The R4 model's complaints about ``resource`` (types, required and unknown elements)."""
    rtype = resource.get("resourceType") if isinstance(resource, dict) else None
    if not isinstance(rtype, str):
        return [
            Problem(f"entry[{index}]: resource with a resourceType is required", f"Bundle.entry[{index}]")
        ]
    try:
        FHIRElementFactory.instantiate(rtype, resource)
    except FHIRValidationError as exc:
        text = _OBJECT_NOISE.sub("", str(exc)).replace("{root}:", "").strip()
        return [
            Problem(
                f"entry[{index}] {rtype} is not valid FHIR R4: {' '.join(text.split())}", rtype, "structure"
            )
        ]
    except Exception:  # an unknown resource type
        return [Problem(f"entry[{index}]: {rtype!r} is not an R4 resource type", f"Bundle.entry[{index}]")]
    return []


def _uuid(*parts: str) -> uuid.UUID:
    return uuid.uuid5(IDENTIFIER_NAMESPACE, "|".join(parts))


def base_uuid(resource_type: str, system: str, value: str) -> uuid.UUID:
    """The client UUID of the first row stored under a FHIR identifier."""
    return _uuid(resource_type, system, value)


def _plan(index: int, reading: Reading, bundle_patients, team_ids, lookups: matching.Lookups) -> _Planned:
    where = reading.label
    patient = matching.patient_for(reading, bundle_patients, team_ids, reading.label, lookups)
    try:
        observed_at = services.read_observed_at(value=reading.observed_at, zone=patient.care_team.time_zone)
    except ValidationError as exc:
        raise EntryRefused([Problem(f"{where}: {m}", "effective[x]", "value") for m in exc.messages]) from exc
    infusion = matching.infusion_for(patient, observed_at, reading.label, lookups)
    base = base_uuid(reading.resource_type, *reading.identifier)
    first = Observation.objects.filter(client_uuid=base).first()
    if first is None or not (reading.corrects or reading.voids):
        if reading.voids:
            raise EntryRefused(
                [
                    Problem(
                        f"{reading.label}: nothing is stored under identifier {'|'.join(reading.identifier)} "
                        "to mark entered-in-error",
                        "identifier",
                        "not-found",
                    )
                ]
            )
        write = services.ObservationWrite(
            infusion_id=infusion.pk,
            kind=reading.kind,
            payload=reading.payload,
            observed_at=observed_at,
            client_uuid=base,
        )
        return _Planned(index, reading, write)
    current = conditional.current_row(first)
    digest = hashlib.sha256(
        json.dumps([reading.payload, observed_at.isoformat()], sort_keys=True).encode()
    ).hexdigest()
    if reading.voids:
        write = services.ObservationWrite(
            infusion_id=current.infusion_id,
            kind=current.kind,
            payload=dict(current.payload),
            observed_at=current.observed_at,
            client_uuid=_uuid(str(base), "entered-in-error"),
            corrects=current,
            status=ObservationStatus.ENTERED_IN_ERROR,
            reason=f"entered-in-error by the sending system ({'|'.join(reading.identifier)})",
        )
    else:
        write = services.ObservationWrite(
            infusion_id=current.infusion_id,
            kind=current.kind,
            payload=reading.payload,
            observed_at=observed_at,
            client_uuid=_uuid(str(base), reading.status, digest),
            corrects=current,
            status=ObservationStatus.AMENDED,
            reason=f"{reading.status} by the sending system ({'|'.join(reading.identifier)})",
        )
    return _Planned(index, reading, write)


def _failure_problems(planned: _Planned, error: Exception) -> tuple[int, list[Problem]]:
    label = planned.reading.label
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            items = [(f, m) for f, ms in error.message_dict.items() for m in ms]
        else:
            items = [("", m) for m in error.messages]
        return 422, [Problem(f"{label}: {m}", f or "", "value") for f, m in items]
    if isinstance(error, PermissionDenied):
        text = f"{label}: {error}"
        if str(error) == services.LICATS_PHYSICIAN_ONLY:
            text += LICATS_NOT_TAKEN
        return 403, [Problem(text, "", "forbidden")]
    if isinstance(error, services.ObservationConflict) and planned.write.corrects is None:
        text = (
            f"{label}: identifier {'|'.join(planned.reading.identifier)} is already stored with other "
            "values; send it with status 'corrected' or 'amended' to correct it"
        )
        return 409, [Problem(text, "identifier", "conflict")]
    return 409, [Problem(f"{label}: {error}", "", "conflict")]


def _provenance(planned: list[_Planned], source_system: str, bundle_id: str):
    def on_stored(position: int, row: Observation, created: bool) -> None:
        if not created:
            return
        p = planned[position]
        ImportedResource.objects.create(
            observation=row,
            resource_type=p.reading.resource_type,
            identifier_system=p.reading.identifier[0],
            identifier_value=p.reading.identifier[1],
            fhir_status=p.reading.status,
            source_system=(p.reading.source_system or source_system)[:255],
            bundle_id=bundle_id[:255],
        )

    return on_stored


def _response_entry(row: Observation, created: bool, resource_type: str) -> dict[str, Any]:
    return {
        "response": {
            "status": "201 Created" if created else "200 OK",
            "location": location(row, resource_type),
            **(
                {}
                if created
                else {"outcome": outcome.informational("already stored under this identifier: no change")}
            ),
        }
    }


def _derived(resource: dict) -> bool:
    if resource["resourceType"] in DERIVED_TYPES:
        return True
    coding = (resource.get("code") or {}).get("coding") or []
    return resource["resourceType"] == "Observation" and any(
        (c.get("system"), c.get("code")) in DERIVED_CODES for c in coding if isinstance(c, dict)
    )


def import_bundle(
    *, bundle: Any, user, team_ids: list[int], source_system: str = "", file_drop: bool = False
) -> ImportResult:
    """Import ``bundle`` as ``user`` (the integration's account) into the patients of ``team_ids``."""
    envelope = _envelope(bundle, file_drop=file_drop)
    if isinstance(envelope, ImportResult):
        return envelope
    btype, entries = envelope
    source_system = str((bundle.get("meta") or {}).get("source") or source_system)
    bundle_id = str(bundle.get("id") or "")
    in_bundle = matching.bundle_patients(entries)
    lookups = matching.Lookups()
    responses: list[dict[str, Any] | None] = [None] * len(entries)
    problems: dict[int, list[Problem]] = {}
    planned: list[_Planned] = []
    for index, entry in enumerate(entries):
        resource = entry.get("resource")
        found = _structure_problems(index, resource)
        if found:
            problems[index] = found
            continue
        if _derived(resource):
            responses[index] = {
                "response": {
                    "status": "200 OK",
                    "outcome": outcome.informational(
                        "not imported: CAR-T Track derives grades and episodes from the observations"
                    ),
                }
            }
            continue
        if resource["resourceType"] == "Patient":
            got = matching.patient_entry(index, resource, team_ids)
            if isinstance(got, list):
                problems[index] = got
            else:
                responses[index] = got
            continue
        try:
            reading = read(index, resource)
            responses[index] = conditional.if_none_exist(index, entry, reading, team_ids)
            if responses[index] is None:
                planned.append(_plan(index, reading, in_bundle, team_ids, lookups))
        except EntryRefused as exc:
            problems[index] = exc.problems
    within = services.InfusionScope.for_user(user, infusion_teams=team_ids)
    if btype == "transaction":
        if problems:
            found = [p for i in sorted(problems) for p in problems[i]]
            return _refused(412 if any(p.code == "multiple-matches" for p in found) else 422, found)
        try:
            rows = services.observations_write_all(
                writes=[p.write for p in planned],
                user=user,
                source=ObservationSource.DEVICE,
                within=within,
                on_stored=_provenance(planned, source_system, bundle_id),
            )
        except services.WriteFailed as exc:
            status, found = _failure_problems(planned[exc.index or 0], exc.error)
            return _refused(
                status, [*found, Problem("nothing of this transaction was stored", "Bundle", "processing")]
            )
        for p, (row, _evaluation, created) in zip(planned, rows, strict=True):
            responses[p.index] = _response_entry(row, created, p.reading.resource_type)
        return ImportResult(
            200, {"resourceType": "Bundle", "type": "transaction-response", "entry": responses}
        )
    for p in planned:
        try:
            ((row, _evaluation, created),) = services.observations_write_all(
                writes=[p.write],
                user=user,
                source=ObservationSource.DEVICE,
                within=within,
                on_stored=_provenance([p], source_system, bundle_id),
            )
        except services.WriteFailed as exc:
            problems[p.index] = _failure_problems(p, exc.error)[1]
            continue
        responses[p.index] = _response_entry(row, created, p.reading.resource_type)
    for index, found in problems.items():
        codes_found = {f.code for f in found}
        status = (
            "412 Precondition Failed"
            if "multiple-matches" in codes_found
            else "404 Not Found"
            if "not-found" in codes_found
            else "403 Forbidden"
            if "forbidden" in codes_found
            else "422 Unprocessable Entity"
        )
        responses[index] = {"response": {"status": status, "outcome": outcome.operation_outcome(found)}}
    return ImportResult(200, {"resourceType": "Bundle", "type": "batch-response", "entry": responses})
