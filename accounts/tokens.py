"""API tokens, the one token system (personal and integration): issue (key shown once, only its SHA-256
hash stored, a short non-secret prefix to recognise it), authenticate, revoke.

Every token expires (at most ``MAX_TOKEN_DAYS`` after issue), carries scopes and one care team, and
records when it was last used.  A token acting for a physician, coordinator or administrator works
only while that person has a confirmed two-factor device (``accounts.two_factor``): a token must not
be a way round the second factor the same person needs to sign in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import ApiToken, CareTeam, User, validate_scopes
from .two_factor import TWO_FACTOR_ROLES, confirmed_device

KEY_PREFIX = "ctk_"
#: The longest a token may live, and what the command and the admin action offer by default.
MAX_TOKEN_DAYS = 365
DEFAULT_TOKEN_DAYS = 90
NEEDS_TWO_FACTOR = (
    "This token acts for a physician, coordinator or administrator who has not set up two-factor "
    "sign-in; set it up (sign in and follow the two-factor step) before the token can be used."
)


def token_needs_two_factor(user: User) -> bool:
    """True when ``user``'s token would be refused: a role that needs a second factor, none set up.
    Uses the roles already read with the token (no query for nurses and service accounts)."""
    if not getattr(settings, "TWO_FACTOR_REQUIRED", True):
        return False
    if not (user.is_staff or user.is_superuser or user.roles() & TWO_FACTOR_ROLES):
        return False
    return confirmed_device(user) is None


def _checked_expiry(expires_at: datetime | None, now: datetime) -> datetime:
    if expires_at is None:
        return now + timedelta(days=DEFAULT_TOKEN_DAYS)
    if expires_at.tzinfo is None:
        raise ValidationError({"expires_at": ["Give the expiry with a time zone."]})
    if not now < expires_at <= now + timedelta(days=MAX_TOKEN_DAYS):
        raise ValidationError(
            {"expires_at": [f"A token expires between now and {MAX_TOKEN_DAYS} days from now."]}
        )
    return expires_at


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def issue_api_token(
    *, name: str, user: User, team: CareTeam, scopes: list[str], expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its key; the key is not stored and cannot be shown again.
    ``expires_at``: at most ``MAX_TOKEN_DAYS`` ahead (``DEFAULT_TOKEN_DAYS`` if not given)."""
    validate_scopes(scopes)
    expires_at = _checked_expiry(expires_at, timezone.now())
    if not user.memberships.filter(team=team).exists():
        raise ValueError(f"{user} is not a member of {team}: a token cannot reach beyond its user's teams")
    if token_needs_two_factor(user):
        raise ValidationError({"user": [NEEDS_TWO_FACTOR]})
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=name,
        prefix=key[:12],
        key_hash=hash_key(key),
        user=user,
        team=team,
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
    )
    return token, key


def revoke_api_token(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


#: How precisely ``ApiToken.last_used_at`` is kept (one UPDATE per token per interval).
LAST_USED_RESOLUTION = timedelta(minutes=1)


#: Every authenticated API request reads its token, the token's user and the user's care-team roles.
#: Written once as SQL through ``raw()`` (the ORM's building and compiling of these fixed reads cost
#: more CPU than the database did: docs/api.md); the user's roles come with the user, one row each.
_BY_HASH_SQL = "SELECT * FROM accounts_apitoken WHERE key_hash = %s"
_USER_AND_ROLES_SQL = (
    "SELECT u.*, m.team_id AS role_team_id, m.role AS role_name"
    " FROM accounts_user u LEFT JOIN accounts_membership m ON m.user_id = u.id"
    " WHERE u.id = %s"
)


def token_with_user_and_roles(key_hash: str, db: str = "default") -> ApiToken | None:
    """The token stored under ``key_hash`` with its user, whose care-team roles are read in the same
    statement as the user and kept for the request (``User.team_roles``), or None.  Usable or not: the
    caller checks ``ApiToken.is_usable`` (the rule of ``ApiToken.objects.usable()``)."""
    token = next(iter(ApiToken.objects.db_manager(db).raw(_BY_HASH_SQL, [key_hash])), None)
    if token is None:
        return None
    rows = list(User.objects.db_manager(db).raw(_USER_AND_ROLES_SQL, [token.user_id]))
    token.user = rows[0]
    token.user.set_team_roles_for_request(
        [(row.role_team_id, row.role_name) for row in rows if row.role_team_id is not None]
    )
    return token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer ctk_…``: sets ``request.user`` to the token's user and
    ``request.auth`` to the :class:`ApiToken` (scopes are checked by ``HasScope``)."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid bearer header: give exactly one token.")
        try:
            key = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid token.") from exc
        now = timezone.now()
        token = token_with_user_and_roles(hash_key(key))
        if token is None or not token.is_usable(now) or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        if token_needs_two_factor(token.user):
            raise exceptions.AuthenticationFailed(NEEDS_TWO_FACTOR)
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            # At most one write a minute per token: "last used" is for audit, not per request.
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword
