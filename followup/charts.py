"""Trajectory charts of the follow-up page as inline SVG drawn on the server (no script: the site's
Content-Security-Policy allows none inline). One line per course; months after that course's
infusion on the x axis. The same values are in a table under each chart."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .selectors import Trajectory

WIDTH, HEIGHT, PAD = 560, 160, 34
COURSE_COLOURS = ("#1f5fa8", "#b5461c", "#2e7d32", "#6a1b9a")


def svg(t: Trajectory) -> SafeString:
    if not t.points:
        return mark_safe("")
    x_max = max(1.0, max(p.month for p in t.points))
    x_min = min(0.0, min(p.month for p in t.points))
    y_max = max(p.value for p in t.points) or 1.0

    def x(month: float) -> float:
        return PAD + (month - x_min) / (x_max - x_min) * (WIDTH - 2 * PAD)

    def y(value: float) -> float:
        return HEIGHT - PAD - value / y_max * (HEIGHT - 2 * PAD)

    parts = [
        f'<svg class="trajectory" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(t.label)} by month after infusion, per course">',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>',
        f'<text x="{PAD}" y="{HEIGHT - 8}" font-size="11">month {round(x_min, 1):g}</text>',
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" font-size="11" text-anchor="end">month {x_max:.0f}</text>',
        f'<text x="4" y="{PAD - 8}" font-size="11">{escape(t.label)} max {y_max:g} {escape(t.unit)}</text>',
    ]
    for course in sorted({p.course for p in t.points}):
        colour = COURSE_COLOURS[(course - 1) % len(COURSE_COLOURS)]
        pts = sorted((p for p in t.points if p.course == course), key=lambda p: p.month)
        line = " ".join(f"{x(p.month):.1f},{y(p.value):.1f}" for p in pts)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{line}"/>')
        parts.extend(
            f'<circle cx="{x(p.month):.1f}" cy="{y(p.value):.1f}" r="3" fill="{colour}">'
            f"<title>Course {course}, month {p.month:.1f}: {p.value:g} {escape(t.unit)}</title></circle>"
            for p in pts
        )
        parts.append(
            f'<text x="{WIDTH - PAD}" y="{12 + 12 * course}" font-size="11" text-anchor="end" '
            f'fill="{colour}">course {course}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text part is escaped above
