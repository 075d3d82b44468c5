"""``manage.py fhir_import FILE… --token-user USER --team SLUG``: the file drop of an interface engine.

Each file holds one Bundle (transaction, batch, or collection: a collection runs as a batch, E-1),
imported through the same path as ``POST /fhir/`` as the integration's account.  The response Bundle
(or OperationOutcome) of each file is printed as JSON; the exit status is 1 if any entry was refused."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import CareTeam, User
from interop import importer


class Command(BaseCommand):
    help = "Import FHIR R4 Bundle files (a file drop) through the FHIR import."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--user", required=True, help="the integration's account (username)")
        parser.add_argument("--team", required=True, help="the care team (slug) the drop may reach")
        parser.add_argument(
            "--source", default="file drop", help="the source system, if the bundle names none"
        )

    def handle(self, *args, files, user, team, source, **options):
        account = User.objects.filter(username=user, is_active=True).first()
        if account is None:
            raise CommandError(f"--user: no active account {user!r}")
        care_team = CareTeam.objects.filter(slug=team, memberships__user=account).first()
        if care_team is None:
            raise CommandError(f"--team: {user!r} is not a member of a care team {team!r}")
        refused = False
        for path in files:
            try:
                bundle = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"{path}: not a readable JSON file ({exc})") from exc
            result = importer.import_bundle(
                bundle=bundle, user=account, team_ids=[care_team.pk], source_system=source, file_drop=True
            )
            refused = (
                refused
                or result.refused
                or any(not e["response"]["status"].startswith("20") for e in result.body.get("entry") or [])
            )
            self.stdout.write(json.dumps({"file": str(path), "response": result.body}))
        if refused:
            raise CommandError("some entries were refused (see the OperationOutcomes above)")
