"""An independent checker of the HL7 AdverseEvent Clinical Research R4 backport (1.0.1) for the
AdverseEvents of an exported Bundle (docs/interop.md "Export"): the R4 JSON schema checks R4 base
only, so the profile's own rules that the export relies on are checked here, written from the
profile's definitions and not from the export's code (nothing of ``interop`` is imported).

Checked (``violations``): ``meta.profile``; ``actuality`` fixed to actual; the ``status`` modifier
extension (1..1, event-status codes); ``subject`` a Patient of the bundle; ``event`` coded ICD-10-CM
D89.831–D89.835 / D89.839, G92.00–G92.05 or the local toxicity code; at most one ``ae-grade`` with a
valueCodeableConcept, present on every graded toxicity; ``resolve-date`` a valueDateTime exactly when
the event is resolved; each ``mitigating-action`` one ``item`` whose valueReference is a
MedicationAdministration of the bundle; at least one ``suspect-entity`` whose ``instance`` is the
product in the bundle and which has a ``causality``; the profile's 0..0 elements (``suspectEntity``,
``resultingCondition``, ``subjectMedicalHistory``, ``referenceDocument``) absent; ``resultingEffect`` a
Condition of the bundle; every extension URL one the profile defines, exactly; ``outcome`` from the
profile's value set.

The profile's required ``seriousness``, ``study`` and ``outcome`` must be there; where the export has
no value it states why with FHIR's data-absent-reason extension (a code of that value set), and
``stated_absent`` lists those: ``seriousness`` (an investigator's assessment CAR-T Track does not
record), ``study`` (a ward is no research study), ``outcome`` where the grading defines no resolution
(late ICAHT, LICATS)."""

from __future__ import annotations

import re

BASE = "http://hl7.org/fhir/uv/ae-research-backport-ig/StructureDefinition"
PROFILE = f"{BASE}/AdverseEvent-clinical-research"
#: The extensions the profile defines on AdverseEvent (its ``extension contains`` list), by id.
EXTENSIONS = {
    f"{BASE}/{name}"
    for name in (
        "research-subject-ref",
        "caused-subject-to-discontinue-study",
        "seriousness-criteria",
        "ae-grade",
        "expected-in-research-study",
        "note",
        "resolve-date",
        "suspect-entity",
        "contributing-factor",
        "mitigating-action",
        "supporting-info",
        "participant",
        "resultingEffect",
    )
}
STATUS = f"{BASE}/status"
STATUS_CODES = {"in-progress", "completed", "entered-in-error", "unknown"}
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
EVENT_ICD10 = re.compile(r"^(D89\.83[1-59]|G92\.0[0-5])$")
LOCAL_TOXICITY = "https://carttrack.org/fhir/CodeSystem/toxicity"
LOCAL_TOXICITIES = {"icaht-early", "icaht-late", "iec-hs", "licats"}
UNGRADED = {"iec-hs", "licats"}  # screens, not grades (C-3, LICATS-3)
LOCAL_PRODUCT = "https://carttrack.org/fhir/CodeSystem/product"
NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
#: The R4 DataAbsentReason codes (http://terminology.hl7.org/CodeSystem/data-absent-reason).
ABSENT_CODES = {
    "unknown",
    "asked-unknown",
    "temp-unknown",
    "not-asked",
    "asked-declined",
    "masked",
    "not-applicable",
    "unsupported",
    "as-text",
    "error",
    "not-a-number",
    "negative-infinity",
    "positive-infinity",
    "not-performed",
    "not-permitted",
}
REQUIRED = ("seriousness", "study", "outcome")  # 1..1 (study 1..*) in the profile
#: adverse-event-clinical-research-outcomes codes seen in the IG's examples (NCIt)
OUTCOMES = {"C49498": "resolved", "C49494": "not resolved", "C49496": "resolving"}


def _by_ref(bundle: dict) -> dict[str, dict]:
    return {f"{e['resource']['resourceType']}/{e['resource']['id']}": e["resource"] for e in bundle["entry"]}


def _named(resource: dict, name: str) -> list[dict]:
    return [e for e in resource.get("extension", []) if e.get("url") == f"{BASE}/{name}"]


def _sub(extension: dict, url: str) -> list[dict]:
    return [e for e in extension.get("extension", []) if e.get("url") == url]


def _target(resources: dict[str, dict], value: dict | None, types: set[str]) -> dict | None:
    reference = (value or {}).get("reference", "")
    found = resources.get(reference)
    return found if found is not None and found["resourceType"] in types else None


def _is_product(resource: dict | None) -> bool:
    if resource is None:
        return False
    if resource["resourceType"] == "BiologicallyDerivedProduct":
        return True
    coding = (resource.get("code") or {}).get("coding", [])
    return any(c.get("system") == LOCAL_PRODUCT for c in coding)


def _event_toxicity(event: dict) -> str | None:
    """``crs``/``icans``/a local toxicity code, or None when the event is not coded as the profile's
    use here requires."""
    for coding in (event.get("event") or {}).get("coding", []):
        system, code = coding.get("system"), coding.get("code", "")
        if system == ICD10CM and EVENT_ICD10.match(code):
            return "crs" if code.startswith("D89") else "icans"
        if system == LOCAL_TOXICITY and code in LOCAL_TOXICITIES:
            return code
    return None


