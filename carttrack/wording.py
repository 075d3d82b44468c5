"""Clinical language: the one place that turns codes and times into the words a ward reads (issue 13).

Screens (template filters in ``monitoring.templatetags.monitoring_tags``), alert texts, e-mail and
SMS/pager messages and CSV exports all call these functions, so a code reads the same everywhere:

* ``words("nasal_cannula")`` -> "nasal cannula", ``words("tmp_smx")`` -> "TMP-SMX (co-trimoxazole)";
* ``clock(t, "Europe/Berlin")`` -> "14:05 CET", ``moment(...)`` -> "2 Dec 14:05 CET";
* ``ago(delta)`` -> "3 h 12 min ago", ``overdue_by(delta)`` -> "overdue by 12 d 9 h";
* ``after_infusion(t, infused_at, zone)`` -> "day 3, 07:35 CET" (day 0 is the calendar day of the
  infusion in the care team's zone, as ``Infusion.day_post_infusion``);
* ``clinical(text, infused_at, zone)`` rewrites the core's "t=+79.2 h" inside driver texts the same way;
* ``site_policy(...)`` names the site decision policy a grade was made under (or says it was not recorded).

Pure Python, no Django: the care team's zone is passed in as an IANA name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from . import vocabulary as v

# Codes whose words are not the code with spaces (the vocabulary's names first, then the rest).
_NAMES: dict[str, str] = {
    **{str(k): name for k, name in v.O2_DEVICE_NAMES.items()},
    **{str(k): name for k, name in v.CONSCIOUSNESS_NAMES.items()},
    **{str(k): name for k, name in v.SEIZURE_NAMES.items()},
    **{str(k): name for k, name in v.MOTOR_NAMES.items()},
    **{str(k): name for k, name in v.ICP_EDEMA_NAMES.items()},
    **v.DRUG_NAMES,
    "tmp_smx": "TMP-SMX (co-trimoxazole)",
    "hfnc": "high-flow nasal cannula",
    "cpap": "CPAP",
    "bipap": "BiPAP",
    "niv_other": "other non-invasive ventilation",
    "invasive_mv": "invasive mechanical ventilation",
    # urgency of an alert, channels of a notification
    "routine": "routine",
    "urgent": "urgent",
    "emergent": "emergency",
    "inapp": "in-app inbox",
    "email": "e-mail",
    "sms": "SMS",
    "pager": "pager",
    # whom an escalation step pages
    "oncall_primary": "on-call (primary)",
    "oncall_backup": "on-call (backup)",
    "leads": "attending, charge nurse and coordinators",
    "charge_nurse": "charge nurse",
    # syndromes and events
    "crs": "CRS",
    "icans": "ICANS",
    "icaht": "ICAHT",
    "crs_diagnosed": "CRS diagnosed",
    "icans_diagnosed": "ICANS diagnosed",
    "icu_admission": "ICU admission",
    "next_therapy": "next therapy started",
    "flare_declared": "flare declared",
    "cns_involvement": "CNS involvement",
    # follow-up: what each group of reasons is about, renal response definitions
    "sledai": "SLEDAI-2K",
    "doris": "DORIS remission",
    "lldas": "LLDAS",
    "drug_free": "drug-free remission",
    "renal": "renal response",
    "b_cells": "B cells",
    "tis": "myositis response (TIS)",
    "ssc": "systemic sclerosis",
    "kdigo_2024": "KDIGO 2024",
    "bliss_ln": "BLISS-LN",
}

_CODE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$|^[a-z][a-z0-9]*$")
_T_HOURS = re.compile(r"\bt=\+?(-?\d+(?:\.\d+)?) h\b")


def words(code: object) -> str:
    """How a code reads in a sentence: its name if it has one, else the code without underscores."""
    text = "" if code is None else str(code)
    if text in _NAMES:
        return _NAMES[text]
    return text.replace("_", " ") if _CODE.match(text) else text


_CODE_IN_TEXT = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def codes_in_words(text: object) -> str:
    """A core text with the codes it quotes by their names: "renal response (kdigo_2024, G-5)" ->
    "renal response (KDIGO 2024, G-5)". Only codes with a name are rewritten."""
    return _CODE_IN_TEXT.sub(lambda m: _NAMES.get(m.group(0), m.group(0)), "" if text is None else str(text))


def words_list(codes: object) -> str:
    """Several codes in one phrase: "norepinephrine, vasopressin"."""
    if isinstance(codes, str | bytes) or not hasattr(codes, "__iter__"):
        return words(codes)
    return ", ".join(words(c) for c in codes)


def _zone(zone: str | ZoneInfo) -> ZoneInfo:
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)


def clock(at: datetime, zone: str | ZoneInfo) -> str:
    """The wall time with the zone's abbreviation: "14:05 CET"."""
    return at.astimezone(_zone(zone)).strftime("%H:%M %Z")


