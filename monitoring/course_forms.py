"""The coordinator's forms: register a patient, start an infusion (day 0), close its monitoring.

Shapes only: the rules (date of birth, infusion time, one active infusion, who may) are those of
``monitoring.registration`` and ``monitoring.services.infusion_close``, which the views call, so a
screen refuses exactly what the API refuses. Times are wall times of the care team's zone (the
view activates it), read through the clinical core's one rule (``RecordedAtField``, INPUT-12).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import CareTeam

from .forms.base import RecordedAtField
from .models import CloseReason, Patient, Product
from .registration import PATIENT_FIELDS, check_date_of_birth

TIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class PatientForm(forms.ModelForm):
    care_team = forms.ModelChoiceField(queryset=CareTeam.objects.none(), label="Care team", empty_label=None)

    class Meta:
        model = Patient
        fields = [*PATIENT_FIELDS, "care_team"]
        widgets = {"date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        labels = {"mrn": "MRN (hospital number)", "weight_kg": "Weight", "home_o2_l_min": "Home oxygen"}
        help_texts = {"weight_kg": "kg, actual body weight", "home_o2_l_min": "L/min before infusion"}

    def __init__(self, *args: Any, team_ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["care_team"].queryset = CareTeam.objects.filter(pk__in=team_ids)
        self.fields["weight_kg"].widget.attrs.update(inputmode="decimal", step="0.1")
        self.fields["home_o2_l_min"].widget.attrs.update(inputmode="decimal", step="0.5")

    def clean_date_of_birth(self):
        value = self.cleaned_data["date_of_birth"]
        try:
            check_date_of_birth(value)  # the service's rule, here too so every error shows at once
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["date_of_birth"]) from None
        return value


class _WardTimeForm(forms.Form):
    """A form with one ward time (``TIME_FIELD``), now by default, labelled with the team's zone."""

    TIME_FIELD = ""

    def __init__(self, *args: Any, zone_label: str, **kwargs: Any) -> None:
        now = timezone.localtime().replace(second=0, microsecond=0)
        kwargs.setdefault("initial", {}).setdefault(self.TIME_FIELD, now)
        super().__init__(*args, **kwargs)
        self.fields[self.TIME_FIELD].help_text = f"ward time, {zone_label}"


class InfusionStartForm(_WardTimeForm):
    TIME_FIELD = "infused_at"
    product = forms.ModelChoiceField(queryset=Product.objects.order_by("name"), label="CAR-T product")
    infused_at = RecordedAtField(label="Infused at", widget=TIME_WIDGET)


class InfusionCloseForm(_WardTimeForm):
    TIME_FIELD = "closed_at"
    close_reason = forms.ChoiceField(choices=CloseReason.choices, label="Why monitoring ends")
    closed_at = RecordedAtField(label="Closed at", widget=TIME_WIDGET)