def _check(event: dict, resources: dict[str, dict]) -> list[str]:
    problems: list[str] = []
    if PROFILE not in (event.get("meta") or {}).get("profile", []):
        problems.append(f"meta.profile does not name {PROFILE}")
    if event.get("actuality") != "actual":
        problems.append(f"actuality {event.get('actuality')!r} is not the fixed 'actual'")
    status = [m for m in event.get("modifierExtension", []) if m.get("url") == STATUS]
    if len(status) != 1 or status[0].get("valueCode") not in STATUS_CODES:
        problems.append("modifierExtension status: exactly one, valueCode in-progress|completed|…")
    if _target(resources, event.get("subject"), {"Patient"}) is None:
        problems.append(f"subject {event.get('subject')} is no Patient of the bundle")
    toxicity = _event_toxicity(event)
    if toxicity is None:
        problems.append("event is not coded ICD-10-CM D89.83x / G92.0x or the local toxicity code")
    for url in [e.get("url") for e in event.get("extension", [])]:
        if url not in EXTENSIONS:
            problems.append(f"extension {url!r} is not one the profile defines")
    grades = _named(event, "ae-grade")
    if len(grades) > 1 or any(set(g) != {"url", "valueCodeableConcept"} for g in grades):
        problems.append("ae-grade: at most one, a valueCodeableConcept")
    if toxicity is not None and toxicity not in UNGRADED and not grades:
        problems.append(f"ae-grade missing on a graded toxicity ({toxicity})")
    resolved = [m.get("valueCode") for m in status] == ["completed"]
    resolve = _named(event, "resolve-date")
    if any(set(r) != {"url", "valueDateTime"} for r in resolve) or len(resolve) != int(resolved):
        problems.append("resolve-date: one valueDateTime exactly when the event is completed (resolved)")
    for action in _named(event, "mitigating-action"):
        items = _sub(action, "item")
        if set(action) != {"url", "extension"} or len(items) != 1:
            problems.append("mitigating-action: one 'item' sub-extension and no value of its own")
            continue
        if _target(resources, items[0].get("valueReference"), {"MedicationAdministration"}) is None:
            problems.append(f"mitigating-action item {items[0]} is no MedicationAdministration of the bundle")
    suspects = _named(event, "suspect-entity")
    if not suspects:
        problems.append("suspect-entity missing: the product is the suspect entity")
    for suspect in suspects:
        instance = _sub(suspect, "instance")
        kinds = {"Medication", "BiologicallyDerivedProduct"}
        if len(instance) != 1 or not _is_product(
            _target(resources, instance[0].get("valueReference"), kinds)
        ):
            problems.append("suspect-entity instance is not the product in the bundle")
        causality = _sub(suspect, "causality")
        if len(causality) != 1 or not causality[0].get("extension"):
            problems.append("suspect-entity causality: exactly one, with its sub-extensions")
    for element in ("suspectEntity", "resultingCondition", "subjectMedicalHistory", "referenceDocument"):
        if element in event:
            problems.append(f"{element} is 0..0 in the profile")
    for effect in _named(event, "resultingEffect"):
        if _target(resources, effect.get("valueReference"), {"Condition", "Observation"}) is None:
            problems.append(f"resultingEffect {effect.get('valueReference')} is not in the bundle")
    for element in REQUIRED:
        values = event.get(element)
        values = values if isinstance(values, list) else [values] if values is not None else []
        if not values:
            problems.append(f"{element} absent: the profile requires it (say why with data-absent-reason)")
        for reason in (_absent_reason(v) for v in values):
            if reason is not None and reason not in ABSENT_CODES:
                problems.append(f"{element} data-absent-reason {reason!r} is not a DataAbsentReason code")
    for coding in (event.get("outcome") or {}).get("coding", []):
        if coding.get("system") != NCIT or coding.get("code") not in OUTCOMES:
            problems.append(f"outcome {coding} is not from adverse-event-clinical-research-outcomes")
    return problems


def _events(bundle: dict) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "AdverseEvent"]


def violations(bundle: dict) -> list[str]:
    """Each problem as ``AdverseEvent/<id>: <what>``; empty when every AdverseEvent conforms."""
    resources = _by_ref(bundle)
    return [f"AdverseEvent/{event['id']}: {p}" for event in _events(bundle) for p in _check(event, resources)]


def _absent_reason(value: dict) -> str | None:
    found = [e.get("valueCode") for e in value.get("extension", []) if e.get("url") == DATA_ABSENT_REASON]
    return found[0] if found else None


def stated_absent(bundle: dict) -> list[str]:
    """The required elements the export states absent, each with its reason code."""
    out = []
    for event in _events(bundle):
        for element in REQUIRED:
            values = event.get(element)
            for value in values if isinstance(values, list) else [values] if values else []:
                reason = _absent_reason(value)
                if reason is not None:
                    out.append(f"AdverseEvent/{event['id']}: {element} absent ({reason})")
    return out
