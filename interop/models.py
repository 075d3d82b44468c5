"""What the FHIR interface keeps beside the observations: where each imported row came from, and the
registry reports' state (due, done, checked; previously-reported flags, E-3)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from monitoring.models import Infusion, Observation


class ImportedResource(models.Model):
    """One observation row written by a FHIR import: the resource and identifier it came from and the
    source system (``Bundle.meta.source``, the resource's ``meta.source`` or the token's name)."""

    observation = models.OneToOneField(Observation, on_delete=models.PROTECT, related_name="imported_from")
    resource_type = models.CharField(max_length=40)
    identifier_system = models.CharField(max_length=255)
    identifier_value = models.CharField(max_length=255)
    fhir_status = models.CharField(max_length=20)
    source_system = models.CharField(max_length=255, blank=True)
    bundle_id = models.CharField(max_length=255, blank=True)
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["imported_at", "id"]
        indexes = [
            models.Index(
                fields=["resource_type", "identifier_system", "identifier_value"], name="imported_identifier"
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.resource_type} {self.identifier_system}|{self.identifier_value} → {self.observation_id}"
        )


class Registry(models.TextChoices):
    CIBMTR = "cibmtr", "CIBMTR Form 4100"
    EBMT = "ebmt", "EBMT Cellular Therapy MED-A"


class ReportState(models.TextChoices):
    DUE = "due", "Due"
    DONE = "done", "Done (submitted)"
    CHECKED = "checked", "Checked against the chart"


class RegistryReport(models.Model):
    """A coordinator's record of one registry report of one course and period: done, checked, and
    which toxicities' onset dates it reported (the next period's "previously reported" flags)."""

    infusion = models.ForeignKey(Infusion, on_delete=models.PROTECT, related_name="registry_reports")
    registry = models.CharField(max_length=10, choices=Registry.choices)
    period = models.CharField(max_length=20, help_text="The period's key, e.g. day-100, 6-month, year-2")
    state = models.CharField(max_length=10, choices=ReportState.choices, default=ReportState.DUE)
    reported_onsets = models.JSONField(
        default=list, blank=True, help_text="Toxicities whose date of diagnosis this report gave"
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["infusion", "registry", "period"]
        constraints = [
            models.UniqueConstraint(fields=["infusion", "registry", "period"], name="one_report_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.get_registry_display()} {self.period} of infusion {self.infusion_id}: {self.state}"
