"""The admin's "Team accounts" screen: the members of their care teams with their sign-in lock and
two-factor state, Unlock and Reset two-factor, and the teams' integration tokens (issue, revoke).

Capability ``account.manage`` (admins): 403 for other roles; another team's account or token is
404. Writes go through ``accounts.staff``.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import staff
from .form_errors import add_service_errors
from .models import ApiScope, ApiToken, CareTeam, User
from .permissions import capability_required, team_ids_with
from .tokens import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS


class TokenForm(forms.Form):
    name = forms.CharField(max_length=120, label="What uses it", help_text="e.g. Ward 7 monitor gateway")
    team = forms.ModelChoiceField(queryset=CareTeam.objects.none(), label="Care team", empty_label=None)
    user = forms.ModelChoiceField(
        queryset=User.objects.none(), label="Acts as (service account)", empty_label=None
    )
    scopes = forms.MultipleChoiceField(
        choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple, label="May"
    )
    days = forms.IntegerField(
        min_value=1,
        max_value=MAX_TOKEN_DAYS,
        initial=DEFAULT_TOKEN_DAYS,
        label="Expires after",
        help_text=f"days, 1–{MAX_TOKEN_DAYS}",
    )

    def __init__(self, *args, admin: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = CareTeam.objects.filter(pk__in=team_ids_with(admin, staff.CAPABILITY))
        self.fields["user"].queryset = staff.managed_users(admin).order_by("username")


def _screen(request: HttpRequest, *, token_form: TokenForm | None = None, new_key: str = "", status=200):
    context = {
        "rows": staff.account_rows(admin=request.user),
        "tokens": staff.tokens_for(admin=request.user),
        "token_form": token_form or TokenForm(admin=request.user),
        "new_key": new_key,
    }
    return render(request, "accounts/team_accounts.html", context, status=status)


@require_GET
@login_required
@capability_required(staff.CAPABILITY)
def team_accounts(request: HttpRequest) -> HttpResponse:
    return _screen(request)


def _account_action(request: HttpRequest, user_id: int, action, done: str) -> HttpResponse:
    try:
        action(admin=request.user, user_id=user_id)
    except User.DoesNotExist:
        raise Http404("No such account in the care teams you administer") from None
    messages.success(request, done)
    return redirect("accounts:team_accounts")


@require_POST
@login_required
@capability_required(staff.CAPABILITY)
def account_unlock(request: HttpRequest, user_id: int) -> HttpResponse:
    return _account_action(
        request, user_id, staff.account_unlock, "Sign-in unlocked: the account may sign in again now."
    )


@require_POST
@login_required
@capability_required(staff.CAPABILITY)
def two_factor_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    return _account_action(
        request,
        user_id,
        staff.two_factor_reset,
        "Two-factor reset: at the next sign-in the account scans a new QR code with the new phone.",
    )


@require_http_methods(["POST"])
@login_required
@capability_required(staff.CAPABILITY)
def token_issue(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST, admin=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            token, key = staff.token_issue(
                admin=request.user,
                name=data["name"],
                user_id=data["user"].pk,
                team_id=data["team"].pk,
                scopes=list(data["scopes"]),
                days=data["days"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"Token “{token.name}” issued. Copy the key now: it is not shown again."
            )
            return _screen(request, new_key=key)
    return _screen(request, token_form=form, status=422)


@require_POST
@login_required
@capability_required(staff.CAPABILITY)
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        token = staff.token_revoke(admin=request.user, token_id=token_id)
    except ApiToken.DoesNotExist:
        raise Http404("No such token in the care teams you administer") from None
    messages.success(request, f"Token “{token.name}” revoked: it is refused from now on.")
    return redirect("accounts:team_accounts")
