"""Show a service's ValidationError on the form that called it (used by every screen that writes
through a service: the service's rule is the one rule, the form only places its words)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put each message beside the field it names; the rest above the form."""
    by_field = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    for name, messages in by_field.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)
