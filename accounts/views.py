"""Sign-in steps after the password: two-factor enrolment/verification, and the locked-out page."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from . import two_factor


class TokenForm(forms.Form):
    otp_token = forms.CharField(
        label="6-digit code from your authenticator app",
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
    )

    def clean_otp_token(self) -> str:
        value = self.cleaned_data["otp_token"].replace(" ", "")
        if not value.isdigit():
            raise forms.ValidationError("The code has digits only.")
        return value


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return settings.LOGIN_REDIRECT_URL


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_view(request):
    """Enrol an authenticator (QR code + secret) if the user has none, otherwise ask for a code."""
    user = request.user
    if not two_factor.requires_two_factor(user) or user.is_verified():
        return redirect(_next_url(request))
    device = two_factor.confirmed_device(user)
    enrolling = device is None
    if enrolling:
        device = two_factor.pending_device(user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["otp_token"]):
            if enrolling:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error(
            "otp_token",
            "That code did not match. Check the time on your phone and use the newest code; "
            "after several wrong codes you must wait a little before trying again.",
        )
    context = {"form": form, "enrolling": enrolling, "next": _next_url(request)}
    if enrolling:
        context.update(qr_data_url=two_factor.qr_data_url(device), secret=two_factor.secret_of(device))
    return render(request, "accounts/two_factor.html", context, status=400 if form.errors else 200)


def locked_out(request, credentials=None, *args, **kwargs):
    """Shown (status 429) after too many failed sign-ins for one username from one address."""
    return render(
        request,
        "accounts/locked_out.html",
        {"cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)},
        status=429,
    )
