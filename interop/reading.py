"""One FHIR resource read into the core's vocabulary: one module because code, unit and value map together.

Reading one imported FHIR R4 resource into the clinical core's vocabulary (FHIR-2…FHIR-5, E-2).

An ``Observation`` or ``MedicationAdministration`` becomes a :class:`Reading`: the observation kind,
the case-file payload (values in the units the core accepts, converted by UCUM where needed), the
time, the identifier, the status and who it is about.  Nothing here validates a clinical value:
ranges and cross-field rules are the core's (``monitoring.services`` runs them), so an import is
refused with the same message as the tablet and the REST API.  What cannot be mapped raises
:class:`EntryRefused` naming the code or unit and what is accepted."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from . import codes, units

#: Observation statuses an import takes (E-1) and what they mean here.
OBSERVATION_STATUSES = ("final", "amended", "corrected", "entered-in-error")
#: MedicationAdministration statuses: given (completed, in-progress) or voided.
ADMINISTRATION_STATUSES = ("completed", "in-progress", "entered-in-error")
CORRECTION_STATUSES = frozenset({"amended", "corrected"})


@dataclass(frozen=True)
class Problem:
    """One reason an entry is refused, for its OperationOutcome issue."""

    text: str
    expression: str = ""
    code: str = "code-invalid"  # the FHIR issue-type code


class EntryRefused(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.text for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Reading:
    resource_type: str
    identifier: tuple[str, str]  # (system, value)
    status: str  # final, amended, corrected, entered-in-error (administrations: final or voided)
    patient: tuple[str, str] | None  # the subject's identifier (system, value), None = in-bundle ref
    patient_ref: str | None
    kind: str
    payload: dict[str, Any]
    observed_at: str
    label: str  # "Observation 8310-5 (Body temperature)", for messages
    source_system: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def voids(self) -> bool:
        return self.status == "entered-in-error"

    @property
    def corrects(self) -> bool:
        return self.status in CORRECTION_STATUSES


def _identifier(resource: dict, where: str) -> tuple[str, str]:
    for ident in resource.get("identifier") or []:
        if isinstance(ident, dict) and ident.get("system") and ident.get("value"):
            return str(ident["system"]), str(ident["value"])
    raise EntryRefused(
        [
            Problem(
                f"{where}: an identifier with system and value is required (filler order number + code + "
                "time, or the eMAR administration id), so that sending it again changes nothing (E-1)",
                f"{resource.get('resourceType', 'Resource')}.identifier",
                "required",
            )
        ]
    )


def _subject(resource: dict, where: str) -> tuple[tuple[str, str] | None, str | None]:
    subject = resource.get("subject") or {}
    ident = subject.get("identifier") or {}
    if ident.get("system") and ident.get("value"):
        return (str(ident["system"]), str(ident["value"])), None
    ref = subject.get("reference")
    if isinstance(ref, str) and ref.startswith("Patient?identifier=") and "|" in ref:
        system, value = ref.split("=", 1)[1].split("|", 1)
        return (system, value), None
    if isinstance(ref, str) and ref:
        return None, ref
    raise EntryRefused(
        [
            Problem(
                f"{where}: subject must name the patient by identifier (the site's MRN system), by "
                "'Patient?identifier=system|value', or by reference to a Patient entry of the bundle",
                f"{resource.get('resourceType')}.subject",
                "required",
            )
        ]
    )


def _time(resource: dict, where: str) -> str:
    for key in ("effectiveDateTime", "effectiveInstant"):
        if resource.get(key):
            return str(resource[key])
    period = resource.get("effectivePeriod") or {}
    if period.get("start"):
        return str(period["start"])
    raise EntryRefused(
        [
            Problem(
                f"{where}: effectiveDateTime (or effectivePeriod.start) is required",
                f"{resource.get('resourceType')}.effective[x]",
                "required",
            )
        ]
    )


def _codings(concept: Any) -> list[tuple[str, str]]:
    if not isinstance(concept, dict):
        return []
    return [
        (str(c.get("system", "")), str(c.get("code", "")))
        for c in concept.get("coding") or []
        if isinstance(c, dict)
    ]


def _quantity(quantity: Any, fld: codes.Field, where: str, expression: str) -> tuple[str, float] | None:
    """(case-file field, value) of a valueQuantity, converted by UCUM into an accepted unit."""
    if not isinstance(quantity, dict) or quantity.get("value") is None:
        return None
    value = quantity["value"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EntryRefused([Problem(f"{where}: {expression}.value must be a number", expression, "value")])
    system = quantity.get("system")
    unit = quantity.get("code") if system == codes.UCUM else None
    if unit is None and system not in (None, codes.UCUM):
        raise EntryRefused(
            [
                Problem(
                    f"{where}: unit system {system!r} is not UCUM; accepted: {' or '.join(fld.units)} "
                    f"({codes.UCUM})",
                    f"{expression}.system",
                )
            ]
        )
    unit = unit or quantity.get("unit")
    if not unit:
        raise EntryRefused(
            [Problem(f"{where}: a UCUM unit is required; accepted: {' or '.join(fld.units)}", expression)]
        )
    try:
        converted = units.convert(float(value), str(unit), fld.units)
    except units.UnitNotConvertible as exc:
        raise EntryRefused(
            [Problem(f"{where}: unit {exc}; accepted: {' or '.join(fld.units)}", f"{expression}.code")]
        ) from exc
    name = codes.FIELD_FOR_UNIT.get((fld.name, converted.unit), fld.name)
    number = converted.value
    return name, int(number) if float(number).is_integer() and isinstance(value, int) else number


def _range_limits(resource: dict, fld: codes.Field, where: str) -> dict[str, float]:
    """The reporting lab's limit (ULN, LLN or cut-off) from referenceRange, where the core uses one."""
    limits: dict[str, float] = {}
    for rng in resource.get("referenceRange") or []:
        if not isinstance(rng, dict):
            continue
        for key, target in (("high", fld.range_high), ("low", fld.range_low)):
            if target and rng.get(key) and target not in limits:
                got = _quantity(rng[key], codes.Field(target, fld.units), where, f"referenceRange.{key}")
                if got is not None:
                    limits[target] = got[1]
    return limits


