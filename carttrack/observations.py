"""Typed observations and their parsers: one module because each kind's dataclass and parser change together.

Parsing at the boundary: CASE-1…CASE-4, `carttrack-case/1`; INPUT-14.

Every value is converted to the canonical unit set here (°F -> °C, CRP mg/L -> mg/dL, creatinine
µmol/L -> mg/dL; FiO2 percent -> fraction). Invalid input raises ObservationError naming the field,
the value and the allowed range or vocabulary. Unknown kinds and unknown fields are errors. Every
error of a record is collected (ObservationError.errors; observation_errors() returns them), so a
form can show them all at once.

Accepted fields (beyond the case-file basics of CASE-3, marked +):

patient: age_years, weight_kg, sex, indication, product, developmental_delay,
    + home_o2_l_min (pre-infusion home oxygen by nasal cannula, L/min; A-8, CRS-6: only a new or
      increased requirement counts as hypoxia), + baseline_sbp (mmHg, for the optional relative
      hypotension rule of A-5).
every observation: kind, t_hours (hours after infusion; negative = before).
vitals: temp_c | temp_f, hr, sbp, dbp, + map, rr, spo2, o2_device, o2_flow_l_min, fio2 (fraction
    or %), o2_for_comfort_only, fluid_bolus_for_hypotension, vasopressors (list of names; inotropes
    are accepted and recorded but not graded, A-6; [] = explicitly none). An absent field is "not
    recorded" (None), never normal (A-14, INPUT-5); a vitals record needs at least one value, and
    the cross-field rules of input_rules.py apply (dbp < sbp, flow/FiO2 only with a device, ...),
    + attributed_to (cause text; anything other than "crs" attributes this observation's fever,
      hypotension and hypoxia to another cause, A-9, CRS-17),
    + fever_attributed_to, hypotension_attributed_to, hypoxia_attributed_to (the same, per finding;
      the per-finding field wins over attributed_to).
neuro: ice ({orientation 0–4, naming 0–3, commands, writing, attention 0–1}; an item may be null =
    not assessable for a non-neurological reason, B-1; ice: null = not performed), capd_items (8
    integers 0–4, or null), consciousness, seizure, motor, icp_edema, intracranial_hemorrhage
    (absent = not recorded; true stands until a record says false, B-9), tremor, myoclonus,
    papilledema, sedated; at least one of them.
lab: keys of vocabulary.LAB_FIELDS (+ ast_U_L, ast_uln_U_L); at least one.
medication: drug (vocabulary.DRUGS), dose_mg (within the drug's range, limits.DOSE_LIMITS),
    + for_crs_icans (bool, default true: a steroid given
    for another reason, e.g. lupus maintenance, does not mask fever, A-2), + route (text).
event: event (vocabulary.EVENTS), attributed_to (text; "crs" or "icans" for grade 5, A-11).
clinical_flag: one or more of vocabulary.CLINICAL_FLAGS, each a bool.
Follow-up (CASE-7): the kinds sledai, medication_status, myositis_core_set and
    ssc_assessment are parsed in carttrack/followup/parsing.py (registered here with register_kinds);
    lab gains the follow-up fields of vocabulary.LAB_FIELDS (upcr_mg_mmol -> upcr_mg_mg; anti-dsDNA,
    C3 and C4 each with the reporting lab's limit), event gains flare_declared, patient gains
    + indication_group (followup/groups.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

from . import units
from .errors import ObservationError as ObservationError  # re-exported: defined in errors.py
from .errors import combined
from .errors import show as _show
from .followup.groups import INDICATION_GROUPS
from .followup.inputs import FollowupObservation
from .input_rules import dose_errors, vitals_errors
from .limits import HARD_LIMITS, hard_limit_hint
from .vocabulary import (
    CLINICAL_FLAGS,
    DRUGS,
    EVENTS,
    LAB_FIELDS,
    VASOPRESSORS,
    Consciousness,
    IcpEdema,
    Motor,
    O2Device,
    Seizure,
)

# ---------------------------------------------------------------- typed inputs


@dataclass(frozen=True, slots=True)
class PatientInfo:
    age_years: float
    weight_kg: float
    sex: str | None = None
    indication: str = ""
    product: str = ""
    developmental_delay: bool = False
    home_o2_l_min: float = 0.0
    baseline_sbp: float | None = None
    indication_group: str | None = None  # followup/groups.py; None = read from the indication


@dataclass(frozen=True, slots=True)
class Vitals:
    t_hours: float
    index: int | None = None
    temp_c: float | None = None
    temp_entered_f: float | None = None
    hr: float | None = None
    sbp: float | None = None
    dbp: float | None = None
    map: float | None = None
    rr: float | None = None
    spo2: float | None = None
    o2_device: O2Device | None = None
    o2_flow_l_min: float | None = None
    fio2: float | None = None
    o2_for_comfort_only: bool = False
    fluid_bolus_for_hypotension: bool | None = None  # None: not recorded
    vasopressors: tuple[str, ...] | None = None  # None: not recorded; (): explicitly none
    fever_attributed_to: str | None = None
    hypotension_attributed_to: str | None = None
    hypoxia_attributed_to: str | None = None

    kind = "vitals"


@dataclass(frozen=True, slots=True)
class IceScore:
    orientation: int | None
    naming: int | None
    commands: int | None
    writing: int | None
    attention: int | None

    @property
    def total(self) -> int | None:
        items = (self.orientation, self.naming, self.commands, self.writing, self.attention)
        if any(i is None for i in items):
            return None
        return sum(i for i in items if i is not None)


@dataclass(frozen=True, slots=True)
class Neuro:
    t_hours: float
    index: int | None = None
    ice_given: bool = False  # the key "ice" was present (null = not performed)
    ice: IceScore | None = None
    capd_given: bool = False
    capd_items: tuple[int, ...] | None = None
    consciousness: Consciousness | None = None
    seizure: Seizure | None = None
    motor: Motor | None = None
    icp_edema: IcpEdema | None = None
    intracranial_hemorrhage: bool | None = None  # None: not recorded; stands until recorded false
    tremor: bool = False
    myoclonus: bool = False
    papilledema: bool = False
    sedated: bool = False

    kind = "neuro"

    @property
    def capd_total(self) -> int | None:
        return None if self.capd_items is None else sum(self.capd_items)


@dataclass(frozen=True, slots=True)
class Lab:
    """Canonical units: see units.py. Only the measured values are set."""

    t_hours: float
    index: int | None = None
    anc_per_uL: float | None = None
    platelets_10e9_L: float | None = None
    hgb_g_dL: float | None = None
    crp_mg_dL: float | None = None
    ferritin_ng_mL: float | None = None
    il6_pg_mL: float | None = None  # informational; tocilizumab raises measured IL-6 (LAB-9 [Lab catalogues])
    fibrinogen_mg_dL: float | None = None
    ldh_U_L: float | None = None
    alt_U_L: float | None = None
    alt_uln_U_L: float | None = None
    ast_U_L: float | None = None
    ast_uln_U_L: float | None = None
    creatinine_mg_dL: float | None = None
    igg_mg_dL: float | None = None
    cd19_per_uL: float | None = None
    upcr_mg_mg: float | None = None
    # Follow-up fields (RENAL-1, SERO-1, BCELL-4): UPCR entered in mg/mmol (UNIT-10) is kept beside its
    # mg/mg value.
    upcr_entered_mg_mmol: float | None = None
    protein_g_24h: float | None = None
    egfr_mL_min: float | None = None
    anti_dsdna_IU_mL: float | None = None
    anti_dsdna_cutoff_IU_mL: float | None = None
    c3_mg_dL: float | None = None
    c3_lln_mg_dL: float | None = None
    c4_mg_dL: float | None = None
    c4_lln_mg_dL: float | None = None
    cd4_per_uL: float | None = None
    naive_b_cells_pct: float | None = None

    kind = "lab"


@dataclass(frozen=True, slots=True)
class Medication:
    t_hours: float
    drug: str
    index: int | None = None
    dose_mg: float | None = None
    for_crs_icans: bool = True
    route: str | None = None

    kind = "medication"


@dataclass(frozen=True, slots=True)
class Event:
    t_hours: float
    event: str
    index: int | None = None
    attributed_to: str | None = None

    kind = "event"


@dataclass(frozen=True, slots=True)
class ClinicalFlag:
    t_hours: float
    flags: tuple[tuple[str, bool], ...]
    index: int | None = None

    kind = "clinical_flag"


Observation = Vitals | Neuro | Lab | Medication | Event | ClinicalFlag | FollowupObservation


@dataclass(frozen=True, slots=True)
class FollowUp:
    last_follow_up_hours: float | None = None
    death_hours: float | None = None
    progression_hours: float | None = None
    next_therapy_hours: float | None = None

    @property
    def censor_hours(self) -> float | None:
        """First of death / progression / next therapy / last follow-up (closes ICAHT windows)."""
        times = [
            t
            for t in (
                self.death_hours,
                self.progression_hours,
                self.next_therapy_hours,
                self.last_follow_up_hours,
            )
            if t is not None
        ]
        return min(times) if times else None


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    patient: PatientInfo
    observations: tuple[Observation, ...]
    follow_up: FollowUp | None = None


# ---------------------------------------------------------------- field checkers

P = ParamSpec("P")
T = TypeVar("T")


class _Reader:
    """Reads one record's fields and keeps every error instead of stopping at the first."""

    __slots__ = ("data", "errors")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: list[ObservationError] = []

    def take(
        self, check: Callable[Concatenate[Mapping[str, Any], P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T | None:
        try:
            return check(self.data, *args, **kwargs)
        except ObservationError as err:
            self.errors.extend(err.errors)
            return None

    def add(self, errors: Iterable[ObservationError]) -> None:
        self.errors.extend(errors)

    def done(self) -> None:
        if self.errors:
            raise combined(self.errors)


def _number(data: Mapping[str, Any], key: str, *, limit_key: str | None = None) -> float:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ObservationError(key, value, "a number", problem=f"{_show(value)} is not a number")
    try:
        value = float(value)
    except OverflowError:  # an int beyond float range, e.g. 10**400
        raise ObservationError(key, value, "a finite number", problem="the number is too large") from None
    if not math.isfinite(value):
        raise ObservationError(key, value, "a finite number", problem=f"{value} is not a finite number")
    lim = HARD_LIMITS.get(limit_key or key)
    if lim is not None and not lim.contains(value):
        raise ObservationError(
            key, value, lim.text, problem=f"{_show(value)} is outside {lim.text}{hard_limit_hint(key, value)}"
        )
    return value


def _opt_number(data: Mapping[str, Any], key: str) -> float | None:
    if key not in data or data[key] is None:
        return None
    return _number(data, key)


def _opt_bool(data: Mapping[str, Any], key: str) -> bool | None:
    """True / False as recorded, None when the field is absent (not recorded, A-14)."""
    if key not in data or data[key] is None:
        return None
    value = data[key]
    if not isinstance(value, bool):
        raise ObservationError(key, value, "true or false", problem=f"{_show(value)} is not true/false")
    return value


def _bool(data: Mapping[str, Any], key: str, default: bool = False) -> bool:
    value = _opt_bool(data, key)
    return default if value is None else value


MAX_TEXT_LENGTH = 500  # free-text fields (causes, drug names); longer is not a clinical fact
INFUSION_T = 0.0  # CASE-2: t_hours counts from the infusion; negative = before it (baseline values)


def _text(data: Mapping[str, Any], key: str) -> str | None:
    if key not in data or data[key] is None:
        return None
    value = data[key]
    if not isinstance(value, str):
        raise ObservationError(key, value, "text", problem=f"{_show(value)} is not text")
    if len(value) > MAX_TEXT_LENGTH or any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
        raise ObservationError(
            key,
            value[:40],
            f"printable text of at most {MAX_TEXT_LENGTH} characters",
            problem="contains control characters or is too long",
        )
    return value


def _choice(data: Mapping[str, Any], key: str, allowed: Sequence[str]) -> str | None:
    if key not in data or data[key] is None:
        return None
    value = data[key]
    text = "one of: " + ", ".join(allowed)
    if not isinstance(value, str):
        raise ObservationError(key, value, text, problem=f"{_show(value)} is not text ({text})")
    norm = value.strip().lower()
    if norm not in allowed:
        raise ObservationError(key, value, text, problem=f"{_show(value)} is not {text}")
    return norm


def _int_item(value: object, field: str, low: int, high: int) -> int:
    allowed = f"an integer {low}–{high}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ObservationError(field, value, allowed, problem=f"{_show(value)} is not {allowed}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ObservationError(field, value, allowed, problem=f"{_show(value)} is not {allowed}")
        value = int(value)
    if not low <= value <= high:
        raise ObservationError(field, value, f"{low}–{high}")
    return int(value)


def _unknown_fields(data: Mapping[str, Any], allowed: frozenset[str], kind: str) -> list[ObservationError]:
    return [
        ObservationError(
            str(key),
            data[key],
            f"one of: {', '.join(sorted(allowed))}",
            problem=f"unknown field for {kind}",
        )
        for key in data
        if key not in allowed
    ]


def _check_fields(data: Mapping[str, Any], allowed: frozenset[str], kind: str) -> None:
    """Raise the unknown-field errors of one record at once (for parsers that stop at the first problem)."""
    errors = _unknown_fields(data, allowed, kind)
    if errors:
        raise combined(errors)


def _no_value(data: Mapping[str, Any], fields: Iterable[str], kind: str) -> list[ObservationError]:
    """A record of ``kind`` that carries none of ``fields`` records nothing: an error naming the record."""
    fields = tuple(fields)
    if any(data.get(key) is not None for key in fields):
        return []
    return [
        ObservationError(
            kind,
            None,
            "at least one of: " + ", ".join(fields),
            problem=f"a {kind} record needs at least one recorded value: at least one of: "
            + ", ".join(fields),
        )
    ]


def _attribution(value: str | None) -> str | None:
    """None or 'crs' means attributed to CRS (A-9 default)."""
    if value is None:
        return None
    norm = value.strip()
    if norm == "" or norm.lower() == "crs":
        return None
    return norm


# ---------------------------------------------------------------- per kind

_COMMON = frozenset({"kind", "t_hours"})
# What a vitals record can record (A-14, INPUT-5: a record with none of them is an error).
VITALS_VALUE_FIELDS: tuple[str, ...] = (
    "temp_c",
    "temp_f",
    "hr",
    "sbp",
    "dbp",
    "map",
    "rr",
    "spo2",
    "o2_device",
    "o2_flow_l_min",
    "fio2",
    "o2_for_comfort_only",
    "fluid_bolus_for_hypotension",
    "vasopressors",
)
_VITALS_FIELDS = (
    _COMMON
    | set(VITALS_VALUE_FIELDS)
    | {
        "attributed_to",
        "fever_attributed_to",
        "hypotension_attributed_to",
        "hypoxia_attributed_to",
    }
)
NEURO_VALUE_FIELDS: tuple[str, ...] = (
    "ice",
    "capd_items",
    "consciousness",
    "seizure",
    "motor",
    "icp_edema",
    "intracranial_hemorrhage",
    "tremor",
    "myoclonus",
    "papilledema",
    "sedated",
)
_NEURO_FIELDS = _COMMON | set(NEURO_VALUE_FIELDS)
_LAB_FIELDS = _COMMON | frozenset(LAB_FIELDS)
_MED_FIELDS = _COMMON | {"drug", "dose_mg", "for_crs_icans", "route"}
_EVENT_FIELDS = _COMMON | {"event", "attributed_to"}
_FLAG_FIELDS = _COMMON | frozenset(CLINICAL_FLAGS)
_ICE_ITEMS = (("orientation", 4), ("naming", 3), ("commands", 1), ("writing", 1), ("attention", 1))
KINDS: tuple[str, ...] = ("vitals", "neuro", "lab", "medication", "event", "clinical_flag")
_VASO_TEXT = "one of: " + ", ".join(VASOPRESSORS)


def _fio2(d: Mapping[str, Any]) -> float | None:
    """FiO2 as a fraction: 0.21–1.0 as given, 21–100 read as a percentage (one rule for every path)."""
    raw = d.get("fio2")
    if raw is None:
        return None
    if not isinstance(raw, bool) and isinstance(raw, (int, float)) and 21.0 <= raw <= 100.0:
        return float(raw) / 100.0
    return _number(d, "fio2")


def _pressors(d: Mapping[str, Any]) -> tuple[str, ...] | None:
    """None: not recorded; (): explicitly none (A-14); else the distinct names, sorted."""
    raw = d.get("vasopressors")
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise ObservationError(
            "vasopressors", raw, "a list of drug names", problem=f"{_show(raw)} is not a list"
        )
    names: set[str] = set()
    for name in raw:
        if not isinstance(name, str) or name.strip().lower() not in VASOPRESSORS:
            raise ObservationError(
                "vasopressors", name, _VASO_TEXT, problem=f"{_show(name)} is not {_VASO_TEXT}"
            )
        names.add(name.strip().lower())
    return tuple(sorted(names))


def _parse_vitals(d: Mapping[str, Any], t: float, index: int | None) -> Vitals:
    r = _Reader(d)
    r.add(_unknown_fields(d, _VITALS_FIELDS, "vitals"))
    r.add(_no_value(d, VITALS_VALUE_FIELDS, "vitals"))
    if d.get("temp_c") is not None and d.get("temp_f") is not None:
        r.add(
            [
                ObservationError(
                    "temp_f",
                    d["temp_f"],
                    "either temp_c or temp_f",
                    problem="give temp_c or temp_f, not both",
                )
            ]
        )
    temp_c = r.take(_opt_number, "temp_c")
    temp_f = r.take(_opt_number, "temp_f")
    if temp_f is not None:
        temp_c = units.f_to_c(temp_f)
    device = r.take(_choice, "o2_device", [m.value for m in O2Device])
    common = _attribution(r.take(_text, "attributed_to"))
    fever_attr = r.take(_text, "fever_attributed_to")
    hypo_attr = r.take(_text, "hypotension_attributed_to")
    hypox_attr = r.take(_text, "hypoxia_attributed_to")
    values: dict[str, Any] = {
        "temp_c": temp_c,
        "temp_entered_f": temp_f,
        "hr": r.take(_opt_number, "hr"),
        "sbp": r.take(_opt_number, "sbp"),
        "dbp": r.take(_opt_number, "dbp"),
        "map": r.take(_opt_number, "map"),
        "rr": r.take(_opt_number, "rr"),
        "spo2": r.take(_opt_number, "spo2"),
        "o2_device": O2Device(device) if device is not None else None,
        "o2_flow_l_min": r.take(_opt_number, "o2_flow_l_min"),
        "fio2": r.take(_fio2),
        "o2_for_comfort_only": r.take(_bool, "o2_for_comfort_only"),
        "fluid_bolus_for_hypotension": r.take(_opt_bool, "fluid_bolus_for_hypotension"),
        "vasopressors": r.take(_pressors),
    }
    r.add(vitals_errors(values))
    r.done()
    return Vitals(
        t_hours=t,
        index=index,
        **values,
        fever_attributed_to=_attribution(fever_attr) if fever_attr is not None else common,
        hypotension_attributed_to=_attribution(hypo_attr) if hypo_attr is not None else common,
        hypoxia_attributed_to=_attribution(hypox_attr) if hypox_attr is not None else common,
    )


def _ice(d: Mapping[str, Any]) -> IceScore | None:
    raw_ice = d.get("ice")
    if raw_ice is None:
        return None
    if not isinstance(raw_ice, Mapping):
        raise ObservationError(
            "ice", raw_ice, "an object of ICE items or null", problem=f"{_show(raw_ice)} is not an object"
        )
    names = {name for name, _ in _ICE_ITEMS}
    errors = [
        ObservationError(
            f"ice.{key}", raw_ice[key], "one of: " + ", ".join(sorted(names)), problem="unknown ICE item"
        )
        for key in raw_ice
        if key not in names
    ]
    vals: dict[str, int | None] = {}
    for name, high in _ICE_ITEMS:
        vals[name] = None
        if raw_ice.get(name) is not None:
            try:
                vals[name] = _int_item(raw_ice[name], f"ice.{name}", 0, high)
            except ObservationError as err:
                errors.append(err)
    if errors:
        raise combined(errors)
    return IceScore(**vals)


def _capd(d: Mapping[str, Any]) -> tuple[int, ...] | None:
    raw = d.get("capd_items")
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) != 8:
        raise ObservationError(
            "capd_items",
            raw,
            "a list of 8 integers 0–4 or null",
            problem=f"{_show(raw)} is not a list of 8 integers 0–4",
        )
    items: list[int] = []
    errors: list[ObservationError] = []
    for i, v in enumerate(raw):
        try:
            items.append(_int_item(v, f"capd_items[{i}]", 0, 4))
        except ObservationError as err:
            errors.append(err)
    if errors:
        raise combined(errors)
    return tuple(items)


def _parse_neuro(d: Mapping[str, Any], t: float, index: int | None) -> Neuro:
    r = _Reader(d)
    r.add(_unknown_fields(d, _NEURO_FIELDS, "neuro"))
    r.add(_no_value(d, NEURO_VALUE_FIELDS, "neuro"))
    ice = r.take(_ice)
    capd = r.take(_capd)
    cons = r.take(_choice, "consciousness", [m.value for m in Consciousness])
    seiz = r.take(_choice, "seizure", [m.value for m in Seizure])
    motor = r.take(_choice, "motor", [m.value for m in Motor])
    icp = r.take(_choice, "icp_edema", [m.value for m in IcpEdema])
    flags = {key: r.take(_bool, key) for key in ("tremor", "myoclonus", "papilledema", "sedated")}
    ich = r.take(_opt_bool, "intracranial_hemorrhage")
    r.done()
    return Neuro(
        t_hours=t,
        index=index,
        ice_given="ice" in d,
        ice=ice,
        capd_given="capd_items" in d,
        capd_items=capd,
        consciousness=Consciousness(cons) if cons else None,
        seizure=Seizure(seiz) if seiz else None,
        motor=Motor(motor) if motor else None,
        icp_edema=IcpEdema(icp) if icp else None,
        intracranial_hemorrhage=ich,
        tremor=bool(flags["tremor"]),
        myoclonus=bool(flags["myoclonus"]),
        papilledema=bool(flags["papilledema"]),
        sedated=bool(flags["sedated"]),
    )


def _parse_lab(d: Mapping[str, Any], t: float, index: int | None) -> Lab:
    r = _Reader(d)
    r.add(_unknown_fields(d, _LAB_FIELDS, "lab"))
    for a, b in (
        ("crp_mg_L", "crp_mg_dL"),
        ("creatinine_mg_dL", "creatinine_umol_L"),
        ("upcr_mg_mg", "upcr_mg_mmol"),
    ):
        if d.get(a) is not None and d.get(b) is not None:
            r.add([ObservationError(b, d[b], f"either {a} or {b}", problem=f"give {a} or {b}, not both")])
    r.add(_lab_limit_errors(d))
    r.add(_no_value(d, LAB_FIELDS, "lab"))
    values: dict[str, float | None] = {key: r.take(_opt_number, key) for key in LAB_FIELDS if key in d}
    r.done()
    crp_l = values.pop("crp_mg_L", None)
    if crp_l is not None:
        values["crp_mg_dL"] = units.crp_mg_l_to_mg_dl(crp_l)
    creat_u = values.pop("creatinine_umol_L", None)
    if creat_u is not None:
        values["creatinine_mg_dL"] = units.creatinine_umol_l_to_mg_dl(creat_u)
    upcr_mmol = values.pop("upcr_mg_mmol", None)
    if upcr_mmol is not None:
        values["upcr_mg_mg"] = units.upcr_mg_mmol_to_mg_mg(upcr_mmol)
        values["upcr_entered_mg_mmol"] = upcr_mmol
    return Lab(t_hours=t, index=index, **values)


# D-3, SERO-1: a serology value is judged against the reporting lab's limit, sent with it.
LAB_VALUE_WITH_LIMIT = (
    ("anti_dsdna_IU_mL", "anti_dsdna_cutoff_IU_mL"),
    ("c3_mg_dL", "c3_lln_mg_dL"),
    ("c4_mg_dL", "c4_lln_mg_dL"),
)


def _lab_limit_errors(d: Mapping[str, Any]) -> list[ObservationError]:
    errors: list[ObservationError] = []
    for value_key, limit_key in LAB_VALUE_WITH_LIMIT:
        has_value, has_limit = d.get(value_key) is not None, d.get(limit_key) is not None
        if has_value and not has_limit:
            errors.append(
                ObservationError(
                    limit_key,
                    None,
                    f"the reporting lab's limit for {value_key}",
                    problem=f"{limit_key} is required with {value_key} (the reporting lab's limit, D-3)",
                )
            )
        if has_limit and not has_value:
            errors.append(
                ObservationError(
                    value_key, None, "a number", problem=f"{value_key} is required with {limit_key}"
                )
            )
    return errors


def _parse_medication(d: Mapping[str, Any], t: float, index: int | None) -> Medication:
    r = _Reader(d)
    r.add(_unknown_fields(d, _MED_FIELDS, "medication"))
    if d.get("drug") is None:
        r.add([ObservationError("drug", None, "one of: " + ", ".join(DRUGS), problem="drug is required")])
    drug = r.take(_choice, "drug", DRUGS)
    dose = r.take(_opt_number, "dose_mg")
    for_crs_icans = r.take(_bool, "for_crs_icans", True)
    route = r.take(_text, "route")
    if drug is not None:
        r.add(dose_errors(drug, dose))
    r.done()
    assert drug is not None and for_crs_icans is not None
    return Medication(
        t_hours=t, drug=drug, index=index, dose_mg=dose, for_crs_icans=for_crs_icans, route=route
    )


def _parse_event(d: Mapping[str, Any], t: float, index: int | None) -> Event:
    r = _Reader(d)
    r.add(_unknown_fields(d, _EVENT_FIELDS, "event"))
    if d.get("event") is None:
        r.add([ObservationError("event", None, "one of: " + ", ".join(EVENTS), problem="event is required")])
    ev = r.take(_choice, "event", EVENTS)
    attributed = r.take(_text, "attributed_to")
    r.done()
    assert ev is not None
    return Event(t_hours=t, event=ev, index=index, attributed_to=attributed)


def _parse_flags(d: Mapping[str, Any], t: float, index: int | None) -> ClinicalFlag:
    r = _Reader(d)
    r.add(_unknown_fields(d, _FLAG_FIELDS, "clinical_flag"))
    r.add(_no_value(d, CLINICAL_FLAGS, "clinical_flag"))
    values = [(k, r.take(_bool, k)) for k in d if k not in _COMMON and k in _FLAG_FIELDS]
    r.done()
    return ClinicalFlag(t_hours=t, flags=tuple(sorted((k, bool(v)) for k, v in values)), index=index)


Parser = Callable[[Mapping[str, Any], float, int | None], Observation]
_PARSERS: dict[str, Parser] = {
    "vitals": _parse_vitals,
    "neuro": _parse_neuro,
    "lab": _parse_lab,
    "medication": _parse_medication,
    "event": _parse_event,
    "clinical_flag": _parse_flags,
}


def register_kinds(parsers: Mapping[str, Parser]) -> None:
    """Add observation kinds parsed elsewhere in the core with the helpers of this module (the
    follow-up kinds of carttrack/followup/parsing.py; the carttrack package __init__ registers them),
    so that parse_observation and parse_case accept them on every entry path."""
    for kind, parser in parsers.items():
        if _PARSERS.get(kind, parser) is not parser:
            raise ValueError(f"observation kind {kind!r} is already parsed by another parser")
    _PARSERS.update(parsers)


def parse_observation(
    data: Mapping[str, Any], *, index: int | None = None, case_id: str | None = None
) -> Observation:
    """Parse and validate one observation dict (case-file fields plus "kind" and "t_hours").

    The one entry point for every path (tablet, API, FHIR import, case files). Raises
    ObservationError: the first error of the record, with every error of it in ``.errors``."""
    try:
        if not isinstance(data, Mapping):
            raise ObservationError(
                "observation", data, "an object", problem="an observation must be an object"
            )
        kind = data.get("kind")
        if kind not in _PARSERS:
            raise ObservationError(
                "kind",
                kind,
                "one of: " + ", ".join(_PARSERS),
                problem=f"{_show(kind)} is not one of: {', '.join(_PARSERS)}",
            )
        if data.get("t_hours") is None:
            raise ObservationError(
                "t_hours", None, "a number of hours after infusion", problem="t_hours is required"
            )
        t = _number(data, "t_hours")
        return _PARSERS[str(kind)](data, t, index)
    except ObservationError as err:
        raise err.located(case_id=case_id, index=index) from None


def observation_errors(data: Mapping[str, Any]) -> tuple[ObservationError, ...]:
    """Every field error of one observation dict (empty when it is valid): what a form shows at once."""
    try:
        parse_observation(data)
    except ObservationError as err:
        return err.errors
    return ()


_PATIENT_FIELDS = frozenset(
    {
        "age_years",
        "weight_kg",
        "sex",
        "indication",
        "product",
        "developmental_delay",
        "home_o2_l_min",
        "baseline_sbp",
        "indication_group",
    }
)
_FOLLOW_UP_FIELDS = ("last_follow_up_hours", "death_hours", "progression_hours", "next_therapy_hours")


def parse_patient(data: Mapping[str, Any], *, case_id: str | None = None) -> PatientInfo:
    try:
        if not isinstance(data, Mapping):
            raise ObservationError("patient", data, "an object", problem="patient must be an object")
        for key in data:
            if key not in _PATIENT_FIELDS:
                raise ObservationError(
                    f"patient.{key}",
                    data[key],
                    "one of: " + ", ".join(sorted(_PATIENT_FIELDS)),
                    problem="unknown patient field",
                )
        for key in ("age_years", "weight_kg"):
            if data.get(key) is None:
                raise ObservationError(f"patient.{key}", None, "a number", problem=f"{key} is required")
        return PatientInfo(
            age_years=_number(data, "age_years"),
            weight_kg=_number(data, "weight_kg"),
            sex=_text(data, "sex"),
            indication=_text(data, "indication") or "",
            product=_text(data, "product") or "",
            developmental_delay=_bool(data, "developmental_delay"),
            home_o2_l_min=_opt_number(data, "home_o2_l_min") or 0.0,
            baseline_sbp=_opt_number(data, "baseline_sbp"),
            indication_group=_choice(data, "indication_group", INDICATION_GROUPS),
        )
    except ObservationError as err:
        raise err.located(case_id=case_id) from None


def parse_follow_up(data: Mapping[str, Any] | None, *, case_id: str | None = None) -> FollowUp | None:
    if data is None:
        return None
    try:
        if not isinstance(data, Mapping):
            raise ObservationError("follow_up", data, "an object", problem="follow_up must be an object")
        for key in data:
            if key not in _FOLLOW_UP_FIELDS:
                raise ObservationError(
                    f"follow_up.{key}",
                    data[key],
                    "one of: " + ", ".join(_FOLLOW_UP_FIELDS),
                    problem="unknown follow_up field",
                )
        return FollowUp(**{k: _opt_number(data, k) for k in _FOLLOW_UP_FIELDS})
    except ObservationError as err:
        raise err.located(case_id=case_id) from None


def parse_case(data: Mapping[str, Any]) -> Case:
    """Parse one case object of a case file (CASE-2)."""
    if not isinstance(data, Mapping):
        raise ObservationError("case", data, "an object", problem="a case must be an object")
    raw_id = data.get("id")
    if not isinstance(raw_id, str) or not raw_id:
        raise ObservationError(
            "id", raw_id, "a non-empty string", problem=f"{_show(raw_id)} is not a case id"
        )
    patient = parse_patient(data.get("patient"), case_id=raw_id)  # type: ignore[arg-type]
    raw_obs = data.get("observations")
    if not isinstance(raw_obs, list):
        raise ObservationError(
            "observations", raw_obs, "a list", problem="observations must be a list", case_id=raw_id
        )
    obs = tuple(parse_observation(o, index=i, case_id=raw_id) for i, o in enumerate(raw_obs))
    return Case(
        id=raw_id,
        patient=patient,
        observations=obs,
        follow_up=parse_follow_up(data.get("follow_up"), case_id=raw_id),
    )
