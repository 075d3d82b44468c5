"""Bad input never breaks the import: arbitrary JSON, and valid bundles with any element replaced by
arbitrary JSON, answer 4xx or 200 with an OperationOutcome, never 500 (hypothesis)."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import load, post_bundle

pytestmark = pytest.mark.django_db

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from paths(item, (*prefix, i))


def replaced(bundle, path, new):
    out = copy.deepcopy(bundle)
    target = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_element_replaced_by_any_json_is_answered_not_crashed(data, gateway, infusion):
    base = load("febrile_hypotensive_norepinephrine", mrn=infusion.patient.mrn)
    base["type"] = data.draw(st.sampled_from(["transaction", "batch"]))
    all_paths = [p for p in paths(base) if p]
    path = data.draw(st.sampled_from(all_paths))
    response = post_bundle(gateway, replaced(base, path, data.draw(JSON)))
    assert response.status_code < 500, (path, response.content[:500])
    assert response.json()["resourceType"] in ("Bundle", "OperationOutcome")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=JSON)
def test_any_json_body_is_answered_not_crashed(body, gateway, infusion):
    response = post_bundle(gateway, body)
    assert response.status_code < 500, response.content[:500]


@pytest.mark.parametrize("resource", [True, 5, "Patient", {"resourceType": "Patient", "identifier": 5}])
def test_a_malformed_entry_is_refused_by_name(resource, gateway, infusion):
    bundle = load("bp_panel", mrn=infusion.patient.mrn)
    bundle["entry"].append({"resource": resource})
    body = post_bundle(gateway, bundle).json()
    assert body["entry"][0]["response"]["status"] == "201 Created"
    refused = body["entry"][1]["response"]
    assert refused["status"] == "422 Unprocessable Entity"
    assert refused["outcome"]["issue"][0]["diagnostics"].startswith("entry[1]")