def _observation_values(resource: dict, where: str) -> tuple[str, dict[str, Any], str]:
    codings = _codings(resource.get("code"))
    for system, code in codings:
        if system == codes.LOINC and code in codes.CODES:
            return _loinc_values(resource, codes.CODES[code], where)
        if system == codes.LOCAL_OBSERVATION and code == codes.O2_DEVICE_CODE:
            return _device_values(resource, where)
        if system == codes.LOCAL_OBSERVATION and code == codes.VASOPRESSORS_CODE:
            return _vasopressor_values(resource, where)
        if system == codes.LOCAL_OBSERVATION and code == codes.ICE_CODE:
            return _record_values(resource, "neuro", where)
        if system == codes.LOCAL_OBSERVATION and code.startswith(codes.RECORD_PREFIX):
            kind = code.removeprefix(codes.RECORD_PREFIX)
            if kind in codes.RECORD_KINDS:
                return _record_values(resource, kind, where)
    sent = ", ".join(f"{s or '(no system)'}|{c}" for s, c in codings) or "none"
    raise EntryRefused(
        [
            Problem(
                f"{where}: code {sent} is not one CAR-T Track takes; accepted: LOINC "
                f"{codes.accepted_loinc_text()}; local {codes.LOCAL_OBSERVATION}|{codes.O2_DEVICE_CODE}, "
                f"|{codes.VASOPRESSORS_CODE}, |{codes.ICE_CODE} and |{codes.RECORD_PREFIX}<kind> for "
                f"{', '.join(codes.RECORD_KINDS)}",
                "Observation.code",
            )
        ]
    )


def _loinc_values(resource: dict, code: codes.Code, where: str) -> tuple[str, dict[str, Any], str]:
    where = f"{where} {code.code} ({code.display})"
    payload: dict[str, Any] = {}
    if code.field is not None:
        got = _quantity(resource.get("valueQuantity"), code.field, where, "Observation.valueQuantity")
        if got is not None:
            payload[got[0]] = got[1]
            payload.update(_range_limits(resource, code.field, where))
    payload.update(_components(resource, code.components, where))
    return code.kind, payload, where


