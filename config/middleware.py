"""Generic request hygiene: an oversized body is refused with 413 before anything reads it."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string


def _too_large(request) -> HttpResponse:
    message = "The request is too large. Send less data at once (for example one observation per request)."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=413)
    return HttpResponse(render_to_string("413.html", {"message": message}), status=413)


class RequestSizeLimitMiddleware:
    """Refuse bodies larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` with 413 (Payload Too Large).

    Checks the declared Content-Length first (nothing is read); a body that only turns out too big
    while a view reads it (chunked upload) raises ``RequestDataTooBig``, which becomes 413 too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw)
        except ValueError:
            return HttpResponse("Invalid Content-Length header.", status=400, content_type="text/plain")
        if length < 0:
            return HttpResponse("Invalid Content-Length header.", status=400, content_type="text/plain")
        if limit is not None and length > limit:
            return _too_large(request)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig):
            return _too_large(request)
        return None


class UnreadableCookieMiddleware:
    """Drop cookies that hold a NUL byte before the session or CSRF layers look them up.

    No cookie this site sets can contain one; a forged or corrupted cookie would otherwise reach
    PostgreSQL as a session key, which refuses NUL in text, and turn a harmless request into a 500.
    The request goes on as if that cookie had not been sent (signed out, no CSRF cookie).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        cookies = request.COOKIES
        for name in [name for name, value in cookies.items() if "\x00" in name or "\x00" in value]:
            del cookies[name]
        return self.get_response(request)
