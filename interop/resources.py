"""One stored observation row as FHIR R4 resources (FHIR-2…FHIR-4), the inverse of
``interop.reading``: vital signs one Observation per vital (BP as the panel, SpO2 with the oxygen
flow and FiO2 as components), labs one Observation per LOINC-coded value with the lab's limit as
``referenceRange``, drugs given as MedicationAdministrations, vasopressors and everything without a
standard code as the project's local codes.  Importing what this writes stores the same payloads."""

from __future__ import annotations

import json
from typing import Any

from monitoring.models import Observation, ObservationKind, ObservationStatus

from . import codes

OBSERVATION_ID_SYSTEM = "https://carttrack.org/fhir/sid/observation"

#: case-file field → (LOINC, UCUM unit) for export (each field's first code in ``codes.CODES``).
FIELD_LOINC: dict[str, tuple[str, str]] = {}
for _code in codes.CODES.values():
    if _code.field is not None and _code.field.name not in FIELD_LOINC:
        FIELD_LOINC[_code.field.name] = (_code.code, _code.field.units[0])
        for unit in _code.field.units[1:]:
            alternative = codes.FIELD_FOR_UNIT.get((_code.field.name, unit))
            if alternative:
                FIELD_LOINC.setdefault(alternative, (_code.code, unit))
#: limit field → the value field whose referenceRange carries it
LIMIT_OF: dict[str, tuple[str, str]] = {}
for _code in codes.CODES.values():
    f = _code.field
    if f is not None:
        for key, limit in (("high", f.range_high), ("low", f.range_low)):
            if limit:
                LIMIT_OF[limit] = (f.name, key)
_PANEL_FIELDS = {"sbp", "dbp", "spo2", "o2_flow_l_min", "fio2", "vasopressors", "o2_device"}


def _quantity(value: Any, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": codes.UCUM, "code": unit}


def _concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding], **({"text": display} if display else {})}


