"""Coordinator and physician dashboards: census, patient timeline, cohort analytics.

Thin views: scoping and permissions here (``accounts.permissions``), reads in ``census``,
``charts`` and ``analytics``, from the read replica when one is configured (``monitoring.replica``).
Another team's patient is a 404 (``visible_to``); a role without the capability is a 403.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.permissions import capability_required, require, team_ids_with
from accounts.zones import in_care_team_zone
from audit.middleware import record_accesses
from monitoring.models import IndicationCategory, Infusion
from monitoring.replica import reads_from_replica
from monitoring.selectors import patient_get

from .analytics import cohort_analytics, default_range
from .census import GRADE_FILTERS, SORTS, CensusFilters, census_choices, census_rows
from .census_output import census_csv, census_rows_html
from .charts import timeline_figures

#: Census refresh interval (seconds); ``CENSUS_POLL_SECONDS`` in settings overrides it (tests use 2).
POLL_SECONDS = 30


def poll_seconds() -> int:
    return int(getattr(settings, "CENSUS_POLL_SECONDS", POLL_SECONDS))


#: The census's filters and order chosen in this session: the navigation's "Census" link (no query)
#: opens the census as the coordinator left it, as "My patients" keeps its order (issue 13 item 5).
CENSUS_VIEW_KEY = "carttrack_census_view"


def _chosen_filters(request) -> CensusFilters:
    """The filters in the address, remembered for the session (not from a background refresh, which
    only repeats them)."""
    filters = CensusFilters.from_query(request.GET)
    chosen = filters.as_query()
    polled = request.headers.get("X-Background-Poll") == "1"
    if not polled and request.session.get(CENSUS_VIEW_KEY) != chosen:
        request.session[CENSUS_VIEW_KEY] = chosen
    return filters


def _census_context(request) -> dict:
    filters = _chosen_filters(request)
    now = timezone.now()
    rows = census_rows(request.user, filters, now=now)
    return {
        "rows": rows,
        "rows_html": census_rows_html(rows),
        "filters": filters,
        "now": now,
        "poll_seconds": poll_seconds(),
        "query": filters.as_query(),
        "query_string": urlencode(filters.as_query()),
    }


@require_GET
@login_required
@capability_required("dashboard.view")
@reads_from_replica
@in_care_team_zone
def census(request):
    saved = request.session.get(CENSUS_VIEW_KEY)
    if saved and saved != CensusFilters().as_query() and not CensusFilters.QUERY_KEYS & set(request.GET):
        # Back through the navigation: the view chosen earlier, with its filters in the address
        # (so a refresh, a shared link and the export all carry them).
        return redirect(f"{request.path}?{urlencode(CensusFilters.from_query(saved).as_query())}")
    context = _census_context(request)
    if request.htmx and request.GET.get("partial") == "rows":
        return render(request, "dashboards/_census_table.html", context)
    context.update(
        {
            "choices": census_choices(request.user),
            "grade_filters": GRADE_FILTERS,
            "sorts": SORTS,
            "categories": IndicationCategory.choices,
            "can_export": bool(team_ids_with(request.user, "export.csv")),
        }
    )
    return render(request, "dashboards/census.html", context)


@require_GET
@login_required
@capability_required("export.csv")
@reads_from_replica
def census_export(request):
    """The census as CSV, limited to the teams where the user holds ``export.csv``."""
    filters = CensusFilters.from_query(request.GET)
    allowed = set(team_ids_with(request.user, "export.csv"))
    now = timezone.now()
    rows = [r for r in census_rows(request.user, filters, now=now) if r.team_id in allowed]
    # An export reads every exported patient's record: one access-log row each, written before the
    # file is handed out (if the log cannot be written, the export fails rather than go unlogged).
    record_accesses(request, [r.patient_id for r in rows])
    response = HttpResponse(census_csv(rows, now=now), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="census-{now:%Y%m%d-%H%M}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@login_required
@reads_from_replica
def timeline(request, patient_id: int):
    patient = patient_get(user=request.user, patient_id=patient_id)
    require(request.user, "dashboard.view", patient.care_team_id)
    infusions = list(
        Infusion.objects.visible_to(request.user)
        .filter(patient=patient)
        .select_related("product", "care_team", "patient")
        .order_by("-infused_at")
    )
    if not infusions:
        raise Http404("This patient has no infusion yet")
    selected = infusions[0]
    raw = request.GET.get("infusion")
    if raw:
        selected = next((i for i in infusions if str(i.pk) == raw), None)
        if selected is None:
            raise Http404("No such infusion for this patient")
    now = timezone.now()
    figures = timeline_figures(selected, now=now)
    with timezone.override(ZoneInfo(selected.care_team.time_zone)):
        return _render_timeline(request, patient, selected, infusions, figures, now)


def _render_timeline(request, patient, selected, infusions, figures, now):
    return render(
        request,
        "dashboards/timeline.html",
        {
            "patient": patient,
            "infusion": selected,
            "infusions": infusions,
            "figures": figures,
            "day": selected.day_post_infusion(now),
            "age": int(patient.age_years_at(now)),
            "charts_payload": [{"id": f["id"], "figure": f["figure"]} for f in figures if f["has_data"]],
        },
    )


def _parse_date(raw: str | None, fallback: date) -> date:
    try:
        return date.fromisoformat(raw) if raw else fallback
    except ValueError:
        return fallback


@require_GET
@login_required
@capability_required("analytics.view")
@reads_from_replica
@in_care_team_zone
def analytics(request):
    tz = ZoneInfo(timezone.get_current_timezone_name())
    today = timezone.now().astimezone(tz).date()
    default_start, default_end = default_range(today)
    start = _parse_date(request.GET.get("start"), default_start)
    end = _parse_date(request.GET.get("end"), default_end)
    error = ""
    if start > end:
        error = "The start date is after the end date: showing the default range."
        start, end = default_start, default_end
    cohort = cohort_analytics(request.user, start=start, end=end, tz=tz)
    return render(
        request,
        "dashboards/analytics.html",
        {
            "cohort": cohort,
            "error": error,
            "charts_payload": [{"id": f["id"], "figure": f["figure"]} for f in cohort.figures],
        },
    )
