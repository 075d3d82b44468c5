"""Session safety: idle timeout (background polls don't count as activity) and the two-factor gate."""

from __future__ import annotations

import time
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse

from .two_factor import requires_two_factor

POLL_HEADER = "HTTP_X_BACKGROUND_POLL"
LAST_ACTIVITY_KEY = "carttrack_last_activity"
#: When this session signed in (set by ``mark_signed_in`` on ``user_logged_in``): the absolute
#: lifetime ``SESSION_COOKIE_AGE`` counts from here, however active the session has been since.
SIGNED_IN_KEY = "carttrack_signed_in_at"
REFRESH_SECONDS = 30


def is_background_poll(request) -> bool:
    return request.META.get(POLL_HEADER) == "1"


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _send_to(request, url: str, *, status: int, message: str) -> HttpResponse:
    """Full pages are redirected; htmx and polls get ``status`` + HX-Redirect; the API gets JSON."""
    if _is_api(request):
        return JsonResponse({"detail": message}, status=status)
    if is_background_poll(request) or request.headers.get("HX-Request") == "true":
        response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def _accounts_prefix() -> str:
    return reverse("accounts:login").rsplit("/", 2)[0] + "/"


def _page_shown(request) -> str:
    """The page an htmx request was made from (``HX-Current-URL``), as a path on this site, or ""."""
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    if current.netloc and current.netloc != request.get_host():
        return ""
    path = current.path or ""
    if not path.startswith("/") or path.startswith("//"):
        return ""
    if path.startswith(_accounts_prefix()):
        return ""  # the sign-in pages themselves: never "come back to sign-in" (a redirect loop)
    return path + (f"?{current.query}" if current.query else "")


def _with_next(url_name: str, request) -> str:
    """The sign-in (or two-factor) URL that returns to where the person was: the page itself for a
    GET, the page the form was on for an htmx save (so a nurse signs in and is back at the patient)."""
    if request.headers.get("HX-Request") == "true":
        target = _page_shown(request)
    else:
        is_page = request.method == "GET" and not is_background_poll(request)
        target = request.get_full_path() if is_page else ""
    url = reverse(url_name)
    return f"{url}?{urlencode({'next': target})}" if target else url


class RequestRolesMiddleware:
    """The signed-in user of a request reads their memberships once: every permission check and
    team scope of that request then uses the same roles (``User.team_roles``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            user.remember_roles_for_request()
        return self.get_response(request)


def mark_signed_in(sender, request, user, **kwargs) -> None:
    """``user_logged_in`` receiver (connected in ``AccountsConfig.ready``): start the absolute clock."""
    if hasattr(request, "session"):
        request.session[SIGNED_IN_KEY] = time.time()


class IdleTimeoutMiddleware:
    """Sign out a session idle for ``SESSION_IDLE_TIMEOUT_MINUTES`` (default 15), and any session
    older than ``SESSION_COOKIE_AGE`` (12 h) since its sign-in, active or not.

    Only requests a person made count as activity: requests carrying ``X-Background-Poll: 1``
    (htmx polling of an unattended tablet) neither refresh the clock nor keep the session alive.
    The session cookie's own expiry slides whenever the session is saved (every 30 s of activity),
    so the absolute limit is kept here, from the sign-in time stored in the session.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            timeout = 60 * getattr(settings, "SESSION_IDLE_TIMEOUT_MINUTES", 15)
            signed_in = request.session.setdefault(SIGNED_IN_KEY, now)
            if now - float(signed_in) > settings.SESSION_COOKIE_AGE:
                logout(request)
                hours = settings.SESSION_COOKIE_AGE / 3600
                return _send_to(
                    request,
                    _with_next("accounts:login", request),
                    status=401,
                    message=f"Signed out: a session lasts at most {hours:g} hours. Sign in again.",
                )
            last = request.session.get(LAST_ACTIVITY_KEY)
            if last is not None and now - float(last) > timeout:
                logout(request)
                return _send_to(
                    request,
                    _with_next("accounts:login", request),
                    status=401,
                    message="Signed out after inactivity. Sign in again.",
                )
            # Refreshed at most every REFRESH_SECONDS so a busy page does not write the session
            # on every request (the timeout is exact to within that much).
            if last is None or (not is_background_poll(request) and now - float(last) > REFRESH_SECONDS):
                request.session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)


class SignInForHtmxMiddleware:
    """A page fragment requested by htmx never receives the sign-in page: where ``login_required``
    answers with a redirect to sign-in, an htmx request gets 401 and ``HX-Redirect`` instead (the
    tablet keeps what was typed and sends it after sign-in, ``static/js/keep.js``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.headers.get("HX-Request") == "true"
            and response.status_code == 302
            and urlsplit(response.get("Location", "")).path == reverse(settings.LOGIN_URL)
        ):
            return _send_to(
                request,
                _with_next(settings.LOGIN_URL, request),
                status=401,
                message="Signed out. Sign in again.",
            )
        return response


class TwoFactorRequiredMiddleware:
    """Until a physician, coordinator or admin has entered a TOTP code, every page except the
    two-factor page, sign-out and static files sends them to the two-factor page."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.open_paths: tuple[str, ...] | None = None

    def _open_paths(self) -> tuple[str, ...]:
        if self.open_paths is None:
            self.open_paths = (
                reverse("accounts:two_factor"),
                reverse("accounts:logout"),
                reverse("accounts:login"),
                reverse("accounts:locked_out"),
                "/" + settings.STATIC_URL.lstrip("/"),
            )
        return self.open_paths

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(self._open_paths())
            and not user.is_verified()
            and requires_two_factor(user)
        ):
            return _send_to(
                request,
                _with_next("accounts:two_factor", request),
                status=403 if _is_api(request) else 401,
                message="Two-step sign-in required: enter the code from your authenticator app.",
            )
        return self.get_response(request)
