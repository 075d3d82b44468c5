"""Integration API tokens: issue (key shown once, hash stored), authenticate, revoke."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import ApiToken, CareTeam, User, validate_scopes

KEY_PREFIX = "ctk_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def issue_api_token(
    *, name: str, user: User, team: CareTeam, scopes: list[str], expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its key; the key is not stored and cannot be shown again."""
    validate_scopes(scopes)
    if not user.memberships.filter(team=team).exists():
        raise ValueError(f"{user} is not a member of {team}: a token cannot reach beyond its user's teams")
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
        token = ApiToken.objects.usable().select_related("user").filter(key_hash=hash_key(key)).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        token.user.remember_roles_for_request()
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            # At most one write a minute per token: "last used" is for audit, not per request.
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword
