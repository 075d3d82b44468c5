"""Display helpers for grades (text + colour, never colour alone), value ages and observation summaries."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.html import format_html

from carttrack import wording

register = template.Library()


@register.filter
def grade_class(grade) -> str:
    return f"grade-{grade}" if isinstance(grade, int) and 0 <= grade <= 5 else "grade-na"


@register.simple_tag
def grade_badge(syndrome: str, grade, maximum=None, *, empty: str = "not graded yet") -> str:
    """``<span class="grade grade-2">CRS grade 2</span>``; text always says the grade."""
    if grade is None and maximum is None and empty:
        text = f"{syndrome} {empty}"
    elif grade is None:
        text = f"{syndrome} not assessable"
    else:
        text = f"{syndrome} grade {grade}"
    if maximum is not None and maximum != grade:
        text += f" (max {maximum})"
    return format_html('<span class="grade {}">{}</span>', grade_class(grade), text)


@register.filter
def age(value) -> str:
    """How long ago: "35 min ago", "5 h 10 min ago", "2 d 4 h ago"; "never" for None."""
    if value is None:
        return "never"
    return wording.ago(value if isinstance(value, timedelta) else timezone.now() - value)


@register.filter
def duration(value: timedelta | None) -> str:
    return wording.span(value) if value is not None else ""


@register.filter
def overdue(value: timedelta | None) -> str:
    """ "overdue by 12 h 5 min"."""
    return wording.overdue_by(value) if value is not None else ""


@register.filter
def words(code) -> str:
    """A code (device, drug, urgency, channel, event…) in words (``carttrack.wording``)."""
    return wording.words_list(code) if isinstance(code, list | tuple) else wording.words(code)


@register.filter
def clock(value: datetime | None) -> str:
    """ "14:05 CET" in the active (care team's) zone."""
    return wording.clock(value, timezone.get_current_timezone()) if value else ""


@register.filter
def codes_in_words(text) -> str:
    """A text quoting codes ("kdigo_2024") with their names ("KDIGO 2024")."""
    return wording.codes_in_words(text)


@register.filter
def rule_set_name(code) -> str:
    """ "astct-2019/carttrack-2" as "ASTCT 2019 consensus, CAR-T Track rules v2"."""
    return wording.rule_set(code)


@register.filter
def site_policy(evaluation) -> str:
    """The site decision policy a grade was made under, its note and since when, in the active zone;
    "not recorded" for grades stored before it was (``GradeEvaluation.policy_recorded``)."""
    policy = evaluation.site_policy
    return wording.site_policy(
        recorded=evaluation.policy_recorded,
        number=policy.pk if policy else None,
        note=policy.note if policy else "",
        since=policy.created_at if policy else None,
        zone=timezone.get_current_timezone(),
    )


@register.filter
def clinical(text, infusion) -> str:
    """A core text with "t=+79.2 h" written as "day 3, 07:35 CET" for this infusion's team."""
    if infusion is None:
        return text
    return wording.clinical(str(text), infusion.infused_at, infusion.care_team.time_zone)


@register.filter
def after_infusion(value: datetime | None, infusion) -> str:
    if value is None or infusion is None:
        return ""
    return wording.after_infusion(value, infusion.infused_at, infusion.care_team.time_zone)


def _fmt(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


LABELS = {
    "temp_c": ("T", "°C"),
    "temp_f": ("T", "°F"),
    "hr": ("HR", "/min"),
    "sbp": ("SBP", ""),
    "dbp": ("DBP", ""),
    "rr": ("RR", "/min"),
    "spo2": ("SpO₂", "%"),
    "o2_flow_l_min": ("O₂", "L/min"),
    "fio2": ("FiO₂", ""),
    "anc_per_uL": ("ANC", "/µL"),
    "platelets_10e9_L": ("Plt", "×10⁹/L"),
    "hgb_g_dL": ("Hb", "g/dL"),
    "crp_mg_L": ("CRP", "mg/L"),
    "crp_mg_dL": ("CRP", "mg/dL"),
    "ferritin_ng_mL": ("Ferritin", "ng/mL"),
    "fibrinogen_mg_dL": ("Fibrinogen", "mg/dL"),
    "ldh_U_L": ("LDH", "U/L"),
    "alt_U_L": ("ALT", "U/L"),
    "ast_U_L": ("AST", "U/L"),
    "creatinine_mg_dL": ("Creat", "mg/dL"),
    "creatinine_umol_L": ("Creat", "µmol/L"),
    "igg_mg_dL": ("IgG", "mg/dL"),
    "cd19_per_uL": ("CD19", "/µL"),
    "upcr_mg_mg": ("UPCR", "mg/mg"),
}


@register.filter
def obs_summary(obs) -> str:
    """One line a nurse can read: "T 39.1 °C · HR 118/min · BP 84/50 · norepinephrine"."""
    p = obs.payload or {}
    parts: list[str] = []
    if obs.kind == "vitals":
        for key in ("temp_c", "temp_f", "hr", "rr", "spo2"):
            if p.get(key) is not None:
                label, unit = LABELS[key]
                parts.append(f"{label} {_fmt(p[key])}{' ' if unit.startswith('°') else ''}{unit}")
        if p.get("sbp") is not None:
            parts.append(f"BP {_fmt(p['sbp'])}/{_fmt(p.get('dbp', '–'))}")
        # Exactly what was recorded (A-14): an absent field is not shown; room air and "no
        # vasopressors" are shown because they were entered.
        device = p.get("o2_device")
        if device:
            flow = f" {_fmt(p['o2_flow_l_min'])} L/min" if p.get("o2_flow_l_min") is not None else ""
            fio2 = f" FiO₂ {_fmt(p['fio2'])}" if p.get("fio2") is not None else ""
            parts.append(
                f"{wording.words(device)}{flow}{fio2}"
                + (" (comfort)" if p.get("o2_for_comfort_only") else "")
            )
        if p.get("vasopressors"):
            parts.append(wording.words_list(p["vasopressors"]))
        elif p.get("vasopressors") == []:
            parts.append("no vasopressors")
        if p.get("fluid_bolus_for_hypotension"):
            parts.append("fluid bolus")
        elif p.get("fluid_bolus_for_hypotension") is False:
            parts.append("no fluid bolus")
        for finding in ("fever", "hypotension", "hypoxia"):
            if p.get(f"{finding}_attributed_to"):
                parts.append(f"{finding} attributed to {wording.words(p[f'{finding}_attributed_to'])}")
    elif obs.kind == "neuro":
        ice = p.get("ice")
        if isinstance(ice, dict):
            values = list(ice.values())
            parts.append("ICE incomplete" if any(v is None for v in values) else f"ICE {sum(values)}/10")
        if p.get("capd_items") is not None:
            parts.append(f"CAPD {sum(p['capd_items'])}")
        if p.get("consciousness"):
            parts.append(wording.words(p["consciousness"]))
        for key in ("seizure", "motor", "icp_edema"):
            if p.get(key) and p[key] != "none":
                parts.append(wording.words(p[key]))
        for key in ("sedated", "tremor", "myoclonus"):
            if p.get(key):
                parts.append(key.replace("_", " "))
        if p.get("intracranial_hemorrhage") is True:
            parts.append("intracranial haemorrhage")
        elif p.get("intracranial_hemorrhage") is False:
            parts.append("no intracranial haemorrhage")
    elif obs.kind == "lab":
        for key, value in p.items():
            label, unit = LABELS.get(key, (key, ""))
            parts.append(f"{label} {_fmt(value)} {unit}".strip())
    elif obs.kind == "medication":
        dose = f" {_fmt(p['dose_mg'])} mg" if p.get("dose_mg") is not None else ""
        parts.append(f"{wording.words(p.get('drug', ''))}{dose}")
        if p.get("for_crs_icans") is False:
            parts.append("not for CRS/ICANS")
    elif obs.kind == "event":
        parts.append(wording.words(p.get("event", "")))
        if p.get("attributed_to"):
            parts.append(f"attributed to {wording.words(p['attributed_to'])}")
    else:
        parts.extend(wording.words(k) for k, v in p.items() if v)
    return " · ".join(parts) or "—"


@register.filter
def local_time(value: datetime | None) -> str:
    """Day and time in the active (care team's) zone, with the zone's abbreviation: "2 Dec 14:05 CET"."""
    return wording.moment(value, timezone.get_current_timezone()) if value else ""


local_time_zone = register.filter("local_time_zone", local_time)


@register.filter
def age_years(patient, moment) -> str:
    """Exact age in years at ``moment`` (one decimal below 18, whole years above)."""
    years = patient.age_years_at(moment or timezone.now())
    return f"{years:.1f}" if years < 18 else f"{int(years)}"


@register.simple_tag
def new_uuid() -> str:
    """A fresh client UUID for a form rendered in a list (idempotent submission)."""
    return str(uuid.uuid4())
