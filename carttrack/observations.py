"""Typed observations and their parsing/validation at the boundary (CASES.md, `carttrack-case/1`).

Every value is converted to the canonical unit set here (°F -> °C, CRP mg/L -> mg/dL, creatinine
µmol/L -> mg/dL; FiO2 percent -> fraction). Invalid input raises ObservationError naming the field,
the value and the allowed range or vocabulary. Unknown kinds and unknown fields are errors.

Accepted fields (beyond CASES.md, marked +):

patient: age_years, weight_kg, sex, indication, product, developmental_delay,
    + home_o2_l_min (pre-infusion home oxygen by nasal cannula, L/min; DECISIONS A-8: only a new or
      increased requirement counts as hypoxia), + baseline_sbp (mmHg, for the optional relative
      hypotension rule of A-5).
every observation: kind, t_hours (hours after infusion; negative = before).
vitals: temp_c | temp_f, hr, sbp, dbp, + map, rr, spo2, o2_device, o2_flow_l_min, fio2 (fraction
    or %), o2_for_comfort_only, fluid_bolus_for_hypotension, vasopressors (list of names; inotropes
    are accepted and recorded but not graded, A-6),
    + attributed_to (cause text; anything other than "crs" attributes this observation's fever,
      hypotension and hypoxia to another cause, DECISIONS A-9),
    + fever_attributed_to, hypotension_attributed_to, hypoxia_attributed_to (the same, per finding;
      the per-finding field wins over attributed_to).
neuro: ice ({orientation 0–4, naming 0–3, commands, writing, attention 0–1}; an item may be null =
    not assessable for a non-neurological reason, B-1; ice: null = not performed), capd_items (8
    integers 0–4, or null), consciousness, seizure, motor, icp_edema, intracranial_hemorrhage,
    tremor, myoclonus, papilledema, sedated.
lab: keys of vocabulary.LAB_FIELDS (+ ast_U_L, ast_uln_U_L); at least one.
medication: drug (vocabulary.DRUGS), dose_mg, + for_crs_icans (bool, default true: a steroid given
    for another reason, e.g. lupus maintenance, does not mask fever, A-2), + route (text).
event: event (vocabulary.EVENTS), attributed_to (text; "crs" or "icans" for grade 5, A-11).
clinical_flag: one or more of vocabulary.CLINICAL_FLAGS, each a bool.
Follow-up (CASES.md "Follow-up"): the kinds sledai, medication_status, myositis_core_set and
    ssc_assessment are parsed in carttrack/followup/parsing.py (registered here with register_kinds);
    lab gains the follow-up fields of vocabulary.LAB_FIELDS (upcr_mg_mmol -> upcr_mg_mg; anti-dsDNA,
    C3 and C4 each with the reporting lab's limit), event gains flare_declared, patient gains
    + indication_group (followup/groups.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import units
from .followup.groups import INDICATION_GROUPS
from .followup.inputs import FollowupObservation
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


class ObservationError(ValueError):
    """Invalid input. Attributes: field, value, allowed (human text), case_id, index."""

    def __init__(
        self,
        field: str,
        value: object,
        allowed: str,
        *,
        problem: str | None = None,
        case_id: str | None = None,
        index: int | None = None,
    ) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        self.problem = problem
        self.case_id = case_id
        self.index = index
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.case_id is not None:
            where.append(f"case {self.case_id}")
        if self.index is not None:
            where.append(f"observation {self.index}")
        where.append(f"field {self.field}")
        problem = self.problem or f"{_show(self.value)} is outside {self.allowed}"
        return ", ".join(where) + ": " + problem

    def located(self, *, case_id: str | None = None, index: int | None = None) -> ObservationError:
        return ObservationError(
            self.field,
            self.value,
            self.allowed,
            problem=self.problem,
            case_id=case_id if case_id is not None else self.case_id,
            index=index if index is not None else self.index,
        )

    def __str__(self) -> str:
        return self._message()


def _show(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return repr(value)
    return str(value)


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
    fluid_bolus_for_hypotension: bool = False
    vasopressors: tuple[str, ...] = ()
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
    intracranial_hemorrhage: bool = False
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
    il6_pg_mL: float | None = None  # informational; tocilizumab raises measured IL-6 (RULES §5.2, S18d)
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
    # Follow-up fields (FOLLOWUP §3.5–§4): UPCR entered in mg/mmol is kept beside its mg/mg value.
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


def _bool(data: Mapping[str, Any], key: str, default: bool = False) -> bool:
    if key not in data or data[key] is None:
        return default
    value = data[key]
    if not isinstance(value, bool):
        raise ObservationError(key, value, "true or false", problem=f"{_show(value)} is not true/false")
    return value


MAX_TEXT_LENGTH = 500  # free-text fields (causes, drug names); longer is not a clinical fact
INFUSION_T = 0.0  # CASES.md: t_hours counts from the infusion; negative = before it (baseline values)


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


def _check_fields(data: Mapping[str, Any], allowed: frozenset[str], kind: str) -> None:
    for key in data:
        if key not in allowed:
            raise ObservationError(
                str(key),
                data[key],
                f"one of: {', '.join(sorted(allowed))}",
                problem=f"unknown field for {kind}",
            )


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
_VITALS_FIELDS = _COMMON | {
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
    "attributed_to",
    "fever_attributed_to",
    "hypotension_attributed_to",
    "hypoxia_attributed_to",
}
_NEURO_FIELDS = _COMMON | {
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
}
_LAB_FIELDS = _COMMON | frozenset(LAB_FIELDS)
_MED_FIELDS = _COMMON | {"drug", "dose_mg", "for_crs_icans", "route"}
_EVENT_FIELDS = _COMMON | {"event", "attributed_to"}
_FLAG_FIELDS = _COMMON | frozenset(CLINICAL_FLAGS)
_ICE_ITEMS = (("orientation", 4), ("naming", 3), ("commands", 1), ("writing", 1), ("attention", 1))
KINDS: tuple[str, ...] = ("vitals", "neuro", "lab", "medication", "event", "clinical_flag")
_VASO_TEXT = "one of: " + ", ".join(VASOPRESSORS)


def _parse_vitals(d: Mapping[str, Any], t: float, index: int | None) -> Vitals:
    _check_fields(d, _VITALS_FIELDS, "vitals")
    if d.get("temp_c") is not None and d.get("temp_f") is not None:
        raise ObservationError(
            "temp_f", d["temp_f"], "either temp_c or temp_f", problem="give temp_c or temp_f, not both"
        )
    temp_c = _opt_number(d, "temp_c")
    temp_f = _opt_number(d, "temp_f")
    if temp_f is not None:
        temp_c = units.f_to_c(temp_f)
    fio2: float | None = None
    if d.get("fio2") is not None:
        raw = d["fio2"]
        if not isinstance(raw, bool) and isinstance(raw, (int, float)) and 21.0 <= raw <= 100.0:
            fio2 = float(raw) / 100.0
        else:
            fio2 = _number(d, "fio2")
    device = _choice(d, "o2_device", [m.value for m in O2Device])
    pressors: list[str] = []
    raw_p = d.get("vasopressors")
    if raw_p is not None:
        if not isinstance(raw_p, list):
            raise ObservationError(
                "vasopressors", raw_p, "a list of drug names", problem=f"{_show(raw_p)} is not a list"
            )
        for name in raw_p:
            if not isinstance(name, str) or name.strip().lower() not in VASOPRESSORS:
                raise ObservationError(
                    "vasopressors", name, _VASO_TEXT, problem=f"{_show(name)} is not {_VASO_TEXT}"
                )
            norm = name.strip().lower()
            if norm not in pressors:
                pressors.append(norm)
    common = _attribution(_text(d, "attributed_to"))
    fever_attr = _text(d, "fever_attributed_to")
    hypo_attr = _text(d, "hypotension_attributed_to")
    hypox_attr = _text(d, "hypoxia_attributed_to")
    return Vitals(
        t_hours=t,
        index=index,
        temp_c=temp_c,
        temp_entered_f=temp_f,
        hr=_opt_number(d, "hr"),
        sbp=_opt_number(d, "sbp"),
        dbp=_opt_number(d, "dbp"),
        map=_opt_number(d, "map"),
        rr=_opt_number(d, "rr"),
        spo2=_opt_number(d, "spo2"),
        o2_device=O2Device(device) if device is not None else None,
        o2_flow_l_min=_opt_number(d, "o2_flow_l_min"),
        fio2=fio2,
        o2_for_comfort_only=_bool(d, "o2_for_comfort_only"),
        fluid_bolus_for_hypotension=_bool(d, "fluid_bolus_for_hypotension"),
        vasopressors=tuple(sorted(pressors)),
        fever_attributed_to=_attribution(fever_attr) if fever_attr is not None else common,
        hypotension_attributed_to=_attribution(hypo_attr) if hypo_attr is not None else common,
        hypoxia_attributed_to=_attribution(hypox_attr) if hypox_attr is not None else common,
    )


def _parse_neuro(d: Mapping[str, Any], t: float, index: int | None) -> Neuro:
    _check_fields(d, _NEURO_FIELDS, "neuro")
    ice: IceScore | None = None
    raw_ice = d.get("ice")
    if raw_ice is not None:
        if not isinstance(raw_ice, Mapping):
            raise ObservationError(
                "ice", raw_ice, "an object of ICE items or null", problem=f"{_show(raw_ice)} is not an object"
            )
        names = {name for name, _ in _ICE_ITEMS}
        for key in raw_ice:
            if key not in names:
                raise ObservationError(
                    f"ice.{key}",
                    raw_ice[key],
                    "one of: " + ", ".join(sorted(names)),
                    problem="unknown ICE item",
                )
        vals: dict[str, int | None] = {}
        for name, high in _ICE_ITEMS:
            if name not in raw_ice or raw_ice[name] is None:
                vals[name] = None
            else:
                vals[name] = _int_item(raw_ice[name], f"ice.{name}", 0, high)
        ice = IceScore(**vals)
    capd: tuple[int, ...] | None = None
    raw_capd = d.get("capd_items")
    if raw_capd is not None:
        if not isinstance(raw_capd, list) or len(raw_capd) != 8:
            raise ObservationError(
                "capd_items",
                raw_capd,
                "a list of 8 integers 0–4 or null",
                problem=f"{_show(raw_capd)} is not a list of 8 integers 0–4",
            )
        capd = tuple(_int_item(v, f"capd_items[{i}]", 0, 4) for i, v in enumerate(raw_capd))
    cons = _choice(d, "consciousness", [m.value for m in Consciousness])
    seiz = _choice(d, "seizure", [m.value for m in Seizure])
    motor = _choice(d, "motor", [m.value for m in Motor])
    icp = _choice(d, "icp_edema", [m.value for m in IcpEdema])
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
        intracranial_hemorrhage=_bool(d, "intracranial_hemorrhage"),
        tremor=_bool(d, "tremor"),
        myoclonus=_bool(d, "myoclonus"),
        papilledema=_bool(d, "papilledema"),
        sedated=_bool(d, "sedated"),
    )


def _parse_lab(d: Mapping[str, Any], t: float, index: int | None) -> Lab:
    _check_fields(d, _LAB_FIELDS, "lab")
    for a, b in (
        ("crp_mg_L", "crp_mg_dL"),
        ("creatinine_mg_dL", "creatinine_umol_L"),
        ("upcr_mg_mg", "upcr_mg_mmol"),
    ):
        if d.get(a) is not None and d.get(b) is not None:
            raise ObservationError(b, d[b], f"either {a} or {b}", problem=f"give {a} or {b}, not both")
    _check_lab_limits_given(d)
    values: dict[str, float | None] = {key: _opt_number(d, key) for key in LAB_FIELDS if key in d}
    if not any(v is not None for v in values.values()):
        raise ObservationError(
            "lab",
            None,
            "at least one of: " + ", ".join(LAB_FIELDS),
            problem="a lab observation needs at least one value",
        )
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


# D-3, FOLLOWUP §3.6: a serology value is judged against the reporting lab's limit, sent with it.
LAB_VALUE_WITH_LIMIT = (
    ("anti_dsdna_IU_mL", "anti_dsdna_cutoff_IU_mL"),
    ("c3_mg_dL", "c3_lln_mg_dL"),
    ("c4_mg_dL", "c4_lln_mg_dL"),
)


def _check_lab_limits_given(d: Mapping[str, Any]) -> None:
    for value_key, limit_key in LAB_VALUE_WITH_LIMIT:
        has_value, has_limit = d.get(value_key) is not None, d.get(limit_key) is not None
        if has_value and not has_limit:
            raise ObservationError(
                limit_key,
                None,
                f"the reporting lab's limit for {value_key}",
                problem=f"{limit_key} is required with {value_key} (the reporting lab's limit, D-3)",
            )
        if has_limit and not has_value:
            raise ObservationError(
                value_key, None, "a number", problem=f"{value_key} is required with {limit_key}"
            )


def _parse_medication(d: Mapping[str, Any], t: float, index: int | None) -> Medication:
    _check_fields(d, _MED_FIELDS, "medication")
    if d.get("drug") is None:
        raise ObservationError("drug", None, "one of: " + ", ".join(DRUGS), problem="drug is required")
    drug = _choice(d, "drug", DRUGS)
    assert drug is not None
    dose = _opt_number(d, "dose_mg")
    return Medication(
        t_hours=t,
        drug=drug,
        index=index,
        dose_mg=dose,
        for_crs_icans=_bool(d, "for_crs_icans", True),
        route=_text(d, "route"),
    )


def _parse_event(d: Mapping[str, Any], t: float, index: int | None) -> Event:
    _check_fields(d, _EVENT_FIELDS, "event")
    if d.get("event") is None:
        raise ObservationError("event", None, "one of: " + ", ".join(EVENTS), problem="event is required")
    ev = _choice(d, "event", EVENTS)
    assert ev is not None
    return Event(t_hours=t, event=ev, index=index, attributed_to=_text(d, "attributed_to"))


def _parse_flags(d: Mapping[str, Any], t: float, index: int | None) -> ClinicalFlag:
    _check_fields(d, _FLAG_FIELDS, "clinical_flag")
    flags = tuple(sorted((k, _bool(d, k)) for k in d if k not in _COMMON))
    if not flags:
        raise ObservationError(
            "clinical_flag",
            None,
            "at least one of: " + ", ".join(CLINICAL_FLAGS),
            problem="a clinical_flag observation needs at least one flag",
        )
    return ClinicalFlag(t_hours=t, flags=flags, index=index)


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
    """Parse one case-file observation dict (incl. "kind" and "t_hours")."""
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
    """Parse one case object of a case file (CASES.md)."""
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
