"""The "Alerting is delayed — use the phone tree" banner every signed-in clinician sees while alerting is
late (``alerts.outage``).

``templates/base.html`` includes an empty placeholder that htmx loads at once and polls every
``POLL_SECONDS`` (as a background poll: it does not keep an idle session alive), so an open page shows
the banner within ``ALERT_DELAY_SECONDS`` + ``POLL_SECONDS`` (90 s) of the first late step or grade.
Each poll is also a detection run in the web process (:func:`alerts.outage.observe`), so the outage is
recorded even while no worker runs.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.models import Role
from accounts.zones import in_care_team_zone

from . import outage

POLL_SECONDS = 30
CLINICAL_ROLES = frozenset({Role.NURSE, Role.PHYSICIAN, Role.COORDINATOR})
BANNER_TEXT = "Alerting is delayed — use the phone tree"


def shows_banner(user) -> bool:
    """Clinicians (nurse, physician, coordinator in any team) see the banner."""
    return bool(getattr(user, "is_authenticated", False) and user.roles() & CLINICAL_ROLES)


@require_GET
@never_cache
@in_care_team_zone
def alerting_status(request):
    """The banner fragment (htmx swaps it over itself); 204 when signed out (nothing to swap)."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    late = []
    if shows_banner(request.user):
        late = outage.late_items()
        outage.observe(late=late)
    return render(
        request,
        "alerts/partials/status_banner.html",
        {"late": late, "banner_text": BANNER_TEXT, "poll_seconds": POLL_SECONDS},
    )
