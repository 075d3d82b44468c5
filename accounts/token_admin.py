"""The admin action "Issue an API token" on users: a form (name, care team, scopes, days), then a page
that shows the key once.  The key is rendered into that response only: never stored, logged or put in
a message (messages live in the session/cookie)."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils import timezone

from .models import ApiScope, CareTeam, Role
from .tokens import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, issue_api_token


class IssueTokenForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="What will use it, e.g. 'Ward 7 monitor gateway'")
    team = forms.ModelChoiceField(queryset=CareTeam.objects.none(), label="Care team")
    scopes = forms.MultipleChoiceField(choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple)
    days = forms.IntegerField(
        min_value=1,
        max_value=MAX_TOKEN_DAYS,
        initial=DEFAULT_TOKEN_DAYS,
        label="Expires after (days)",
        help_text=f"1 to {MAX_TOKEN_DAYS} days",
    )

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams


@admin.action(description="Issue an API token for the selected user")
def issue_token_action(modeladmin, request, queryset):
    if queryset.count() != 1:
        modeladmin.message_user(request, "Select exactly one user to issue a token for.", messages.ERROR)
        return None
    user = queryset.get()
    teams = CareTeam.objects.filter(
        pk__in=request.user.team_ids(Role.ADMIN), memberships__user=user
    ).distinct()
    form = IssueTokenForm(request.POST if "issue" in request.POST else None, teams=teams)
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"Issue an API token for {user}",
        "form": form,
        "subject": user,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        "opts": modeladmin.model._meta,
    }
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            token, key = issue_api_token(
                name=data["name"],
                user=user,
                team=data["team"],
                scopes=list(data["scopes"]),
                expires_at=timezone.now() + timedelta(days=data["days"]),
            )
        except (ValueError, ValidationError) as exc:
            form.add_error(None, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            context.update(token=token, key=key)
    return TemplateResponse(request, "admin/accounts/issue_token.html", context)
