"""What an administrator does for the members of their own care teams: unlock a locked sign-in,
reset a lost phone's two-factor, issue and revoke integration tokens.

Keyword-only, one durable transaction each. The target must be a member (the token: of a team)
where the acting user holds ``account.manage`` (the admin role): another team's account is
"not found", never touched. Every change leaves a history row on the account (django-simple-history,
``history_user`` = the admin, ``history_change_reason`` says what was done).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import ApiToken, CareTeam, Membership, User
from .permissions import team_ids_with
from .tokens import MAX_TOKEN_DAYS, issue_api_token, revoke_api_token

logger = logging.getLogger(__name__)

CAPABILITY = "account.manage"


@dataclass(frozen=True)
class AccountRow:
    """One member of the admin's teams as the accounts screen shows them."""

    user: User
    teams: tuple[str, ...]
    roles: tuple[str, ...]
    locked: bool
    two_factor_enrolled: bool


def managed_users(admin: User):
    """Users who are members of a team where ``admin`` may manage accounts."""
    return User.objects.filter(memberships__team_id__in=team_ids_with(admin, CAPABILITY)).distinct()


def _managed_user(admin: User, user_id: int) -> User:
    try:
        return managed_users(admin).get(pk=user_id)
    except ObjectDoesNotExist:
        raise User.DoesNotExist("No such account in the care teams you administer") from None


def _locked_usernames(usernames: list[str], now: datetime) -> set[str]:
    """Usernames django-axes locks now (the failure limit reached within the cool-off time)."""
    since = now - settings.AXES_COOLOFF_TIME
    return set(
        AccessAttempt.objects.filter(
            username__in=usernames,
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
            attempt_time__gte=since,
        ).values_list("username", flat=True)
    )


def account_rows(*, admin: User) -> list[AccountRow]:
    """The members of the admin's teams with their lock and two-factor state (four queries)."""
    team_ids = team_ids_with(admin, CAPABILITY)
    users = list(managed_users(admin).order_by("last_name", "first_name", "username"))
    memberships = Membership.objects.filter(user__in=users, team_id__in=team_ids).select_related("team")
    teams: dict[int, set[str]] = {}
    roles: dict[int, set[str]] = {}
    for membership in memberships:
        teams.setdefault(membership.user_id, set()).add(membership.team.name)
        roles.setdefault(membership.user_id, set()).add(membership.get_role_display())
    locked = _locked_usernames([u.username for u in users], timezone.now())
    enrolled = set(
        TOTPDevice.objects.filter(user__in=users, confirmed=True).values_list("user_id", flat=True)
    )
    return [
        AccountRow(
            user=u,
            teams=tuple(sorted(teams.get(u.pk, ()))),
            roles=tuple(sorted(roles.get(u.pk, ()))),
            locked=u.username in locked,
            two_factor_enrolled=u.pk in enrolled,
        )
        for u in users
    ]


def _history_note(user: User, *, admin: User, reason: str) -> None:
    user._history_user = admin  # django-simple-history: who did it and what
    user._change_reason = reason
    user.save(update_fields=["username"])  # no field changes; the save writes the history row


def account_unlock(*, admin: User, user_id: int) -> int:
    """Lift django-axes' lock of the account (every address). Returns how many attempt records
    were cleared. Raises User.DoesNotExist for an account outside the admin's teams."""
    with transaction.atomic(durable=True):
        user = _managed_user(admin, user_id)
        cleared = axes_reset(username=user.username)
        _history_note(user, admin=admin, reason="sign-in unlocked by an administrator")
    logger.info("account %s unlocked by %s (%s attempt records)", user.pk, admin.pk, cleared)
    return cleared


def two_factor_reset(*, admin: User, user_id: int) -> int:
    """Remove the account's authenticators (a lost or replaced phone): the next sign-in enrols a new
    one with a QR code. Returns how many devices were removed."""
    with transaction.atomic(durable=True):
        user = _managed_user(admin, user_id)
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        _history_note(user, admin=admin, reason="two-factor reset by an administrator")
    logger.info("two-factor of account %s reset by %s (%s devices)", user.pk, admin.pk, removed)
    return removed


def tokens_for(*, admin: User):
    return (
        ApiToken.objects.filter(team_id__in=team_ids_with(admin, CAPABILITY))
        .select_related("user", "team")
        .order_by("-created_at")
    )


def token_issue(
    *, admin: User, name: str, user_id: int, team_id: int, scopes: list[str], days: int
) -> tuple[ApiToken, str]:
    """Issue a token for an account of one of the admin's teams, expiring after ``days`` (1 to
    ``accounts.tokens.MAX_TOKEN_DAYS``); returns the token and its key, shown once. The token rules
    (expiry, scopes, two-factor of a clinical account) are ``accounts.tokens.issue_api_token``'s."""
    if team_id not in team_ids_with(admin, CAPABILITY):
        raise CareTeam.DoesNotExist("No such care team among those you administer")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValidationError({"days": [f"A token expires after 1 to {MAX_TOKEN_DAYS} days."]})
    with transaction.atomic(durable=True):
        user = _managed_user(admin, user_id)
        if not user.memberships.filter(team_id=team_id).exists():
            raise ValidationError({"user": [f"{user} is not a member of that care team."]})
        expires_at = timezone.now() + timedelta(days=days)
        team = CareTeam.objects.get(pk=team_id)
        token, key = issue_api_token(name=name, user=user, team=team, scopes=scopes, expires_at=expires_at)
    logger.info("API token %s issued by %s", token.pk, admin.pk)
    return token, key


def token_revoke(*, admin: User, token_id: int) -> ApiToken:
    with transaction.atomic(durable=True):
        token = tokens_for(admin=admin).select_for_update(of=("self",)).get(pk=token_id)
        revoke_api_token(token=token)
    logger.info("API token %s revoked by %s", token.pk, admin.pk)
    return token