def _components(resource: dict, accepted: tuple[tuple[str, codes.Field], ...], where: str) -> dict[str, Any]:
    """LOINC components of ``accepted`` (converted by UCUM) and case-file fields (``case-file-field``,
    value as JSON text) that travel with them, e.g. a fluid bolus with its blood pressure."""
    known = dict(accepted)
    payload: dict[str, Any] = {}
    for i, component in enumerate(resource.get("component") or []):
        codings = _codings((component or {}).get("code"))
        local = next((c for s, c in codings if s == codes.LOCAL_FIELD), None)
        if local is not None and isinstance(component.get("valueString"), str):
            try:
                payload[local] = json.loads(component["valueString"])
            except ValueError as exc:
                raise EntryRefused(
                    [
                        Problem(
                            f"{where}: field {local} is not JSON text",
                            f"Observation.component[{i}].valueString",
                        )
                    ]
                ) from exc
            continue
        comp_codes = [c for s, c in codings if s == codes.LOINC]
        fld = next((known[c] for c in comp_codes if c in known), None)
        if fld is None:
            names = ", ".join(c for c, _ in accepted) or "none"
            raise EntryRefused(
                [
                    Problem(
                        f"{where}: component code {', '.join(comp_codes) or 'without LOINC'} is not "
                        f"accepted here; accepted components: {names}",
                        f"Observation.component[{i}].code",
                    )
                ]
            )
        got = _quantity(
            component.get("valueQuantity"), fld, where, f"Observation.component[{i}].valueQuantity"
        )
        if got is not None:
            payload[got[0]] = got[1]
    return payload


def _device_values(resource: dict, where: str) -> tuple[str, dict[str, Any], str]:
    where = f"{where} {codes.O2_DEVICE_CODE}"
    for system, code in _codings(resource.get("valueCodeableConcept")):
        if system == codes.LOCAL_O2_DEVICE and code in codes.DEVICE_CODES:
            # The oxygen given travels with its device (flow and FiO2 only with a device, INPUT rules).
            oxygen = codes.CODES["59408-5"].components
            return "vitals", {"o2_device": code, **_components(resource, oxygen, where)}, where
    raise EntryRefused(
        [
            Problem(
                f"{where}: the device must be coded in {codes.LOCAL_O2_DEVICE}; accepted: "
                f"{', '.join(sorted(codes.DEVICE_CODES))}",
                "Observation.valueCodeableConcept",
            )
        ]
    )


def _vasopressor_values(resource: dict, where: str) -> tuple[str, dict[str, Any], str]:
    """The vasopressors running (CRS-14): one component per drug; none = explicitly none (A-14)."""
    where = f"{where} {codes.VASOPRESSORS_CODE}"
    drugs = []
    for i, component in enumerate(resource.get("component") or []):
        drug = next(
            (c for s, c in _codings((component or {}).get("valueCodeableConcept")) if s == codes.LOCAL_DRUG),
            None,
        )
        if drug not in codes.VASOPRESSOR_DRUGS:
            raise EntryRefused(
                [
                    Problem(
                        f"{where}: a vasopressor must be coded in {codes.LOCAL_DRUG}; accepted: "
                        f"{', '.join(sorted(codes.VASOPRESSOR_DRUGS))}",
                        f"Observation.component[{i}].valueCodeableConcept",
                    )
                ]
            )
        drugs.append(drug)
    return "vitals", {"vasopressors": drugs}, where


