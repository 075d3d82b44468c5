"""The observation write path's hand-written statements equal their ORM equivalents, on PostgreSQL
and on SQLite (the embedded default the README's first command runs on)."""

from __future__ import annotations

import pytest

from tests.embedded import run_on_sqlite

from . import write_path_checks as checks


@pytest.mark.django_db
def test_lock_equals_the_orm_on_postgresql():
    assert checks.check_lock(checks.build_ward()) == []


@pytest.mark.django_db
def test_unseen_rows_equal_the_orm_on_postgresql():
    assert checks.check_unseen(checks.build_ward()) == []


SQLITE_SCRIPT = """
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from tests.monitoring import write_path_checks as checks
from monitoring import services
ward = checks.build_ward()
problems = checks.check_lock(ward) + checks.check_unseen(ward)
# The whole service on SQLite: record, replay, grade from the course cache.
import uuid
from django.utils import timezone
key = uuid.uuid4()
args = dict(infusion=ward["mine"].pk, kind="vitals", payload={"temp_c": 39.2, "hr": 120},
            observed_at=timezone.now(), recorded_by=ward["nurse"], client_uuid=key,
            within=services.InfusionScope.for_user(ward["nurse"]))
obs, ev, created = services.observation_record(**args)
again, _ev, created_again = services.observation_record(**args)
# The token statement (accounts.tokens) on SQLite: dates, JSON scopes and roles converted.
from accounts.tokens import hash_key, issue_api_token, token_with_user_and_roles
_token, key = issue_api_token(
    name="gw", user=ward["nurse"], team=ward["first"], scopes=["observations:write"]
)
token = token_with_user_and_roles(hash_key(key))
print(json.dumps({"problems": problems, "created": created, "replayed": not created_again,
                  "same": again.pk == obs.pk, "crs": ev.crs_grade, "token_usable": token.is_usable(),
                  "scopes": token.scopes,
                  "roles": {str(k): sorted(v) for k, v in token.user.team_roles().items()},
                  "team": token.team_id == ward["first"].pk}))
"""


def test_the_same_statements_on_sqlite(tmp_path):
    result = run_on_sqlite(SQLITE_SCRIPT, tmp_path / "embedded.sqlite3")
    roles = result.pop("roles")
    assert result == {
        "problems": [],
        "created": True,
        "replayed": True,
        "same": True,
        "crs": 1,
        "token_usable": True,
        "scopes": ["observations:write"],
        "team": True,
    }
    assert list(roles.values()) == [["nurse"]]
