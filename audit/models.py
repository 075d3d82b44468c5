"""Who looked at which patient's record, when, from where (never what was on the screen)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AccessLog(models.Model):
    """One successful read of a patient's record (a page or an API detail read).

    Rows are kept when users or patients are removed (no database constraint, ``DO_NOTHING``),
    and carry the username as it was, so the trail survives.  Only ids, the path (which carries ids
    only, never the query string) and the client are stored: no clinical values, names or MRNs.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    username = models.CharField(max_length=150)
    patient = models.ForeignKey(
        "monitoring.Patient", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    view_name = models.CharField(max_length=120)
    path = models.CharField(max_length=300)
    method = models.CharField(max_length=8)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    via_api_token = models.BooleanField(default=False)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-at"], name="access_patient_time"),
            models.Index(fields=["user", "-at"], name="access_user_time"),
        ]

    def __str__(self) -> str:
        return f"{self.username} read patient {self.patient_id} at {self.at:%Y-%m-%d %H:%M:%S}"