def moment(at: datetime, zone: str | ZoneInfo) -> str:
    """Day, month, time and zone: "2 Dec 14:05 CET"."""
    local = at.astimezone(_zone(zone))
    return f"{local.day} {local:%b %H:%M %Z}"


def span(delta: timedelta) -> str:
    """A duration in words: "under a second", "40 s", "12 min", "3 h 12 min", "12 d 9 h"."""
    seconds = delta.total_seconds()
    if seconds < 1:
        return "under a second"
    if seconds < 60:
        return f"{int(seconds)} s"
    minutes = int(seconds // 60)
    hours, minutes = divmod(minutes, 60)
    if hours == 0:
        return f"{minutes} min"
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def ago(delta: timedelta) -> str:
    """How long ago: "just now", "35 min ago", "3 h 12 min ago", "2 d 4 h ago"."""
    if delta.total_seconds() < 0:
        return "in the future"
    if delta.total_seconds() < 60:
        return "just now"
    return f"{span(delta)} ago"


def overdue_by(delta: timedelta) -> str:
    """ "overdue by 12 h 5 min" (never "17822 min overdue")."""
    return f"overdue by {span(delta)}"


def infusion_day(at: datetime, infused_at: datetime, zone: str | ZoneInfo) -> int:
    """The day after infusion a moment falls on, by the care team's calendar (day 0 = infusion day)."""
    tz = _zone(zone)
    return (at.astimezone(tz).date() - infused_at.astimezone(tz).date()).days


def after_infusion(at: datetime, infused_at: datetime, zone: str | ZoneInfo) -> str:
    """Time after infusion as a ward says it: "day 3, 07:35 CET" (day 0 = the infusion's calendar day)."""
    return f"day {infusion_day(at, infused_at, zone)}, {at.astimezone(_zone(zone)):%H:%M %Z}"


def clinical(text: str, infused_at: datetime | None, zone: str | ZoneInfo) -> str:
    """A core text (driver, reason) with its "t=+79.2 h" written as "day 3, 07:35 CET"."""
    if not text or infused_at is None:
        return text
    return _T_HOURS.sub(
        lambda m: after_infusion(infused_at + timedelta(hours=float(m.group(1))), infused_at, zone), text
    )


def person(user: object) -> str:
    """A person by the name shown to colleagues (``User.__str__`` is the display name), never an id."""
    return str(user) if user is not None else "nobody"


#: The published basis of each rule-set family (``carttrack.RULE_SET``, ``FOLLOWUP_RULE_SET``).
_RULE_SET_BASES = {"astct-2019": "ASTCT 2019 consensus", "followup-2025": "follow-up criteria 2025"}


def rule_set(code: object) -> str:
    """A rule-set id by its name: "astct-2019/carttrack-2" -> "ASTCT 2019 consensus, CAR-T Track rules v2".

    The id itself stays where an auditor needs it (a title attribute, the audit views)."""
    text = "" if code is None else str(code)
    basis, _, ours = text.partition("/")
    name = _RULE_SET_BASES.get(basis, words(basis))
    version = re.fullmatch(r"carttrack-(\d+)", ours)
    if version:
        return f"{name}, CAR-T Track rules v{version.group(1)}"
    return f"{name}, {words(ours)}" if ours else name


#: A grade stored before grading recorded the site policy in force: said so, never guessed from dates.
POLICY_NOT_RECORDED = "site policy not recorded (graded before the policy in force was stored)"
#: No site policy row existed: the rule set's own decision settings applied.
NO_SITE_POLICY = "no site policy (the rule set's own settings)"


def site_policy(
    *, recorded: bool, number: int | None, note: str, since: datetime | None, zone: str | ZoneInfo
) -> str:
    """The site decision policy a grade was made under: "site policy #3 “cap tocilizumab at 3 doses”,
    in force from 1 Dec 2026 14:05 CET"; :data:`NO_SITE_POLICY`; :data:`POLICY_NOT_RECORDED`."""
    if not recorded:
        return POLICY_NOT_RECORDED
    if number is None:
        return NO_SITE_POLICY
    text = f"site policy #{number}"
    if note.strip():
        text += f" “{note.strip()}”"
    if since is not None:
        local = since.astimezone(_zone(zone))
        text += f", in force from {local.day} {local:%b %Y %H:%M %Z}"
    return text


def labelled(mapping: Mapping[str, object]) -> dict[str, str]:
    """Every value of a row of codes in words (CSV rows, notification fields)."""
    return {key: words(value) for key, value in mapping.items()}
