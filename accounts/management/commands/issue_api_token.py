from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import ApiScope, CareTeam, User
from accounts.tokens import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, issue_api_token


class Command(BaseCommand):
    help = "Issue an API token (personal or integration) and print its key (shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="What will use it, e.g. 'Ward 7 monitor gateway'")
        parser.add_argument(
            "--user", required=True, help="Username the token acts as (person or service account)"
        )
        parser.add_argument("--team", required=True, help="Care team slug the token is limited to")
        parser.add_argument("--scope", action="append", required=True, choices=ApiScope.values, dest="scopes")
        parser.add_argument(
            "--days",
            type=int,
            default=DEFAULT_TOKEN_DAYS,
            help=f"Days until it expires, 1 to {MAX_TOKEN_DAYS} (default {DEFAULT_TOKEN_DAYS})",
        )

    def handle(self, *args, name, user, team, scopes, days, **options):
        account = User.objects.filter(username=user, is_active=True).first()
        care_team = CareTeam.objects.filter(slug=team).first()
        if account is None or care_team is None:
            raise CommandError("Unknown or inactive user, or unknown team slug.")
        if not 1 <= days <= MAX_TOKEN_DAYS:
            raise CommandError(
                f"--days {days} is out of range: a token expires after 1 to {MAX_TOKEN_DAYS} days."
            )
        expires_at = timezone.now() + timedelta(days=days)
        try:
            token, key = issue_api_token(
                name=name, user=account, team=care_team, scopes=scopes, expires_at=expires_at
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Token #{token.pk} ({', '.join(token.scopes)}) for {care_team}, expires "
            f"{token.expires_at:%Y-%m-%d %H:%M} UTC; key (store it now):"
        )
        self.stdout.write(key)
