"""Patient timeline: scoping, figures on one axis, thresholds, corrections visible, markers, CSP."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from dashboards import staticfiles
from dashboards.charts import timeline_figures
from dashboards.staticfiles import PlotlyFinder
from monitoring.models import DecisionPolicy
from tests import factories

from .helpers import alert, amend, evaluation, obs, void

pytestmark = pytest.mark.django_db


def url(patient_id):
    return reverse("dashboards:timeline", kwargs={"patient_id": patient_id})


@pytest.fixture
def course(infusion, nurse, physician):
    """A CRS grade 2 course: fever, hypotension, tocilizumab ×2, an amended and a voided value."""
    nurse.display_name = "Nurse Ratched"
    nurse.save()
    v1 = obs(
        infusion,
        "vitals",
        {"temp_c": 37.2, "hr": 80, "sbp": 120, "dbp": 70, "spo2": 98, "o2_device": "room_air"},
        hours=4,
        user=nurse,
    )
    v2 = obs(
        infusion,
        "vitals",
        {
            "temp_c": 39.1,
            "hr": 125,
            "sbp": 85,
            "dbp": 50,
            "spo2": 91,
            "o2_device": "nasal_cannula",
            "o2_flow_l_min": 3,
            "vasopressors": [],
            "fluid_bolus_for_hypotension": True,
        },
        hours=20,
        user=nurse,
    )
    typo = obs(infusion, "vitals", {"temp_c": 36.0, "hr": 100}, hours=22, user=nurse)
    amend(typo, {"temp_c": 38.6, "hr": 100}, user=nurse, reason="typed 36.0 for 38.6")
    wrong = obs(infusion, "vitals", {"temp_c": 40.5, "hr": 150}, hours=23, user=nurse)
    void(wrong, user=nurse, reason="other patient's vitals")
    t1 = obs(infusion, "medication", {"drug": "tocilizumab", "dose_mg": 496}, hours=21, user=physician)
    obs(infusion, "medication", {"drug": "tocilizumab", "dose_mg": 496}, hours=29, user=physician)
    obs(infusion, "medication", {"drug": "acetaminophen", "dose_mg": 1000}, hours=20.5, user=nurse)
    obs(infusion, "medication", {"drug": "dexamethasone", "dose_mg": 10}, hours=30, user=physician)
    obs(
        infusion,
        "neuro",
        {
            "ice": {"orientation": 4, "naming": 3, "commands": 1, "writing": 1, "attention": 0},
            "consciousness": "alert",
        },
        hours=12,
        user=nurse,
    )
    obs(
        infusion,
        "lab",
        {
            "crp_mg_dL": 12.5,
            "ferritin_ng_mL": 2400,
            "anc_per_uL": 400,
            "platelets_10e9_L": 45,
            "hgb_g_dL": 8.9,
        },
        hours=18,
        user=nurse,
    )
    evaluation(infusion, hours=4, crs=0, icans=0, trigger=v1)
    e2 = evaluation(infusion, hours=20, crs=2, icans=0, trigger=v2)
    evaluation(infusion, hours=21, crs=2, icans=None, crs_max=2, icans_max=0, trigger=t1)
    alert(
        infusion,
        grade=2,
        opened_at=e2.evaluated_at + timedelta(minutes=1),
        acknowledged_at=e2.evaluated_at + timedelta(minutes=9),
        acknowledged_by=physician,
    )
    return infusion


def fig(figures, key):
    return next(f for f in figures if f["id"] == f"chart-{key}")


def trace(figure, name):
    return next(t for t in figure["figure"]["data"] if t["name"] == name)


def test_timeline_page_renders_figures_as_json(client, coordinator, course):
    client.force_login(coordinator)
    response = client.get(url(course.patient_id))
    assert response.status_code == 200
    html = response.content.decode()
    data = json.loads(
        re.search(r'<script id="chart-data" type="application/json">(.*?)</script>', html, re.S).group(1)
    )
    ids = {d["id"] for d in data}
    assert {
        "chart-temperature",
        "chart-heart-rate",
        "chart-blood-pressure",
        "chart-oxygen",
        "chart-grades",
        "chart-neuro",
        "chart-inflammation",
        "chart-neutrophils",
        "chart-platelets-hb",
        "chart-events",
    } <= ids
    assert "plotly/plotly.min.js" in html and "js/charts.js" in html
    for tag in re.findall(r"<script[^>]*>", html):  # no inline script (strict CSP)
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+=", html)


def test_another_teams_patient_is_404(client, coordinator, other_patient, product):
    factories.make_infusion(other_patient, product)
    client.force_login(coordinator)
    assert client.get(url(other_patient.pk)).status_code == 404


def test_patient_without_infusion_is_404(client, coordinator, patient):
    client.force_login(coordinator)
    assert client.get(url(patient.pk)).status_code == 404


def test_all_charts_share_one_day_axis(course):
    figures = timeline_figures(course)
    ranges = {tuple(f["figure"]["layout"]["xaxis"]["range"]) for f in figures}
    assert len(ranges) == 1
    low, high = ranges.pop()
    assert low < 0 and high > 1.2  # day 0 to now (30 h after infusion)
    assert all(f["figure"]["layout"]["xaxis"]["title"]["text"] == "Day post-infusion" for f in figures)
    temperature = trace(fig(figures, "temperature"), "Temperature")
    assert temperature["x"][0] == pytest.approx(4 / 24, abs=1e-3)


def test_temperature_fever_line_and_hover(course):
    f = fig(timeline_figures(course), "temperature")
    layout = f["figure"]["layout"]
    assert any(s.get("y0") == 38.0 for s in layout["shapes"])
    assert any("Fever ≥ 38.0 °C" in a["text"] for a in layout["annotations"])
    t = trace(f, "Temperature")
    assert t["y"] == [37.2, 39.1, 38.6]  # current values only on the line
    assert "39.1 °C" in t["text"][1] and "Recorded by Nurse Ratched" in t["text"][1]
    assert "Amended value (typed 36.0 for 38.6)" in t["text"][2]


def test_amended_and_entered_in_error_values_stay_visible(course):
    f = fig(timeline_figures(course), "temperature")
    superseded = trace(f, "Temperature (superseded by amendment)")
    assert superseded["y"] == [36.0]
    assert "SUPERSEDED by an amendment: typed 36.0 for 38.6" in superseded["text"][0]
    error = trace(f, "Temperature (entered in error)")
    assert error["y"] == [40.5]
    assert "ENTERED IN ERROR: other patient's vitals" in error["text"][0]


def test_blood_pressure_threshold_and_map(course):
    f = fig(timeline_figures(course), "blood-pressure")
    assert any(s.get("y0") == 90 for s in f["figure"]["layout"]["shapes"])
    assert any(s.get("y0") == 65 for s in f["figure"]["layout"]["shapes"])
    assert trace(f, "MAP")["y"][0] == pytest.approx((120 + 140) / 3)


def bp_lines(infusion) -> dict[str, float]:
    layout = fig(timeline_figures(infusion), "blood-pressure")["figure"]["layout"]
    pairs = zip(layout["shapes"], layout["annotations"], strict=True)
    return {note["text"]: shape["y0"] for shape, note in pairs}


@pytest.mark.parametrize(
    ("age_days", "lines"),
    [
        (3, {"Hypotension: SBP < 60": 60}),
        (180, {"Hypotension: SBP < 70": 70}),
        (int(4.2 * 365.2425), {"Hypotension: SBP < 78": 78}),
        (int(10.1 * 365.2425), {"Hypotension: SBP < 90": 90}),
        (int(62 * 365.2425), {"Hypotension: SBP < 90": 90, "MAP < 65": 65}),
    ],
)
def test_the_chart_draws_the_hypotension_line_grading_uses_for_the_patients_age(team, age_days, lines):
    infusion = factories.make_infusion(
        factories.make_patient(team, date_of_birth=(timezone.now() - timedelta(days=age_days)).date())
    )
    assert bp_lines(infusion) == lines


def test_the_blood_pressure_lines_move_when_the_site_changes_its_thresholds(infusion):
    DecisionPolicy.objects.create(
        overrides={"adult_sbp_below_mmhg": 100, "adult_map_below_mmhg": 70}, note="site policy"
    )
    assert bp_lines(infusion) == {"Hypotension: SBP < 100": 100, "MAP < 70": 70}
    DecisionPolicy.objects.create(overrides={"use_map_in_adults": False}, note="SBP only")
    assert bp_lines(infusion) == {"Hypotension: SBP < 90": 90}


def test_oxygen_band_and_vasopressor_panel(course):
    figures = timeline_figures(course)
    o2 = trace(fig(figures, "oxygen"), "O2 flow (device in hover)")
    assert o2["y"] == [0.0, 3.0] and "nasal cannula, 3 L/min" in o2["text"][1]
    # the day after infusion in words, the moment with the team's zone (never "Day 0.83")
    assert re.search(r"Day \d+ · observed \d{2} \w{3} \d{4} \d{2}:\d{2} UTC", o2["text"][1]), o2["text"][1]
    assert o2["fill"] == "tozeroy" and o2["yaxis"] == "y2"
    bolus = trace(fig(figures, "vasopressors"), "Fluid bolus")
    assert len(bolus["x"]) == 1


def test_grades_as_step_lines_with_not_assessable(course):
    f = fig(timeline_figures(course), "grades")
    crs = trace(f, "CRS grade")
    assert crs["line"]["shape"] == "hv" and crs["y"] == [0, 2, 2]
    assert "rules: ASTCT 2019 consensus, CAR-T Track rules v" in crs["text"][0]  # its name, not its id
    assert "astct-2019/" not in crs["text"][0]
    icans = trace(f, "ICANS grade")
    assert icans["y"] == [0, 0]
    assert "ICANS not assessable" in trace(f, "ICANS not assessable")["text"][0]


def test_labs_convert_units_and_show_icaht_thresholds(course):
    figures = timeline_figures(course)
    crp = trace(fig(figures, "inflammation"), "CRP (mg/L)")
    assert crp["y"] == [125.0]  # 12.5 mg/dL
    assert fig(figures, "inflammation")["log_toggle"] is True
    anc = fig(figures, "neutrophils")
    assert {s.get("y0") for s in anc["figure"]["layout"]["shapes"]} >= {500, 100}
    assert trace(fig(figures, "neuro"), "ICE (0–10, lower is worse)")["y"] == [9.0]


def test_medication_and_alert_markers(course):
    f = fig(timeline_figures(course), "events")
    toci = trace(f, "Tocilizumab")
    assert len(toci["x"]) == 2
    assert "Tocilizumab dose #1: 496 mg" in toci["text"][0] and "dose #2" in toci["text"][1]
    assert toci["texttemplate"] == ["#1", "#2"]
    assert len(trace(f, "Steroids")["x"]) == 1 and len(trace(f, "Antipyretics")["x"]) == 1
    opened = trace(f, "Alert opened")
    acked = trace(f, "Alert acknowledged")
    assert "Alert opened: CRS grade 2" in opened["text"][0]
    assert "8 min after opening" in acked["text"][0]
    # Tocilizumab and steroid doses are drawn across every panel.
    temperature = fig(timeline_figures(course), "temperature")
    assert sum(1 for s in temperature["figure"]["layout"]["shapes"] if s.get("yref") == "paper") == 3


def test_empty_course_says_no_data(client, coordinator, infusion):
    client.force_login(coordinator)
    html = client.get(url(infusion.patient_id)).content.decode()
    assert "Temperature: no data yet." in html


def test_plotly_is_served_from_the_installed_package():
    path = finders.find("plotly/plotly.min.js")
    assert path and path.endswith("package_data/plotly.min.js")
    assert "plotly/plotly.min.js" in [p for p, _ in _listed()]


def _listed():
    for path, storage in PlotlyFinder().list([]):
        yield f"{storage.prefix}/{path}", storage


def test_a_plotly_package_without_its_script_fails_the_system_check_by_its_own_id(tmp_path, monkeypatch):
    monkeypatch.setattr(staticfiles, "plotly_package_data", lambda: tmp_path)
    [error] = PlotlyFinder().check()
    assert error.id == "dashboards.E001"
    assert f"The plotly package lacks plotly.min.js in {tmp_path}" in error.msg
    assert "timeline charts" in error.msg
    monkeypatch.undo()
    assert PlotlyFinder().check() == []


def test_plotly_static_url_answers(live_server):
    import urllib.request

    with urllib.request.urlopen(f"{live_server.url}/static/plotly/plotly.min.js") as response:
        assert response.status == 200
        assert b"plotly.js" in response.read(200)


def test_timeline_query_count_does_not_grow_with_observations(
    client, coordinator, infusion, nurse, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(coordinator)
    for h in range(0, 24, 4):
        obs(infusion, "vitals", {"temp_c": 37.0, "hr": 80}, hours=h, user=nurse)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url(infusion.patient_id)).status_code == 200
    for h in range(24, 24 * 20, 4):
        obs(infusion, "vitals", {"temp_c": 37.0, "hr": 80}, hours=h, user=nurse)
        obs(infusion, "lab", {"anc_per_uL": 900}, hours=h + 1, user=nurse)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url(infusion.patient_id)).status_code == 200


def test_late_icaht_distribution(coordinator, infusion):
    from django.utils import timezone as tz

    from dashboards.analytics import cohort_analytics

    evaluation(infusion, hours=24 * 40, crs=0, icans=0, icaht_early=1, icaht_late=3)
    today = tz.now().date()
    c = cohort_analytics(coordinator, start=today - timedelta(days=30), end=today)
    assert c.overall.icaht_late_distribution["3"] == 1 and c.overall.icaht_distribution["1"] == 1


def test_free_text_in_the_hover_is_text_not_markup_or_links(infusion, nurse):
    """Plotly renders <a href> and <b> in hover text: a reason or a name typed with markup must show as
    typed, never as a live link (nor close the bold label early)."""
    nurse.display_name = 'Nurse <a href="https://evil.example">Click</a>'
    nurse.save()
    typo = obs(infusion, "vitals", {"temp_c": 36.0, "hr": 100}, hours=22, user=nurse)
    amend(
        typo,
        {"temp_c": 38.6, "hr": 100},
        user=nurse,
        reason='see <a href="javascript:alert(1)">here</a> & </b>',
    )
    texts = [
        text for f in timeline_figures(infusion) for t in f["figure"]["data"] for text in t.get("text") or []
    ]
    joined = "\n".join(texts)
    assert "<a " not in joined and "</a>" not in joined and "</b> &" not in joined
    assert 'Recorded by Nurse &lt;a href="https://evil.example"&gt;Click&lt;/a&gt;' in joined
    assert 'see &lt;a href="javascript:alert(1)"&gt;here&lt;/a&gt; &amp; &lt;/b&gt;' in joined
