"""One piece: every timeline panel is a method of one builder sharing its time axis, hover and markers.

Plotly figures of one infusion's course, on one time axis (day post-infusion).

The figures are plain Plotly JSON (dicts), built without ``plotly.graph_objects`` (its validation
costs far more than the 200 ms budget of a 30-day timeline) and rendered in the browser by
``static/js/charts.js`` (no inline script: the JSON travels through ``json_script``).

Every observation row is shown as what it is: current values as lines, values replaced by an
amendment as grey open circles ("superseded"), values marked entered-in-error as red crosses.
Hover shows value, unit, who recorded it and when (care team time zone).

Reads only: five queries (observations with their recorder, evaluations, alerts, the infusion, the
site's newest decision policy).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from alerts.models import Alert
from carttrack import DecisionSettings, units, wording
from carttrack.crs_components import FEVER_C, calculated_map, hypotension_sbp_threshold
from carttrack.icaht import PROFOUND_ANC, SEVERE_ANC
from carttrack.t_icaht import EARLY_PLT, SEVERE_PLT
from monitoring.grading import settings_for
from monitoring.models import (
    GradeEvaluation,
    Infusion,
    Observation,
    ObservationKind,
    ObservationStatus,
)

# Threshold lines come from the clinical core and the site's decision settings (the ones grading uses),
# so a line moves when the site changes its threshold.  Only this reference line is the chart's own:
HGB_TRANSFUSION = 8.0  # MGMT-21 [Brudno 2016] Table 2: red cells to keep Hb ≥ 8.0 g/dL (display only)

STEROIDS = frozenset({"dexamethasone", "methylprednisolone", "hydrocortisone", "prednisone", "prednisolone"})
ANTIPYRETICS = frozenset(
    {"acetaminophen", "paracetamol", "ibuprofen", "naproxen", "ketorolac", "metamizole", "nsaid"}
)
INOTROPES = frozenset({"dobutamine", "milrinone", "isoproterenol"})

COLOURS = {
    "temp": "#b03a2e",
    "hr": "#6c3483",
    "sbp": "#1f618d",
    "dbp": "#5dade2",
    "map": "#117864",
    "spo2": "#1a5276",
    "o2": "#85c1e9",
    "vaso": "#7b241c",
    "crs": "#c0392b",
    "icans": "#1f4e9c",
    "ice": "#145a32",
    "crp": "#935116",
    "ferritin": "#6e2c00",
    "il6": "#4a235a",
    "anc": "#0b5345",
    "plt": "#7d3c98",
    "hgb": "#922b21",
    "threshold": "#555555",
    "superseded": "#8c8c8c",
    "error": "#c0392b",
    "toci": "#b9770e",
    "steroid": "#1e8449",
    "antipyretic": "#2e86c1",
    "drug": "#566573",
    "alert_open": "#c0392b",
    "alert_ack": "#196f3d",
}


def _num(value):
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def temp_c(payload: dict) -> float | None:
    if payload.get("temp_c") is not None:
        return _num(payload["temp_c"])
    f = _num(payload.get("temp_f"))
    return None if f is None else units.f_to_c(f)


def mean_arterial_pressure(payload: dict) -> float | None:
    if payload.get("map") is not None:
        return _num(payload["map"])
    sbp, dbp = _num(payload.get("sbp")), _num(payload.get("dbp"))
    if sbp is None or dbp is None:
        return None
    return calculated_map(sbp, dbp)


def crp_mg_l(payload: dict) -> float | None:
    if payload.get("crp_mg_L") is not None:
        return _num(payload["crp_mg_L"])
    v = _num(payload.get("crp_mg_dL"))
    return None if v is None else units.crp_mg_dl_to_mg_l(v)


def il6(payload: dict) -> float | None:
    for key in ("il6_pg_mL", "il_6_pg_mL", "il6"):
        if payload.get(key) is not None:
            return _num(payload[key])
    return None


def ice_score(payload: dict) -> float | None:
    ice = payload.get("ice")
    if not isinstance(ice, dict):
        return None
    items = [ice.get(k) for k in ("orientation", "naming", "commands", "writing", "attention")]
    if any(v is None or isinstance(v, bool) or not isinstance(v, int | float) for v in items):
        return None  # an item not assessable: no total (B-1, ICE-5)
    return float(sum(items))


def capd_score(payload: dict) -> float | None:
    items = payload.get("capd_items")
    if not isinstance(items, list) or len(items) != 8 or not all(isinstance(v, int | float) for v in items):
        return None
    return float(sum(items))


def plain(value: object) -> str:
    """Free text (reasons, names, drugs, events) for Plotly's hover, which renders a subset of HTML
    (<b>, <br>, <a href>): escaped, so it shows as typed and can never become markup or a live link."""
    return html.escape(str(value), quote=False)


@dataclass
class Point:
    x: float
    y: float
    text: str


@dataclass
class Series:
    current: list[Point] = field(default_factory=list)
    superseded: list[Point] = field(default_factory=list)
    in_error: list[Point] = field(default_factory=list)


class TimelineBuilder:
    def __init__(self, infusion: Infusion, *, settings: DecisionSettings, now: datetime | None = None):
        self.infusion = infusion
        self.settings = settings
        self.now = now or timezone.now()
        self.tz = ZoneInfo(infusion.care_team.time_zone)
        self.patient = infusion.patient
        self.age = self.patient.age_years_at(infusion.infused_at)
        self._when_cache: dict[datetime, str] = {}

    # --- helpers ---------------------------------------------------------------------------------
    def day(self, moment: datetime) -> float:
        return round((moment - self.infusion.infused_at).total_seconds() / 86400.0, 4)

    def when(self, moment: datetime) -> str:
        text = self._when_cache.get(moment)
        if text is None:
            text = self._when_cache[moment] = moment.astimezone(self.tz).strftime("%d %b %Y %H:%M %Z")
        return text

    def on_day(self, moment: datetime) -> str:
        """ "Day 3": the day after infusion, by the team's calendar (the x axis is its decimal)."""
        return f"Day {wording.infusion_day(moment, self.infusion.infused_at, self.tz)}"

    def who(self, obs: Observation) -> str:
        user = obs.recorded_by
        return plain(user) if user else "unknown"

    def describe(self, obs: Observation, label: str, value: float, unit: str, state: str, reason: str) -> str:
        shown = f"{value:.1f}" if abs(value) < 100 and value != int(value) else f"{value:g}"
        lines = [
            f"<b>{label}: {shown} {unit}</b>".replace("  ", " "),
            f"{self.on_day(obs.observed_at)} · observed {self.when(obs.observed_at)}",
            f"Recorded by {self.who(obs)} at {self.when(obs.recorded_at)}",
        ]
        if state == "superseded":
            lines.append(f"SUPERSEDED by an amendment: {reason}" if reason else "SUPERSEDED by an amendment")
        elif state == "error":
            lines.append(f"ENTERED IN ERROR: {reason}" if reason else "ENTERED IN ERROR")
        elif obs.status == ObservationStatus.AMENDED:
            lines.append(f"Amended value ({plain(obs.reason)})" if obs.reason else "Amended value")
        return "<br>".join(lines)

    # --- loading ---------------------------------------------------------------------------------
    def load(self) -> None:
        observations = list(
            Observation.objects.filter(infusion=self.infusion)
            .select_related("recorded_by")
            .only(
                "id",
                "kind",
                "payload",
                "observed_at",
                "recorded_at",
                "status",
                "supersedes_id",
                "reason",
                "recorded_by__id",
                "recorded_by__username",
                "recorded_by__display_name",
                "recorded_by__first_name",
                "recorded_by__last_name",
            )
            .order_by("observed_at", "id")
        )
        # Corrections: the row that supersedes an original says how it was corrected.
        self.correction_of: dict[int, Observation] = {}
        for obs in observations:
            if obs.supersedes_id is not None:
                self.correction_of[obs.supersedes_id] = obs
        self.observations = [o for o in observations if o.status != ObservationStatus.ENTERED_IN_ERROR]
        self.by_kind: dict[str, list[Observation]] = {}
        for obs in self.observations:
            self.by_kind.setdefault(obs.kind, []).append(obs)
        self.evaluations = list(
            GradeEvaluation.objects.filter(infusion=self.infusion)
            .select_related("triggered_by")
            .only(
                "id",
                "evaluated_at",
                "crs_grade",
                "icans_grade",
                "icans_incomplete",
                "crs_max",
                "icans_max",
                "rule_set",
                "triggered_by__observed_at",
            )
            .order_by("evaluated_at", "id")
        )
        self.alerts = list(
            Alert.objects.filter(infusion=self.infusion)
            .select_related("acknowledged_by")
            .only(
                "id",
                "syndrome",
                "grade",
                "status",
                "opened_at",
                "acknowledged_at",
                "resolved_at",
                "acknowledged_by__username",
                "acknowledged_by__display_name",
                "acknowledged_by__first_name",
                "acknowledged_by__last_name",
            )
            .order_by("opened_at")
        )

    def state_of(self, obs: Observation) -> tuple[str, str]:
        correction = self.correction_of.get(obs.pk)
        if correction is None:
            return "current", ""
        if correction.status == ObservationStatus.ENTERED_IN_ERROR:
            return "error", plain(correction.reason)
        return "superseded", plain(correction.reason)

    def series(self, kind: str, extract, label: str, unit: str) -> Series:
        out = Series()
        for obs in self.by_kind.get(kind, ()):
            value = extract(obs.payload or {})
            if value is None:
                continue
            state, reason = self.state_of(obs)
            point = Point(
                self.day(obs.observed_at), value, self.describe(obs, label, value, unit, state, reason)
            )
            {"current": out.current, "superseded": out.superseded, "error": out.in_error}[state].append(point)
        return out

    # --- traces ----------------------------------------------------------------------------------
    @staticmethod
    def line(
        name: str,
        points: list[Point],
        colour: str,
        *,
        yaxis: str = "y",
        shape: str = "linear",
        dash: str = "solid",
        fill: str | None = None,
    ) -> dict:
        trace = {
            "type": "scatter",
            "mode": "lines+markers",
            "name": name,
            "yaxis": yaxis,
            "x": [p.x for p in points],
            "y": [p.y for p in points],
            "text": [p.text for p in points],
            "hovertemplate": "%{text}<extra></extra>",
            "line": {"color": colour, "shape": shape, "dash": dash, "width": 2},
            "marker": {"size": 6, "color": colour},
        }
        if fill:
            trace["fill"] = fill
        return trace

    @staticmethod
    def markers(name: str, points: list[Point], marker: dict, *, yaxis: str = "y") -> dict:
        """A markers-only trace (corrections, boluses, alerts): hover shows each point's text."""
        return {
            "type": "scatter",
            "mode": "markers",
            "name": name,
            "yaxis": yaxis,
            "x": [p.x for p in points],
            "y": [p.y for p in points],
            "text": [p.text for p in points],
            "hovertemplate": "%{text}<extra></extra>",
            "marker": marker,
        }

    def with_corrections(
        self, name: str, series: Series, colour: str, *, yaxis: str = "y", **kw
    ) -> list[dict]:
        traces = [self.line(name, series.current, colour, yaxis=yaxis, **kw)]
        if series.superseded:
            traces.append(
                self.markers(
                    f"{name} (superseded by amendment)",
                    series.superseded,
                    {
                        "symbol": "circle-open",
                        "size": 10,
                        "color": COLOURS["superseded"],
                        "line": {"width": 2},
                    },
                    yaxis=yaxis,
                )
            )
        if series.in_error:
            traces.append(
                self.markers(
                    f"{name} (entered in error)",
                    series.in_error,
                    {"symbol": "x-thin-open", "size": 11, "color": COLOURS["error"], "line": {"width": 2}},
                    yaxis=yaxis,
                )
            )
        return traces

    def hline(self, y: float, label: str, *, yref: str = "y") -> tuple[dict, dict]:
        shape = {
            "type": "line",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "yref": yref,
            "y0": y,
            "y1": y,
            "line": {"color": COLOURS["threshold"], "dash": "dash", "width": 1.5},
        }
        note = {
            "xref": "paper",
            "x": 1,
            "xanchor": "right",
            "yref": yref,
            "y": y,
            "yanchor": "bottom",
            "text": label,
            "showarrow": False,
            "font": {"size": 11, "color": "#333"},
        }
        return shape, note

    def marker_lines(self) -> list[dict]:
        """Dotted vertical lines at tocilizumab and steroid doses, on every panel."""
        shapes = []
        for obs in self.observations:
            if obs.kind != ObservationKind.MEDICATION or self.state_of(obs)[0] != "current":
                continue
            drug = str((obs.payload or {}).get("drug", "")).lower()
            if drug == "tocilizumab" or drug in STEROIDS:
                x = self.day(obs.observed_at)
                colour = COLOURS["toci"] if drug == "tocilizumab" else COLOURS["steroid"]
                shapes.append(
                    {
                        "type": "line",
                        "xref": "x",
                        "x0": x,
                        "x1": x,
                        "yref": "paper",
                        "y0": 0,
                        "y1": 1,
                        "line": {"color": colour, "dash": "dot", "width": 1},
                    }
                )
        return shapes

    def layout(
        self,
        title: str,
        ytitle: str,
        *,
        shapes=(),
        annotations=(),
        extra: dict | None = None,
        height: int = 260,
    ) -> dict:
        layout = {
            "meta": {"title": title},  # the page shows the title as a heading above the chart
            "height": height,
            "margin": {"l": 64, "r": 64, "t": 16, "b": 44},
            "xaxis": {
                "title": {"text": "Day post-infusion"},
                "range": list(self.x_range),
                "zeroline": True,
                "dtick": 1 if self.x_range[1] - self.x_range[0] <= 16 else 2,
                "gridcolor": "#e5e5e5",
            },
            "yaxis": {"title": {"text": ytitle}, "gridcolor": "#e5e5e5"},
            "shapes": list(shapes) + self.vertical_marks,
            "annotations": list(annotations),
            "legend": {"orientation": "h", "y": -0.3},
            "hovermode": "closest",
            "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#ffffff",
        }
        if extra:
            for key, value in extra.items():
                layout[key] = value
        return layout

    # --- figures ---------------------------------------------------------------------------------
    def build(self) -> list[dict]:
        self.load()
        last = max([self.day(self.now)] + [self.day(o.observed_at) for o in self.observations[-1:]])
        first = min([0.0] + [self.day(o.observed_at) for o in self.observations[:1]])
        self.x_range = (round(first - 0.25, 2), round(last + 0.25, 2))
        self.vertical_marks = self.marker_lines()
        figures = [
            self.fig_temperature(),
            self.fig_heart_rate(),
            self.fig_blood_pressure(),
            self.fig_oxygen(),
            self.fig_vasopressors(),
            self.fig_grades(),
            self.fig_neuro(),
            self.fig_inflammation(),
            self.fig_neutrophils(),
            self.fig_platelets_hb(),
            self.fig_events(),
        ]
        return figures

    def figure(
        self, key: str, title: str, traces: list[dict], layout: dict, summary: str, log_toggle: bool = False
    ) -> dict:
        has_data = any(t.get("x") for t in traces)
        return {
            "id": f"chart-{key}",
            "title": title,
            "summary": summary if has_data else f"{title}: no data yet.",
            "log_toggle": log_toggle,
            "has_data": has_data,
            "figure": {"data": traces, "layout": layout},
        }

    def _last_text(self, series: Series, unit: str) -> str:
        if not series.current:
            return "no current values"
        p = series.current[-1]
        return f"latest {p.y:g} {unit} on day {p.x:.1f}, {len(series.current)} values"

    def fig_temperature(self) -> dict:
        s = self.series(ObservationKind.VITALS, temp_c, "Temperature", "°C")
        shape, note = self.hline(FEVER_C, f"Fever ≥ {FEVER_C:.1f} °C")
        layout = self.layout("Temperature", "°C", shapes=[shape], annotations=[note])
        layout["yaxis"]["range"] = [35, 41.5]
        return self.figure(
            "temperature",
            "Temperature",
            self.with_corrections("Temperature", s, COLOURS["temp"]),
            layout,
            f"Temperature: {self._last_text(s, '°C')}.",
        )

    def fig_heart_rate(self) -> dict:
        s = self.series(ObservationKind.VITALS, lambda p: _num(p.get("hr")), "Heart rate", "/min")
        return self.figure(
            "heart-rate",
            "Heart rate",
            self.with_corrections("Heart rate", s, COLOURS["hr"]),
            self.layout("Heart rate", "beats/min"),
            f"Heart rate: {self._last_text(s, '/min')}.",
        )

    def fig_blood_pressure(self) -> dict:
        sbp = self.series(ObservationKind.VITALS, lambda p: _num(p.get("sbp")), "Systolic BP", "mmHg")
        mean = self.series(ObservationKind.VITALS, mean_arterial_pressure, "MAP", "mmHg")
        dbp = self.series(ObservationKind.VITALS, lambda p: _num(p.get("dbp")), "Diastolic BP", "mmHg")
        s = self.settings
        threshold = hypotension_sbp_threshold(self.age, s)
        shapes, notes = [], []
        s1, n1 = self.hline(threshold, f"Hypotension: SBP < {threshold:g}")
        shapes.append(s1)
        notes.append(n1)
        if self.age >= s.adult_age_years and s.use_map_in_adults:
            s2, n2 = self.hline(s.adult_map_below_mmhg, f"MAP < {s.adult_map_below_mmhg:g}")
            s2["line"]["color"] = COLOURS["map"]
            shapes.append(s2)
            notes.append(n2)
        traces = (
            self.with_corrections("Systolic", sbp, COLOURS["sbp"])
            + self.with_corrections("MAP", mean, COLOURS["map"])
            + self.with_corrections("Diastolic", dbp, COLOURS["dbp"], dash="dot")
        )
        return self.figure(
            "blood-pressure",
            "Blood pressure (SBP / MAP)",
            traces,
            self.layout("Blood pressure (SBP / MAP)", "mmHg", shapes=shapes, annotations=notes),
            f"Systolic blood pressure: {self._last_text(sbp, 'mmHg')}.",
        )

    def fig_oxygen(self) -> dict:
        spo2 = self.series(ObservationKind.VITALS, lambda p: _num(p.get("spo2")), "SpO2", "%")
        band: list[Point] = []
        for obs in self.observations:
            if obs.kind != ObservationKind.VITALS or self.state_of(obs)[0] != "current":
                continue
            p = obs.payload or {}
            device = p.get("o2_device")
            if device is None and p.get("o2_flow_l_min") is None:
                continue
            flow = _num(p.get("o2_flow_l_min")) or 0.0
            device_text = plain(str(device or "room_air").replace("_", " "))
            extra = []
            if p.get("fio2") is not None:
                extra.append(f"FiO2 {p['fio2']}")
            if p.get("o2_for_comfort_only"):
                extra.append("for comfort only")
            text = (
                f"<b>Oxygen: {device_text}, {flow:g} L/min</b>{' · ' + ', '.join(extra) if extra else ''}"
                f"<br>{self.on_day(obs.observed_at)} · observed {self.when(obs.observed_at)}"
                f"<br>Recorded by {self.who(obs)} at {self.when(obs.recorded_at)}"
            )
            band.append(Point(self.day(obs.observed_at), flow if device != "room_air" else 0.0, text))
        traces = self.with_corrections("SpO2", spo2, COLOURS["spo2"])
        o2 = self.line(
            "O2 flow (device in hover)", band, COLOURS["o2"], yaxis="y2", shape="hv", fill="tozeroy"
        )
        o2["mode"] = "lines"
        o2["line"]["width"] = 1
        traces.insert(0, o2)
        layout = self.layout(
            "SpO2 and oxygen",
            "SpO2 %",
            extra={
                "yaxis2": {
                    "title": {"text": "O2 L/min"},
                    "overlaying": "y",
                    "side": "right",
                    "rangemode": "tozero",
                    "showgrid": False,
                },
            },
        )
        layout["yaxis"]["range"] = [70, 101]
        return self.figure(
            "oxygen",
            "SpO2 with oxygen device and flow",
            traces,
            layout,
            f"SpO2: {self._last_text(spo2, '%')}; oxygen entries: {len(band)}.",
        )

    def fig_vasopressors(self) -> dict:
        points: list[Point] = []
        bolus: list[Point] = []
        for obs in self.observations:
            if obs.kind != ObservationKind.VITALS or self.state_of(obs)[0] != "current":
                continue
            p = obs.payload or {}
            drugs = [str(d) for d in (p.get("vasopressors") or [])]
            pressors = [d for d in drugs if d not in INOTROPES]
            names = plain(", ".join(d.replace("_", " ") for d in drugs) or "none")
            text = (
                f"<b>Vasopressors: {len(pressors)}</b> ({names})"
                f"<br>{self.on_day(obs.observed_at)} · observed {self.when(obs.observed_at)}"
                f"<br>Recorded by {self.who(obs)} at {self.when(obs.recorded_at)}"
            )
            if "vasopressors" in p:
                points.append(Point(self.day(obs.observed_at), float(len(pressors)), text))
            if p.get("fluid_bolus_for_hypotension"):
                bolus.append(
                    Point(
                        self.day(obs.observed_at),
                        0.0,
                        text.replace(
                            "<b>Vasopressors", "<b>Fluid bolus for hypotension</b><br>Vasopressors", 1
                        ),
                    )
                )
        traces = [self.line("Vasopressors (count)", points, COLOURS["vaso"], shape="hv")]
        if bolus:
            traces.append(
                self.markers(
                    "Fluid bolus", bolus, {"symbol": "triangle-up", "size": 12, "color": COLOURS["sbp"]}
                )
            )
        layout = self.layout("Vasopressors", "number of drugs", height=200)
        layout["yaxis"].update({"range": [-0.3, 3.3], "dtick": 1})
        return self.figure(
            "vasopressors",
            "Vasopressors",
            traces,
            layout,
            f"Vasopressor entries: {len(points)}; fluid boluses: {len(bolus)}.",
        )

    def fig_grades(self) -> dict:
        crs: list[Point] = []
        icans: list[Point] = []
        missing: list[Point] = []
        for ev in self.evaluations:
            moment = ev.triggered_by.observed_at if ev.triggered_by_id else ev.evaluated_at
            x = self.day(moment)
            rules = html.escape(wording.rule_set(ev.rule_set))
            base = f"<br>{self.on_day(moment)} · {self.when(moment)} · rules: {rules}"
            if ev.crs_grade is not None:
                crs.append(
                    Point(x, ev.crs_grade, f"<b>CRS grade {ev.crs_grade}</b> (max {ev.crs_max}){base}")
                )
            if ev.icans_grade is not None:
                flag = " — incomplete" if ev.icans_incomplete else ""
                icans.append(
                    Point(
                        x,
                        ev.icans_grade,
                        f"<b>ICANS grade {ev.icans_grade}{flag}</b> (max {ev.icans_max}){base}",
                    )
                )
            else:
                missing.append(Point(x, -0.4, f"<b>ICANS not assessable</b>{base}"))
        traces = [
            self.line("CRS grade", crs, COLOURS["crs"], shape="hv"),
            self.line("ICANS grade", icans, COLOURS["icans"], shape="hv", dash="dash"),
        ]
        if missing:
            traces.append(
                self.markers(
                    "ICANS not assessable",
                    missing,
                    {"symbol": "line-ew-open", "size": 12, "color": COLOURS["icans"]},
                )
            )
        layout = self.layout("CRS and ICANS grade (ASTCT)", "grade", height=230)
        layout["yaxis"].update(
            {
                "range": [-0.6, 5.3],
                "tickvals": [0, 1, 2, 3, 4, 5],
                "ticktext": ["0", "G1", "G2", "G3", "G4", "G5"],
            }
        )
        last = self.evaluations[-1] if self.evaluations else None
        summary = (
            f"Latest CRS grade {last.crs_grade}, ICANS grade "
            f"{'not assessable' if last.icans_grade is None else last.icans_grade}."
            if last
            else "No grade evaluated yet."
        )
        return self.figure("grades", "CRS and ICANS grade", traces, layout, summary)

    def fig_neuro(self) -> dict:
        ice = self.series(ObservationKind.NEURO, ice_score, "ICE score", "/10")
        capd = self.series(ObservationKind.NEURO, capd_score, "CAPD score", "/32")
        traces = self.with_corrections("ICE (0–10, lower is worse)", ice, COLOURS["ice"])
        extra = None
        if capd.current or capd.superseded or capd.in_error:
            traces += self.with_corrections("CAPD (0–32, ≥ 9 positive)", capd, COLOURS["icans"], yaxis="y2")
            extra = {
                "yaxis2": {
                    "title": {"text": "CAPD"},
                    "overlaying": "y",
                    "side": "right",
                    "range": [0, 32],
                    "showgrid": False,
                }
            }
        layout = self.layout("ICE / CAPD", "ICE score", extra=extra, height=230)
        layout["yaxis"].update({"range": [-0.5, 10.5], "dtick": 2})
        return self.figure(
            "neuro",
            "ICE / CAPD",
            traces,
            layout,
            f"ICE: {self._last_text(ice, '/10')}; CAPD: {self._last_text(capd, '/32')}.",
        )

    def fig_inflammation(self) -> dict:
        crp = self.series(ObservationKind.LAB, crp_mg_l, "CRP", "mg/L")
        ferritin = self.series(
            ObservationKind.LAB, lambda p: _num(p.get("ferritin_ng_mL")), "Ferritin", "ng/mL"
        )
        il6_s = self.series(ObservationKind.LAB, il6, "IL-6", "pg/mL")
        traces = (
            self.with_corrections("CRP (mg/L)", crp, COLOURS["crp"])
            + self.with_corrections("Ferritin (ng/mL)", ferritin, COLOURS["ferritin"], yaxis="y2")
            + self.with_corrections("IL-6 (pg/mL)", il6_s, COLOURS["il6"], yaxis="y2", dash="dot")
        )
        layout = self.layout(
            "CRP, ferritin, IL-6",
            "CRP mg/L",
            extra={
                "yaxis2": {
                    "title": {"text": "ferritin ng/mL · IL-6 pg/mL"},
                    "overlaying": "y",
                    "side": "right",
                    "showgrid": False,
                },
            },
        )
        return self.figure(
            "inflammation",
            "CRP, ferritin and IL-6",
            traces,
            layout,
            f"CRP: {self._last_text(crp, 'mg/L')}; ferritin: {self._last_text(ferritin, 'ng/mL')}; "
            f"IL-6: {self._last_text(il6_s, 'pg/mL')}.",
            log_toggle=True,
        )

    def fig_neutrophils(self) -> dict:
        anc = self.series(ObservationKind.LAB, lambda p: _num(p.get("anc_per_uL")), "ANC", "/µL")
        s1, n1 = self.hline(SEVERE_ANC, f"ICAHT: ANC ≤ {SEVERE_ANC:g}")
        s2, n2 = self.hline(PROFOUND_ANC, f"ANC ≤ {PROFOUND_ANC:g}")
        layout = self.layout("Neutrophils (ANC)", "/µL", shapes=[s1, s2], annotations=[n1, n2])
        return self.figure(
            "neutrophils",
            "Neutrophils (ANC) with ICAHT thresholds",
            self.with_corrections("ANC", anc, COLOURS["anc"]),
            layout,
            f"ANC: {self._last_text(anc, '/µL')}.",
            log_toggle=True,
        )

    def fig_platelets_hb(self) -> dict:
        plt = self.series(
            ObservationKind.LAB, lambda p: _num(p.get("platelets_10e9_L")), "Platelets", "×10⁹/L"
        )
        hgb = self.series(ObservationKind.LAB, lambda p: _num(p.get("hgb_g_dL")), "Haemoglobin", "g/dL")
        shapes, notes = [], []
        for threshold in (EARLY_PLT, SEVERE_PLT):  # T-ICAHT
            s, n = self.hline(threshold, f"Platelets < {threshold:g}")
            shapes.append(s)
            notes.append(n)
        s, n = self.hline(HGB_TRANSFUSION, f"Hb {HGB_TRANSFUSION:g} g/dL", yref="y2")
        s["line"]["color"] = COLOURS["hgb"]
        n["xanchor"], n["x"] = "left", 0
        shapes.append(s)
        notes.append(n)
        traces = self.with_corrections("Platelets (×10⁹/L)", plt, COLOURS["plt"]) + self.with_corrections(
            "Haemoglobin (g/dL)", hgb, COLOURS["hgb"], yaxis="y2", dash="dash"
        )
        layout = self.layout(
            "Platelets and haemoglobin",
            "platelets ×10⁹/L",
            shapes=shapes,
            annotations=notes,
            extra={
                "yaxis2": {
                    "title": {"text": "Hb g/dL"},
                    "overlaying": "y",
                    "side": "right",
                    "rangemode": "tozero",
                    "showgrid": False,
                }
            },
        )
        return self.figure(
            "platelets-hb",
            "Platelets and haemoglobin",
            traces,
            layout,
            f"Platelets: {self._last_text(plt, '×10⁹/L')}; haemoglobin: {self._last_text(hgb, 'g/dL')}.",
        )

    def fig_events(self) -> dict:
        rows = ["Alerts", "Other drugs", "Antipyretics", "Steroids", "Tocilizumab"]
        groups: dict[str, list[Point]] = {r: [] for r in rows}
        corrected: list[Point] = []
        toci_n = 0
        for obs in self.observations:
            if obs.kind not in (ObservationKind.MEDICATION, ObservationKind.EVENT):
                continue
            p = obs.payload or {}
            state, reason = self.state_of(obs)
            if obs.kind == ObservationKind.EVENT:
                name, row = f"Event: {str(p.get('event', '')).replace('_', ' ')}", "Other drugs"
                if p.get("attributed_to"):
                    name += f" (attributed to {p['attributed_to']})"
            else:
                drug = str(p.get("drug", "")).lower()
                dose = _num(p.get("dose_mg"))
                name = f"{drug.replace('_', ' ')} {dose:g} mg" if dose is not None else drug.replace("_", " ")
                if drug == "tocilizumab":
                    row = "Tocilizumab"
                    if state == "current":
                        toci_n += 1
                        name = (
                            f"Tocilizumab dose #{toci_n}: {dose:g} mg"
                            if dose is not None
                            else f"Tocilizumab dose #{toci_n}"
                        )
                elif drug in STEROIDS:
                    row = "Steroids"
                elif drug in ANTIPYRETICS:
                    row = "Antipyretics"
                else:
                    row = "Other drugs"
            text = (
                f"<b>{plain(name)}</b>"
                f"<br>{self.on_day(obs.observed_at)} · given {self.when(obs.observed_at)}"
                f"<br>Recorded by {self.who(obs)} at {self.when(obs.recorded_at)}"
            )
            if state == "superseded":
                text += f"<br>SUPERSEDED by an amendment: {reason}"
            elif state == "error":
                text += f"<br>ENTERED IN ERROR: {reason}"
            point = Point(self.day(obs.observed_at), rows.index(row), text)
            (corrected if state != "current" else groups[row]).append(point)
        alert_open: list[Point] = []
        alert_ack: list[Point] = []
        for alert in self.alerts:
            title = alert.title
            alert_open.append(
                Point(
                    self.day(alert.opened_at),
                    0,
                    f"<b>Alert opened: {title}</b>"
                    f"<br>{self.on_day(alert.opened_at)} · {self.when(alert.opened_at)}"
                    f"<br>Status: {alert.get_status_display()}",
                )
            )
            if alert.acknowledged_at:
                delay = (alert.acknowledged_at - alert.opened_at).total_seconds() / 60
                alert_ack.append(
                    Point(
                        self.day(alert.acknowledged_at),
                        0,
                        f"<b>Alert acknowledged: {title}</b><br>by {plain(alert.acknowledged_by)} at "
                        f"{self.when(alert.acknowledged_at)} ({delay:.0f} min after opening)",
                    )
                )
        traces = []
        symbols = {
            "Tocilizumab": ("diamond", COLOURS["toci"]),
            "Steroids": ("square", COLOURS["steroid"]),
            "Antipyretics": ("circle", COLOURS["antipyretic"]),
            "Other drugs": ("circle", COLOURS["drug"]),
        }
        for row, (symbol, colour) in symbols.items():
            pts = groups[row]
            trace = {
                "type": "scatter",
                "mode": "markers+text" if row == "Tocilizumab" else "markers",
                "name": row,
                "x": [p.x for p in pts],
                "y": [p.y for p in pts],
                "text": [p.text for p in pts],
                "hovertemplate": "%{text}<extra></extra>",
                "marker": {"symbol": symbol, "size": 13, "color": colour},
            }
            if row == "Tocilizumab":
                trace["texttemplate"] = [f"#{i + 1}" for i in range(len(pts))]
                trace["textposition"] = "top center"
            traces.append(trace)
        traces.append(
            self.markers(
                "Alert opened",
                alert_open,
                {"symbol": "triangle-up", "size": 14, "color": COLOURS["alert_open"]},
            )
        )
        traces.append(
            self.markers(
                "Alert acknowledged",
                alert_ack,
                {
                    "symbol": "star-triangle-up-open",
                    "size": 14,
                    "color": COLOURS["alert_ack"],
                    "line": {"width": 2},
                },
            )
        )
        if corrected:
            traces.append(
                self.markers(
                    "Corrected entries",
                    corrected,
                    {
                        "symbol": "x-thin-open",
                        "size": 11,
                        "color": COLOURS["superseded"],
                        "line": {"width": 2},
                    },
                )
            )
        layout = self.layout("Medications, events and alerts", "", height=260)
        layout["yaxis"].update({"tickvals": list(range(len(rows))), "ticktext": rows, "range": [-0.6, 4.8]})
        layout["margin"]["l"] = 100
        return self.figure(
            "events",
            "Medications, events and alerts",
            traces,
            layout,
            f"{toci_n} tocilizumab dose(s); {len(self.alerts)} alert(s), {len(alert_ack)} acknowledged.",
        )


def timeline_figures(infusion: Infusion, *, now: datetime | None = None) -> list[dict]:
    """The timeline figures of ``infusion`` (already scoped by the caller through ``visible_to``), with
    the threshold lines of the site's current decision settings."""
    return TimelineBuilder(infusion, settings=settings_for(infusion), now=now).build()
