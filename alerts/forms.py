"""Forms of the alerts app: a care team's escalation policy and its steps, edited by coordinators."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import Role, User

from .models import Channel, Target

CHANNEL_CHOICES = Channel.choices
MAX_STEPS = 8


class EscalationPolicyForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    repeat_count = forms.IntegerField(
        label="Run the steps", min_value=1, max_value=5, help_text="times (1–5) before the final notice"
    )
    reminder_minutes = forms.IntegerField(
        label="Reminder after acknowledgement",
        min_value=1,
        max_value=240,
        help_text="minutes (1–240) acknowledged but not resolved, no order (a note is not): remind, un-ack",
    )
    final_wait_minutes = forms.IntegerField(
        label="Final wait", min_value=0, max_value=120, help_text="minutes (0–120) after the last repeat"
    )
    final_channels = forms.MultipleChoiceField(
        label="Final notice to attending, charge nurse and coordinators by",
        choices=CHANNEL_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )


class EscalationStepForm(forms.Form):
    """One step; an empty row (no target) is ignored, a row marked for removal is dropped."""

    target = forms.ChoiceField(label="Who", required=False, choices=[("", "—"), *Target.choices])
    role = forms.ChoiceField(
        label="Role (for 'everyone with a role')", required=False, choices=[("", "—"), *Role.choices]
    )
    user = forms.ModelChoiceField(
        label="Person (for 'a named person')", required=False, queryset=User.objects.none(), empty_label="—"
    )
    channels = forms.MultipleChoiceField(
        label="By", required=False, choices=CHANNEL_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    wait_minutes = forms.IntegerField(
        label="Then wait", min_value=0, max_value=120, required=False, help_text="minutes (0–120)"
    )
    remove = forms.BooleanField(label="Remove this step", required=False)

    def __init__(self, *args: Any, members=None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = members if members is not None else User.objects.none()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        target = data.get("target")
        if not target or data.get("remove"):
            return data
        if target == Target.ROLE and not data.get("role"):
            self.add_error("role", "Choose the role to notify.")
        if target == Target.USER and not data.get("user"):
            self.add_error("user", "Choose the person to notify (a member of this care team).")
        if not data.get("channels"):
            self.add_error("channels", "Choose at least one channel.")
        if data.get("wait_minutes") is None:
            self.add_error("wait_minutes", "Give the wait before the next step: 0–120 minutes.")
        return data

    def step(self) -> dict[str, Any] | None:
        """The step as the service takes it, or None for an empty or removed row."""
        d = self.cleaned_data
        if not d.get("target") or d.get("remove"):
            return None
        return {
            "target": d["target"],
            "role": d.get("role") or "" if d["target"] == Target.ROLE else "",
            "user": d.get("user") if d["target"] == Target.USER else None,
            "channels": list(d["channels"]),
            "wait_minutes": d["wait_minutes"],
        }


StepFormSet = forms.formset_factory(EscalationStepForm, extra=2, max_num=MAX_STEPS, validate_max=True)
