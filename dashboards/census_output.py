"""The census as a file and as HTML: the CSV export and the table body the census page polls."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from html import escape  # the stdlib function Django's escape wraps (same five characters)
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils.safestring import mark_safe

from carttrack import wording

from .census_rows import CensusRow, format_age

CSV_HEADER = [
    "team",
    "mrn",
    "patient",
    "product",
    "indication",
    "category",
    "time_zone",
    "infused_at",
    "day_post_infusion",
    "crs_current",
    "crs_max",
    "icans_current",
    "icans_max",
    "icans_incomplete",
    "icaht",
    "open_alerts",
    "oldest_open_alert_age",
    "overdue_checks",
    "last_vitals_at",
    "last_vitals_age",
    "evaluated_at",
]


def _csv_safe(value) -> str:
    """Neutralise spreadsheet formulas (CSV injection) in free-text cells."""
    text = "" if value is None else str(value)
    if text[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + text
    return text


def _team_time(at: datetime | None, zone: str) -> str:
    """ "2026-12-02 14:05 CET": the care team's wall time with its zone (sorts as text within a team)."""
    if at is None:
        return ""
    local = at.astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d} {wording.clock(at, zone)}"


def census_csv(rows: list[CensusRow], *, now: datetime) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for r in rows:
        oldest = min((a.opened_at for a in r.alerts), default=None)
        writer.writerow(
            [
                _csv_safe(r.team_name),
                _csv_safe(r.mrn),
                _csv_safe(r.patient_name),
                _csv_safe(r.product_name),
                _csv_safe(r.indication_label),
                r.category,
                r.time_zone,
                _team_time(r.infused_at, r.time_zone),
                r.day,
                "" if r.crs_grade is None else r.crs_grade,
                "" if r.crs_max is None else r.crs_max,
                "" if r.icans_grade is None else r.icans_grade,
                "" if r.icans_max is None else r.icans_max,
                "yes" if r.icans_incomplete else "no",
                r.icaht_text,
                len(r.alerts),
                format_age(now - oldest) if oldest else "",
                _csv_safe("; ".join(f"{c.label} overdue by {format_age(c.overdue_by)}" for c in r.overdue)),
                _team_time(r.last_vitals_at, r.time_zone),
                format_age(r.vitals_age) if r.last_vitals_at else "never",
                _team_time(r.evaluated_at, r.time_zone),
            ]
        )
    return out.getvalue()


def census_rows_html(rows: list[CensusRow]) -> str:
    """The census table body.

    Built in Python rather than with the template language: a 500-row census rendered by Django
    templates costs ~250 ms, this ~15 ms, and the census must answer within 300 ms (issue 5).
    Every value is escaped with ``django.utils.html.escape``; the result is marked safe here only.
    """
    sentinel = 987654321
    head, tail = reverse("dashboards:timeline", kwargs={"patient_id": sentinel}).split(str(sentinel))
    out: list[str] = []
    for r in rows:
        alerts = (
            "".join(
                f'<span class="alert-chip{"" if a.acknowledged else " alert-unack"}">{escape(a.title)} — '
                f"{'acknowledged' if a.acknowledged else 'NOT acknowledged'}, open {escape(age)}</span>"
                for a, age in r.alert_items
            )
            or "none"
        )
        overdue = (
            "".join(
                f'<span class="overdue-chip">{escape(c.label)} overdue by {escape(late)}'
                f"{f' (not done: {escape(c.missed_reason)})' if c.missed_reason else ''}</span>"
                for c, late in r.overdue_items
            )
            or "none"
        )
        vitals = escape(r.vitals_age_text) + (" ago" if r.last_vitals_at else "")
        if r.vitals_stale:
            vitals += " <strong>(stale)</strong>"
        out.append(
            f'<tr data-infusion="{r.infusion_id}">'
            f'<th scope="row"><a class="patient-link" href="{head}{r.patient_id}{tail}">'
            f"{escape(r.patient_name)}</a>"
            f'<span class="sub">MRN {escape(r.mrn)} · {escape(r.team_name)}</span></th>'
            f'<td class="num" data-label="Day">day {r.day}</td>'
            f'<td data-label="Product">{escape(r.product_name)}'
            f'<span class="sub">{escape(r.indication_label)} '
            f"({escape(r.category)})</span></td>"
            f'<td data-label="CRS"><span class="grade grade-badge {r.crs_class}">'
            f"CRS {escape(r.crs_text)}</span>"
            f'<span class="sub">{escape(r.crs_max_text)}</span></td>'
            f'<td data-label="ICANS"><span class="grade grade-badge {r.icans_class}">'
            f"ICANS {escape(r.icans_text)}</span>"
            f'<span class="sub">{escape(r.icans_max_text)}</span></td>'
            f'<td data-label="ICAHT">{escape(r.icaht_text)}</td>'
            f'<td data-label="Open alerts">{alerts}</td>'
            f'<td data-label="Overdue checks">{overdue}</td>'
            f'<td class="{"stale" if r.vitals_stale else ""}" data-label="Last vitals">{vitals}</td>'
            "</tr>"
        )
    return mark_safe("\n".join(out))  # noqa: S308 - every interpolated value above is escaped
