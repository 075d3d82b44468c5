"""Property-based fuzzing of the whole API against its own OpenAPI schema (schemathesis 3.x).

Every operation gets ~25 generated requests (valid and invalid bodies, odd query strings, random
ids) through the Django WSGI app, authenticated as a user who holds every role in one care team,
with real rows (patient, infusion, observations, an alert) in the database.  Checks: no 5xx ever,
and every documented response matches its schema.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import schemathesis
from django.conf import settings as settings_module
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from accounts.models import Membership, Role
from alerts.models import Alert
from alerts.services import alert_process_evaluation
from monitoring.services import observation_record
from tests import factories

from .conftest import vitals_body

pytestmark = pytest.mark.timeout(240)


def _hypothesis_jsonschema_compat() -> None:
    """hypothesis-jsonschema 0.23.1 (pulled in by schemathesis 3.x) still calls ``many.more()``,
    which the locked Hypothesis 6.170 replaced by ``with many(...) as e: for _ in e``; without this
    shim every object schema fails to generate.  Remove once the lock pins a compatible pair."""
    from hypothesis.internal.conjecture import utils as cu
    from hypothesis_jsonschema import _from_schema

    if hasattr(cu.many, "more") or getattr(_from_schema.cu, "_carttrack_compat", False):
        return

    class CompatMany(cu.many):
        def more(self) -> bool:
            if self._depth is None:
                self.__enter__()
            self._finish_element()
            if self._done or not self._decide():
                self._closed = True
                return False
            self.count += 1
            self._in_element = True
            self._rejected = False
            return True

    class CompatUtils:
        _carttrack_compat = True
        many = CompatMany

        def __getattr__(self, name):
            return getattr(cu, name)

    _from_schema.cu = CompatUtils()


_hypothesis_jsonschema_compat()


@pytest.fixture
def fuzz_token(team, product, other_team):
    user = factories.make_user(Role.PHYSICIAN, team, username="fuzzer")
    for role in (Role.NURSE, Role.COORDINATOR):
        Membership.objects.create(user=user, team=team, role=role)
    patient = factories.make_patient(team)
    infusion = factories.make_infusion(patient, product)
    for hours, temp in ((1, 37.0), (2, 39.2)):
        body = vitals_body(infusion, temp_c=temp, vasopressors=["norepinephrine"] if temp > 39 else [])
        _obs, evaluation, _ = observation_record(
            infusion=infusion,
            kind="vitals",
            payload=body["payload"],
            observed_at=infusion.infused_at + timedelta(hours=hours),
            recorded_by=user,
            client_uuid=body["client_uuid"],
            source="api",
        )
    alert_process_evaluation(evaluation_id=evaluation.pk)
    factories.make_infusion(factories.make_patient(other_team), product)
    FUZZ_IDS.update(
        patients=patient.pk,
        infusions=infusion.pk,
        observations=_obs.pk,
        grades=evaluation.pk,
        alerts=Alert.objects.get(infusion=infusion, syndrome="crs").pk,
    )
    # A signed-in session (with its CSRF pair) reaches every endpoint the person may use, as the removed
    # personal DRF token did; hostile bearer headers are fuzzed in tests/security/test_fuzz_screens.py.
    client = Client()
    client.force_login(user)
    csrf = "fuzzcsrf" * 4
    return {
        "Cookie": f"{settings_module.SESSION_COOKIE_NAME}={client.session.session_key}; "
        f"{settings_module.CSRF_COOKIE_NAME}={csrf}",
        "X-CSRFToken": csrf,
    }


#: Real ids per collection, given to schemathesis as explicit examples so that the detail and
#: action endpoints are exercised on existing rows too (not only on random, missing ids).
FUZZ_IDS: dict[str, int] = {}


def with_id_examples(raw: dict) -> dict:
    for path, operations in raw["paths"].items():
        collection = path.strip("/").split("/")[1]
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] == "id" and collection in FUZZ_IDS:
                    parameter["example"] = str(FUZZ_IDS[collection])
    return raw


@pytest.fixture
def wsgi_app(db):
    """The real WSGI handler, minus closing the DB connection at request end (as Django's test
    client does): the test's transaction must survive each request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(wsgi_app, fuzz_token):
    raw = with_id_examples(SchemaGenerator().get_schema(request=None, public=True))
    return schemathesis.from_dict(raw, app=wsgi_app, base_url="/", force_schema_version="30")


schema = schemathesis.from_pytest_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_api_never_errors_and_matches_its_schema(case, fuzz_token):
    response = case.call_wsgi(headers=fuzz_token)
    case.validate_response(response, checks=(not_a_server_error, response_schema_conformance))
