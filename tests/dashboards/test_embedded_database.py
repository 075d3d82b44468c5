"""The demo ward's census, CSV export and handover open on SQLite, the embedded database README
command 1 runs on (PostgreSQL-only SQL here once made both answer "Something went wrong")."""

from __future__ import annotations

from tests.embedded import run_on_sqlite

DEMO_SCRIPT = """
import io, json, django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from accounts.models import User
from monitoring.models import GradeEvaluation
from dashboards.census import census_rows, latest_evaluations
from monitoring.models import Infusion

settings.TWO_FACTOR_REQUIRED = False
call_command("migrate", verbosity=0)
call_command("seed_demo", "--quiet", stdout=io.StringIO())
client = Client()
client.force_login(User.objects.get(username="demo_coordinator"))
census = client.get("/census/")
export = client.get("/census/export.csv")
handover = client.get("/handover/", follow=True)
rows = census_rows(User.objects.get(username="demo_coordinator"))
newest = latest_evaluations(Infusion.objects.values("pk"))
print(json.dumps({
    "census": census.status_code,
    "export": export.status_code,
    "handover": handover.status_code,
    "census_names": "Hoffmann, Peter" in census.content.decode(),
    "handover_names": "Hoffmann, Peter" in handover.content.decode(),
    "rows": len(rows),
    "newest_is_newest": all(
        GradeEvaluation.objects.filter(infusion_id=i).order_by("-evaluated_at", "-id").first().evaluated_at
        == e["evaluated_at"]
        for i, e in newest.items()
    ),
    "one_per_infusion": len(newest) == GradeEvaluation.objects.values("infusion_id").distinct().count() > 0,
}))
"""


def test_demo_census_export_and_handover_open_on_sqlite(tmp_path):
    result = run_on_sqlite(DEMO_SCRIPT, tmp_path / "demo.sqlite3", ALLOWED_HOSTS="testserver")
    rows = result.pop("rows")
    assert rows >= 10, rows  # the demo ward's active courses
    assert result == {
        "census": 200,
        "export": 200,
        "handover": 200,
        "census_names": True,
        "handover_names": True,
        "newest_is_newest": True,
        "one_per_infusion": True,
    }
