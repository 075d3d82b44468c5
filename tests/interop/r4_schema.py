"""FHIR-1: the independent R4 validator of the tests, HL7's own FHIR R4 JSON schema
(``tests/data/fhir-r4``, its origin in the README there) checked by the ``jsonschema`` library.  A
resource is validated against the schema's definition of its type (so an error names the element,
not the 146 alternatives of the whole-schema ``oneOf``); a Bundle's entries one by one, each naming
its resource type and id."""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path

from jsonschema import Draft6Validator

SCHEMA = Path(__file__).parents[1] / "data" / "fhir-r4" / "fhir.schema.json.gz"


@cache
def _schema() -> dict:
    with gzip.open(SCHEMA, "rt", encoding="utf-8") as f:
        return json.load(f)


@cache
def _validator(resource_type: str) -> Draft6Validator | None:
    schema = _schema()
    if resource_type not in schema["discriminator"]["mapping"]:
        return None
    return Draft6Validator({"$ref": f"#/definitions/{resource_type}", "definitions": schema["definitions"]})


def errors(resource: dict) -> list[str]:
    """What the R4 schema finds wrong with ``resource`` (a Bundle: with each entry's resource)."""
    resource_type = resource.get("resourceType", "?")
    if resource_type == "Bundle":
        # The envelope is checked with each entry's resource set aside (the schema would test each
        # against every resource type), then each resource on its own.
        envelope = {
            **resource,
            "entry": [{k: v for k, v in e.items() if k != "resource"} for e in resource.get("entry", [])],
        }
        found = [f"Bundle/{resource.get('id', '')}: {m}" for m in _messages(envelope, "Bundle")]
        for entry in resource.get("entry", []):
            for inner in (entry.get("resource"), entry.get("response", {}).get("outcome")):
                if inner is not None:
                    found += errors(inner)
        return found
    return [f"{resource_type}/{resource.get('id', '')}: {m}" for m in _messages(resource, resource_type)]


def _messages(resource: dict, resource_type: str) -> list[str]:
    validator = _validator(resource_type)
    if validator is None:
        return [f"resourceType: {resource_type!r} is not a FHIR R4 resource type"]
    return [
        f"{'.'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
        for e in sorted(validator.iter_errors(resource), key=lambda e: list(e.path))
    ]


def validate(resource: dict) -> None:
    """Raises AssertionError naming the resource type, id and each schema error."""
    found = errors(resource)
    assert not found, "not valid FHIR R4 (4.0.1 JSON schema):\n" + "\n".join(found[:20])