def _record_values(resource: dict, kind: str, where: str) -> tuple[str, dict[str, Any], str]:
    """A case-file record of ``kind``: ``case-file-field`` components (value as JSON text) and ICE
    items (``ice-item`` components, valueInteger)."""
    where = f"{where} {codes.RECORD_PREFIX}{kind}"
    payload: dict[str, Any] = {}
    for i, component in enumerate(resource.get("component") or []):
        codings = _codings((component or {}).get("code"))
        item = next((c for s, c in codings if s == codes.LOCAL_ICE_ITEM), None)
        name = next((c for s, c in codings if s == codes.LOCAL_FIELD), None)
        if item in codes.ICE_ITEMS:
            payload.setdefault("ice", {})[item] = component.get("valueInteger")
        elif name and isinstance(component.get("valueString"), str):
            try:
                payload[name] = json.loads(component["valueString"])
            except ValueError as exc:
                raise EntryRefused(
                    [
                        Problem(
                            f"{where}: field {name} is not JSON text",
                            f"Observation.component[{i}].valueString",
                        )
                    ]
                ) from exc
        else:
            raise EntryRefused(
                [
                    Problem(
                        f"{where}: a component is an ICE item ({codes.LOCAL_ICE_ITEM}: "
                        f"{', '.join(codes.ICE_ITEMS)}) or a case-file field ({codes.LOCAL_FIELD}) with "
                        "valueString",
                        f"Observation.component[{i}].code",
                    )
                ]
            )
    return kind, payload, where


def _administration_values(resource: dict, where: str) -> tuple[str, dict[str, Any], str]:
    drug = next(
        (c for s, c in _codings(resource.get("medicationCodeableConcept")) if s == codes.LOCAL_DRUG), None
    )
    if drug in codes.VASOPRESSOR_DRUGS:
        # A vasopressor running is part of the vitals' vasopressor domain (CRS-14, A-14).
        return "vitals", {"vasopressors": [drug]}, f"{where} {drug}"
    if drug not in codes.DOSE_DRUGS:
        raise EntryRefused(
            [
                Problem(
                    f"{where}: medication {drug or 'without a ' + codes.LOCAL_DRUG + ' code'} is not "
                    f"one CAR-T Track takes; accepted ({codes.LOCAL_DRUG}): "
                    f"{', '.join(sorted(codes.DOSE_DRUGS | codes.VASOPRESSOR_DRUGS))}",
                    "MedicationAdministration.medicationCodeableConcept",
                )
            ]
        )
    where = f"{where} {drug}"
    payload: dict[str, Any] = {"drug": drug}
    dosage = resource.get("dosage") or {}
    got = _quantity(
        dosage.get("dose"), codes.Field("dose_mg", ("mg",)), where, "MedicationAdministration.dosage.dose"
    )
    if got is not None:
        payload["dose_mg"] = got[1]
    route = (dosage.get("route") or {}).get("text")
    if route:
        payload["route"] = str(route)
    for ext in resource.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == codes.FOR_CRS_ICANS_EXT and "valueBoolean" in ext:
            payload["for_crs_icans"] = ext["valueBoolean"]
    return "medication", payload, where


def read(index: int, resource: dict) -> Reading:
    """``resource`` (entry ``index`` of the bundle) in the core's vocabulary, or EntryRefused."""
    rtype = resource.get("resourceType")
    where = f"entry[{index}] {rtype}"
    if rtype == "Observation":
        statuses = OBSERVATION_STATUSES
    elif rtype == "MedicationAdministration":
        statuses = ADMINISTRATION_STATUSES
    else:
        raise EntryRefused(
            [Problem(f"{where}: accepted resources are Observation, MedicationAdministration and Patient")]
        )
    status = resource.get("status")
    if status not in statuses:
        raise EntryRefused(
            [
                Problem(
                    f"{where}: status {status!r} is not accepted; accepted: {', '.join(statuses)}",
                    f"{rtype}.status",
                )
            ]
        )
    identifier = _identifier(resource, where)
    patient, patient_ref = _subject(resource, where)
    observed_at = _time(resource, where)
    if rtype == "Observation":
        kind, payload, label = _observation_values(resource, where)
    else:
        kind, payload, label = _administration_values(resource, where)
        status = "entered-in-error" if status == "entered-in-error" else "final"
    return Reading(
        resource_type=rtype,
        identifier=identifier,
        status=status,
        patient=patient,
        patient_ref=patient_ref,
        kind=kind,
        payload=payload,
        observed_at=observed_at,
        label=label,
        source_system=str((resource.get("meta") or {}).get("source") or ""),
    )
