"""Parsing and validation of the follow-up observation kinds (CASE-7), with the same
helpers and error messages as ``carttrack.observations``: an unknown field, a wrong type or an
impossible value raises ObservationError naming the field and what is allowed. Every range is in
``carttrack.limits`` (``_FOLLOWUP_HARD``).

Accepted fields (beyond the follow-up kinds of CASE-7, marked +):

sledai: items (object: each of the 24 descriptor codes of sledai.SLEDAI_CODES -> true / false / null;
    a missing code is null = not assessed), attributed_to_lupus (list of codes; needed for the D-1
    descriptors to score), licats (list of codes marked as part of a LICATS episode, D-5),
    hemolytic_anemia, gi_activity (bools, for LLDAS; not recorded = absent, LLDAS-1),
    pga (0–3, at most two decimals, PGA-1), window_days (10 or 30; not recorded = the site setting, G-3).
medication_status: drugs (the complete current list, [] = no treatment), each
    {drug, mg_per_day | mg_per_week, investigational}: drug one of steroids.FOLLOWUP_DRUGS (any name
    when investigational is true); a dose above 0 (+ a dose may be left out when not known: rules
    that need it are then not decided); a drug at most once.
myositis_core_set (ranges TIS-5): physician_global, patient_global, extramuscular (0–10), mmt8
    (0–150), haq (0–3), enzyme_U_L (the most abnormal muscle enzyme), juvenile (bool); at least one
    measure.
ssc_assessment: mrss (whole number 0–51, SSC-1), + mrss_sites (object: each of the 17 ssc.MRSS_SITES -> 0–3;
    the total must equal mrss when both are sent), delta_skin, digital_ulcers, tendon_friction_rubs
    (bools), crp_mg_dL | crp_mg_L, dlco_pct_predicted, fvc_pct_predicted; at least one value.
Case `settings` (CASE-9): any FollowupSettings field, e.g. sledai_window_days,
    b_cell_reconstitution_per_uL, renal_response_definition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, TypeVar

from .. import units
from ..errors import show as _show
from ..observations import (
    _COMMON,
    ObservationError,
    Parser,
    _bool,
    _check_fields,
    _int_item,
    _opt_number,
)
from .inputs import DrugDose, MedicationStatus, MyositisCoreSet, SledaiEntry, SscAssessment
from .pga import has_at_most_two_decimals
from .settings import SLEDAI_WINDOWS_DAYS, FollowupSettings
from .sledai import SLEDAI_CODES
from .ssc import MRSS_MAX, MRSS_SITE_MAX, MRSS_SITES
from .steroids import FOLLOWUP_DRUGS, drug_class, normalise_drug_name

T = TypeVar("T")
_CODES_TEXT = "descriptor codes: " + ", ".join(SLEDAI_CODES)
_SLEDAI_FIELDS = _COMMON | {
    "items",
    "attributed_to_lupus",
    "licats",
    "hemolytic_anemia",
    "gi_activity",
    "pga",
    "window_days",
}
_MED_STATUS_FIELDS = _COMMON | {"drugs"}
_DRUG_FIELDS = frozenset({"drug", "mg_per_day", "mg_per_week", "investigational"})
_CORE_SET_MEASURES = ("physician_global", "patient_global", "mmt8", "haq", "enzyme_U_L", "extramuscular")
_CORE_SET_FIELDS = _COMMON | set(_CORE_SET_MEASURES) | {"juvenile"}
_SSC_BOOLS = ("delta_skin", "digital_ulcers", "tendon_friction_rubs")
_SSC_NUMBERS = ("crp_mg_dL", "crp_mg_L", "dlco_pct_predicted", "fvc_pct_predicted")
_SSC_FIELDS = _COMMON | {"mrss", "mrss_sites"} | set(_SSC_BOOLS) | set(_SSC_NUMBERS)


def _nested(prefix: str, parse: Callable[[], T]) -> T:
    """Run a field parser on a nested object and name the field with its path."""
    try:
        return parse()
    except ObservationError as err:
        raise ObservationError(f"{prefix}.{err.field}", err.value, err.allowed, problem=err.problem) from None


def _not_both(data: Mapping[str, Any], a: str, b: str) -> None:
    """One value in one of two units (or per day / per week), never both."""
    if data.get(a) is not None and data.get(b) is not None:
        raise ObservationError(b, data[b], f"either {a} or {b}", problem=f"give {a} or {b}, not both")


def _opt_tri(data: Mapping[str, Any], key: str) -> bool | None:
    """A bool that may be absent or null (= not recorded)."""
    if data.get(key) is None:
        return None
    return _bool(data, key)


def _code_list(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    raw = data.get(key)
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ObservationError(key, raw, f"a list of {_CODES_TEXT}", problem=f"{_show(raw)} is not a list")
    for code in raw:
        if not isinstance(code, str) or code not in SLEDAI_CODES:
            raise ObservationError(
                key, code, _CODES_TEXT, problem=f"{_show(code)} is not a SLEDAI-2K descriptor"
            )
    return tuple(sorted(set(raw)))


def parse_sledai(d: Mapping[str, Any], t: float, index: int | None) -> SledaiEntry:
    _check_fields(d, _SLEDAI_FIELDS, "sledai")
    raw = d.get("items")
    if not isinstance(raw, Mapping):
        raise ObservationError(
            "items", raw, f"an object of {_CODES_TEXT}", problem="items is required: an object of descriptors"
        )
    for key, value in raw.items():
        if key not in SLEDAI_CODES:
            raise ObservationError(f"items.{key}", value, _CODES_TEXT, problem="unknown SLEDAI-2K descriptor")
        if value is not None and not isinstance(value, bool):
            raise ObservationError(
                f"items.{key}",
                value,
                "true, false or null (not assessed)",
                problem=f"{_show(value)} is not true/false/null",
            )
    pga = _opt_number(d, "pga")
    if pga is not None and not has_at_most_two_decimals(pga):
        raise ObservationError(
            "pga", pga, "0–3 with at most two decimals", problem=f"{_show(pga)} has more than two decimals"
        )
    window: int | None = None
    raw_window = d.get("window_days")
    if raw_window is not None:
        if isinstance(raw_window, bool) or raw_window not in SLEDAI_WINDOWS_DAYS:
            raise ObservationError(
                "window_days",
                raw_window,
                "10 or 30 (days, G-3)",
                problem=f"{_show(raw_window)} is not 10 or 30",
            )
        window = int(raw_window)
    return SledaiEntry(
        t_hours=t,
        index=index,
        items=tuple((code, raw.get(code)) for code in SLEDAI_CODES),
        attributed_to_lupus=_code_list(d, "attributed_to_lupus"),
        licats=_code_list(d, "licats"),
        hemolytic_anemia=_opt_tri(d, "hemolytic_anemia"),
        gi_activity=_opt_tri(d, "gi_activity"),
        pga=pga,
        window_days=window,
    )


def _parse_drug(raw: object) -> DrugDose:
    if not isinstance(raw, Mapping):
        raise ObservationError(
            "drug", raw, "an object {drug, mg_per_day | mg_per_week}", problem="not an object"
        )
    _check_fields(raw, _DRUG_FIELDS, "a medication_status drug")
    name = raw.get("drug")
    if not isinstance(name, str) or not name.strip():
        raise ObservationError(
            "drug", name, "one of: " + ", ".join(FOLLOWUP_DRUGS), problem="drug is required"
        )
    investigational = _bool(raw, "investigational")
    norm = normalise_drug_name(name)
    if drug_class(norm, investigational=investigational) is None:
        raise ObservationError(
            "drug",
            name,
            "one of: " + ", ".join(FOLLOWUP_DRUGS) + " (any name with investigational: true)",
            problem=f"{_show(name)} is not a known drug (mark a trial drug investigational: true)",
        )
    _not_both(raw, "mg_per_day", "mg_per_week")
    doses = {key: _opt_number(raw, key) for key in ("mg_per_day", "mg_per_week")}
    for key, dose in doses.items():
        if dose == 0.0:
            raise ObservationError(
                key,
                dose,
                "a dose above 0 (leave a stopped drug out of the list)",
                problem="0 mg is not a dose",
            )
    return DrugDose(norm, doses["mg_per_day"], doses["mg_per_week"], investigational)


def parse_medication_status(d: Mapping[str, Any], t: float, index: int | None) -> MedicationStatus:
    _check_fields(d, _MED_STATUS_FIELDS, "medication_status")
    raw = d.get("drugs")
    if not isinstance(raw, list):
        raise ObservationError(
            "drugs",
            raw,
            "a list of drugs ([] = no treatment)",
            problem="drugs is required: the complete current list",
        )
    drugs: list[DrugDose] = []
    for i, item in enumerate(raw):
        dose = _nested(f"drugs[{i}]", partial(_parse_drug, item))
        if any(x.drug == dose.drug for x in drugs):
            raise ObservationError(
                f"drugs[{i}].drug", dose.drug, "each drug once", problem=f"{dose.drug} is listed twice"
            )
        drugs.append(dose)
    return MedicationStatus(t_hours=t, drugs=tuple(drugs), index=index)


def parse_myositis_core_set(d: Mapping[str, Any], t: float, index: int | None) -> MyositisCoreSet:
    _check_fields(d, _CORE_SET_FIELDS, "myositis_core_set")
    values = {key: _opt_number(d, key) for key in _CORE_SET_MEASURES}
    if all(v is None for v in values.values()):
        raise ObservationError(
            "myositis_core_set",
            None,
            "at least one of: " + ", ".join(_CORE_SET_MEASURES),
            problem="no measure recorded",
        )
    return MyositisCoreSet(t_hours=t, index=index, juvenile=_opt_tri(d, "juvenile"), **values)


def _mrss_sites(raw: object) -> tuple[tuple[str, int], ...]:
    allowed = "an object of the 17 sites (" + ", ".join(MRSS_SITES) + f") each 0–{MRSS_SITE_MAX}"
    if not isinstance(raw, Mapping):
        raise ObservationError("mrss_sites", raw, allowed, problem=f"{_show(raw)} is not an object")
    for key in raw:
        if key not in MRSS_SITES:
            raise ObservationError(f"mrss_sites.{key}", raw[key], allowed, problem="unknown mRSS site")
    missing = [s for s in MRSS_SITES if raw.get(s) is None]
    if missing:
        raise ObservationError("mrss_sites", None, allowed, problem="missing sites: " + ", ".join(missing))
    return tuple((s, _int_item(raw[s], f"mrss_sites.{s}", 0, MRSS_SITE_MAX)) for s in MRSS_SITES)


def parse_ssc_assessment(d: Mapping[str, Any], t: float, index: int | None) -> SscAssessment:
    _check_fields(d, _SSC_FIELDS, "ssc_assessment")
    _not_both(d, "crp_mg_dL", "crp_mg_L")
    mrss = None if d.get("mrss") is None else _int_item(d["mrss"], "mrss", 0, MRSS_MAX)
    sites = None if d.get("mrss_sites") is None else _mrss_sites(d["mrss_sites"])
    if sites is not None:
        total = sum(score for _, score in sites)
        if mrss is not None and mrss != total:
            raise ObservationError(
                "mrss",
                mrss,
                f"the sum of mrss_sites ({total})",
                problem=f"{mrss} is not the sum of the 17 sites ({total})",
            )
        mrss = total
    crp_l = _opt_number(d, "crp_mg_L")
    crp_dl = units.crp_mg_l_to_mg_dl(crp_l) if crp_l is not None else _opt_number(d, "crp_mg_dL")
    out = SscAssessment(
        t_hours=t,
        index=index,
        mrss=mrss,
        mrss_sites=sites,
        delta_skin=_opt_tri(d, "delta_skin"),
        digital_ulcers=_opt_tri(d, "digital_ulcers"),
        tendon_friction_rubs=_opt_tri(d, "tendon_friction_rubs"),
        crp_mg_dL=crp_dl,
        crp_entered_mg_L=crp_l,
        dlco_pct_predicted=_opt_number(d, "dlco_pct_predicted"),
        fvc_pct_predicted=_opt_number(d, "fvc_pct_predicted"),
    )
    if all(
        getattr(out, k) is None
        for k in ("mrss", *_SSC_BOOLS, "crp_mg_dL", "dlco_pct_predicted", "fvc_pct_predicted")
    ):
        raise ObservationError(
            "ssc_assessment",
            None,
            "at least one of: " + ", ".join(sorted(_SSC_FIELDS - _COMMON)),
            problem="no value recorded",
        )
    return out


FOLLOWUP_PARSERS: dict[str, Parser] = {
    "sledai": parse_sledai,
    "medication_status": parse_medication_status,
    "myositis_core_set": parse_myositis_core_set,
    "ssc_assessment": parse_ssc_assessment,
}


def parse_followup_settings(data: object, *, case_id: str | None = None) -> FollowupSettings:
    """A case's `settings` object (CASE-9); None = the defaults."""
    if data is None:
        return FollowupSettings()
    if not isinstance(data, Mapping):
        raise ObservationError(
            "settings", data, "an object", problem="settings must be an object", case_id=case_id
        )
    try:
        return FollowupSettings.from_dict(data)
    except ValueError as exc:
        key, _, problem = str(exc).partition(": ")
        raise ObservationError(
            f"settings.{key}", data.get(key), problem, problem=problem, case_id=case_id
        ) from None
