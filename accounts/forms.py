"""Sign-in forms (the site's and the admin's): a username longer than a username can be is refused
by the form, naming the field and the limit, before it reaches authentication and the lockout
records (whose username column it would overflow)."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from .models import User

USERNAME_MAX = User._meta.get_field("username").max_length


class BoundedUsernameMixin:
    def clean_username(self) -> str:
        username = self.cleaned_data.get("username") or ""
        if len(username) > USERNAME_MAX:
            raise forms.ValidationError(
                f"Username: at most {USERNAME_MAX} characters (this one has {len(username)}).",
                code="max_length",
            )
        return username


class SignInForm(BoundedUsernameMixin, AuthenticationForm):
    pass


class AdminSignInForm(BoundedUsernameMixin, AdminAuthenticationForm):
    pass