def _category(code: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": code}]}]


class RowResources:
    """The resources of one row; ``refs`` are their ``Type/id`` (what a grade's derivedFrom names)."""

    def __init__(self, row: Observation, subject: dict[str, Any]):
        self.row = row
        self.subject = subject
        self.resources: list[dict[str, Any]] = []

    @property
    def refs(self) -> list[str]:
        return [f"{r['resourceType']}/{r['id']}" for r in self.resources]

    def _status(self) -> str:
        return "amended" if self.row.status == ObservationStatus.AMENDED else "final"

    def _observation(self, part: str, category: str, code: dict[str, Any], **values: Any) -> dict[str, Any]:
        part = part.replace("_", "-")  # a FHIR id is [A-Za-z0-9-.]
        resource = {
            "resourceType": "Observation",
            "id": f"{self.row.pk}-{part}",
            "identifier": [{"system": OBSERVATION_ID_SYSTEM, "value": f"{self.row.pk}-{part}"}],
            "status": self._status(),
            "category": _category(category),
            "code": code,
            "subject": self.subject,
            "effectiveDateTime": self.row.observed_at.isoformat(),
            **values,
        }
        if category == "vital-signs":
            resource["meta"] = {"profile": [codes.VITAL_SIGNS_PROFILE]}
        self.resources.append(resource)
        return resource

    def _loinc(self, field: str) -> dict[str, Any]:
        loinc, _unit = FIELD_LOINC[field]
        return _concept(codes.LOINC, loinc, codes.CODES[loinc].display)

    def _component(self, field: str, value: Any) -> dict[str, Any]:
        unit = FIELD_LOINC[field][1]
        return {"code": self._loinc(field), "valueQuantity": _quantity(value, unit)}

    @staticmethod
    def _field(name: str, value: Any) -> dict[str, Any]:
        return {"code": _concept(codes.LOCAL_FIELD, name), "valueString": json.dumps(value)}

    def _record(self, kind: str, fields: dict[str, Any], category: str) -> None:
        if not fields:
            return
        components = []
        total = None
        for name, value in fields.items():
            if name == "ice" and isinstance(value, dict):
                for item in codes.ICE_ITEMS:
                    if item in value:
                        components.append(
                            {"code": _concept(codes.LOCAL_ICE_ITEM, item), "valueInteger": value[item]}
                        )
                items = [value.get(i) for i in codes.ICE_ITEMS]
                total = sum(items) if all(isinstance(i, int) for i in items) else None
            else:
                components.append(
                    {"code": _concept(codes.LOCAL_FIELD, name), "valueString": json.dumps(value)}
                )
        values: dict[str, Any] = {"component": components}
        if total is not None:
            values["valueInteger"] = total
        self._observation(
            f"{codes.RECORD_PREFIX}{kind}",
            category,
            _concept(codes.LOCAL_OBSERVATION, f"{codes.RECORD_PREFIX}{kind}", f"CAR-T Track {kind} record"),
            **values,
        )

    def vitals(self, payload: dict[str, Any]) -> None:
        rest = {k: v for k, v in payload.items() if k not in _PANEL_FIELDS}
        for field in ("temp_c", "temp_f", "hr", "rr"):
            if field in rest:
                unit = FIELD_LOINC[field][1]
                self._observation(
                    field, "vital-signs", self._loinc(field), valueQuantity=_quantity(rest.pop(field), unit)
                )
        if "sbp" in payload or "dbp" in payload:
            self._observation(
                "bp",
                "vital-signs",
                _concept(codes.LOINC, "85354-9", codes.CODES["85354-9"].display),
                component=[self._component(f, payload[f]) for f in ("sbp", "dbp") if f in payload]
                + [self._field(f, rest.pop(f)) for f in ("map", "fluid_bolus_for_hypotension") if f in rest],
            )
        oxygen = [f for f in ("o2_flow_l_min", "fio2") if f in payload]
        fio2 = payload.get("fio2")
        values = {
            "o2_flow_l_min": payload.get("o2_flow_l_min"),
            "fio2": fio2 * 100 if fio2 is not None and fio2 <= 1 else fio2,
        }
        with_device = "o2_device" in payload
        # The oxygen given travels with its device (a flow or FiO2 is only valid with a device).
        oxygen_components = [self._component(f, values[f]) for f in oxygen]
        oxygen_components += (
            [self._field("o2_for_comfort_only", rest.pop("o2_for_comfort_only"))]
            if (with_device and "o2_for_comfort_only" in rest)
            else []
        )
        if "spo2" in payload:
            self._observation(
                "spo2",
                "vital-signs",
                self._loinc("spo2"),
                valueQuantity=_quantity(payload["spo2"], "%"),
                **({"component": oxygen_components} if oxygen_components and not with_device else {}),
            )
        elif not with_device:
            for f in oxygen:
                unit = FIELD_LOINC[f][1]
                self._observation(f, "vital-signs", self._loinc(f), valueQuantity=_quantity(values[f], unit))
        if with_device:
            self._observation(
                "device",
                "vital-signs",
                _concept(codes.LOCAL_OBSERVATION, codes.O2_DEVICE_CODE, "Oxygen delivery device"),
                valueCodeableConcept=_concept(codes.LOCAL_O2_DEVICE, payload["o2_device"]),
                **({"component": oxygen_components} if oxygen_components else {}),
            )
        if "vasopressors" in payload:
            self._observation(
                "vasopressors",
                "vital-signs",
                _concept(codes.LOCAL_OBSERVATION, codes.VASOPRESSORS_CODE, "Vasopressors running"),
                **(
                    {
                        "component": [
                            {
                                "code": _concept(codes.LOCAL_OBSERVATION, "vasopressor"),
                                "valueCodeableConcept": _concept(codes.LOCAL_DRUG, d),
                            }
                            for d in payload["vasopressors"]
                        ]
                    }
                    if payload["vasopressors"]
                    else {"valueString": "none"}
                ),
            )
        self._record("vitals", rest, "vital-signs")

    def lab(self, payload: dict[str, Any]) -> None:
        rest = dict(payload)
        for field in payload:
            if field not in FIELD_LOINC or field in LIMIT_OF:
                continue
            unit = FIELD_LOINC[field][1]
            values: dict[str, Any] = {"valueQuantity": _quantity(rest.pop(field), unit)}
            limits = {
                key: rest.pop(limit) for limit, (of, key) in LIMIT_OF.items() if of == field and limit in rest
            }
            if limits:
                values["referenceRange"] = [{key: _quantity(v, unit) for key, v in limits.items()}]
            self._observation(field, "laboratory", self._loinc(field), **values)
        self._record("lab", rest, "laboratory")

    def medication(self, payload: dict[str, Any]) -> None:
        resource: dict[str, Any] = {
            "resourceType": "MedicationAdministration",
            "id": f"{self.row.pk}-med",
            "identifier": [{"system": OBSERVATION_ID_SYSTEM, "value": f"{self.row.pk}-med"}],
            "status": "completed",
            "medicationCodeableConcept": _concept(codes.LOCAL_DRUG, payload["drug"], payload["drug"]),
            "subject": self.subject,
            "effectiveDateTime": self.row.observed_at.isoformat(),
        }
        dosage: dict[str, Any] = {}
        if payload.get("dose_mg") is not None:
            dosage["dose"] = _quantity(payload["dose_mg"], "mg")
        if payload.get("route"):
            dosage["route"] = {"text": payload["route"]}
        if dosage:
            resource["dosage"] = dosage
        if "for_crs_icans" in payload:
            resource["extension"] = [
                {"url": codes.FOR_CRS_ICANS_EXT, "valueBoolean": bool(payload["for_crs_icans"])}
            ]
        self.resources.append(resource)


def row_resources(row: Observation, subject: dict[str, Any]) -> RowResources:
    """``subject``: the Reference to the Patient (with its MRN identifier, so the resources can be
    imported on their own)."""
    out = RowResources(row, subject)
    payload = dict(row.payload)
    if row.kind == ObservationKind.VITALS:
        out.vitals(payload)
    elif row.kind == ObservationKind.LAB:
        out.lab(payload)
    elif row.kind == ObservationKind.MEDICATION:
        out.medication(payload)
    else:
        out._record(
            row.kind, payload, "exam" if row.kind in ("neuro", "event", "clinical_flag") else "survey"
        )
    return out


def location(row: Observation, resource_type: str) -> str:
    """``Type/id`` of what the export writes for ``row`` as ``resource_type`` (an import response's
    ``location``, docs/interop.md): the first such resource of the row, else the row's first resource (a
    vasopressor's MedicationAdministration is stored and exported as the ``vasopressors`` Observation,
    CRS-14)."""
    refs = row_resources(row, {}).refs
    return next((r for r in refs if r.startswith(f"{resource_type}/")), refs[0])
