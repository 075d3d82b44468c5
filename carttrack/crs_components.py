"""The CRS components one standing value meets (CRS-3…CRS-17; A-5, A-6, A-8, A-9).

Each CRS domain (A-14, CRS-24) is graded from its own last recorded value: hypotension from the
blood-pressure domain (SBP / MAP / fluid bolus) and from the vasopressor domain, hypoxia from the
oxygen domain. crs.py combines them with the fever and the episode rules."""

from __future__ import annotations

import math
from typing import NamedTuple

from .numbers import against, plain
from .observations import PatientInfo, Vitals
from .settings import DecisionSettings
from .vocabulary import (
    HIGH_FLOW_OR_MASK_DEVICES,
    O2_DEVICE_NAMES,
    POSITIVE_PRESSURE_DEVICES,
    VASOPRESSIN,
    VASOPRESSORS,
    O2Device,
    drug_name,
)

FEVER_C = 38.0  # CRS-1 fever ≥ 38.0 °C [Lee 2019] [Santomasso 2021] p5; A-1 unrounded comparison
# CRS-7: low flow ≤ 6 L/min, high flow > 6 [Lee 2019] [Blood CRS comparison] [SMC 2024]
LOW_FLOW_MAX_L_MIN = 6.0
PALS_NEONATE_SBP = 60.0  # CRS-4 PALS: term neonate < 60 mmHg [PALS hypotension]
PALS_INFANT_SBP = 70.0  # CRS-4 PALS: infant 1 month–1 year < 70 mmHg [PALS hypotension]
PALS_CHILD_BASE_SBP = 70.0  # CRS-4 PALS: 1–10 years < 70 + 2 × age [PALS hypotension]
PALS_CHILD_PER_YEAR = 2.0  # CRS-4 PALS [PALS hypotension]
PALS_OLDER_SBP = 90.0  # CRS-4 PALS: ≥ 10 years < 90 mmHg [PALS hypotension]
NEONATE_MAX_YEARS = 1.0 / 12.0  # one month


def hypotension_sbp_threshold(age_years: float, settings: DecisionSettings) -> float:
    """SBP below this is hypotension (A-5, CRS-3): adults 90; children PALS by completed years (CRS-4)."""
    if age_years >= settings.adult_age_years:
        return settings.adult_sbp_below_mmhg
    if age_years < NEONATE_MAX_YEARS:
        return PALS_NEONATE_SBP
    if age_years < 1.0:
        return PALS_INFANT_SBP
    if age_years < 10.0:
        return PALS_CHILD_BASE_SBP + PALS_CHILD_PER_YEAR * math.floor(age_years)
    return PALS_OLDER_SBP


class Component(NamedTuple):
    """One CRS component met by one recorded value (immutable), naming that record."""

    grade: int
    criterion: str
    text: str
    t_hours: float
    observation_index: int | None


def _component(grade: int, criterion: str, text: str, obs: Vitals) -> Component:
    return Component(grade, criterion, text, obs.t_hours, obs.index)


def vasopressor_component(obs: Vitals, s: DecisionSettings) -> Component | None:
    """Hypotension by vasopressors (CRS-14, A-6) from the record that carried the vasopressor list."""
    pressors = obs.vasopressors or ()
    if obs.hypotension_attributed_to is not None or not pressors:
        return None
    counted = [drug_name(p) for p in pressors if VASOPRESSORS.get(p) and p != VASOPRESSIN]
    vaso = VASOPRESSIN in pressors
    if len(counted) >= 2:
        return _component(
            4, "CRS-14 multiple vasopressors", f"{' + '.join(counted)} (multiple vasopressors)", obs
        )
    if len(counted) == 1:
        extra = " + vasopressin" if vaso else ""
        return _component(3, "CRS one vasopressor", f"{counted[0]}{extra} (one vasopressor)", obs)
    if vaso and s.vasopressin_alone_counts:
        return _component(3, "A-6 vasopressin alone", "vasopressin alone (one vasopressor, A-6)", obs)
    if vaso:
        return _component(
            2,
            "CRS hypotension without vasopressor",
            "hypotension: vasopressin (not counted, A-6 setting)",
            obs,
        )
    return None


def calculated_map(sbp: float, dbp: float) -> float:
    """MAP calculated from the cuff pressures: (SBP + 2 × DBP) / 3."""
    return (sbp + 2.0 * dbp) / 3.0


def mean_arterial_pressure(obs: Vitals) -> float | None:
    """The recorded MAP, else the one calculated from SBP and DBP."""
    if obs.map is not None:
        return obs.map
    if obs.sbp is not None and obs.dbp is not None:
        return calculated_map(obs.sbp, obs.dbp)
    return None


def blood_pressure_component(
    obs: Vitals, patient: PatientInfo, s: DecisionSettings, thr: float
) -> Component | None:
    """Hypotension without vasopressors (A-5) from the record that carried the blood-pressure domain."""
    if obs.hypotension_attributed_to is not None:
        return None
    reasons = []
    if obs.sbp is not None and obs.sbp < thr:
        reasons.append(f"SBP {against(obs.sbp, thr)} < {plain(thr)} mmHg")
    if patient.age_years >= s.adult_age_years and s.use_map_in_adults:
        mean = mean_arterial_pressure(obs)
        if mean is not None and mean < s.adult_map_below_mmhg:
            reasons.append(
                f"MAP {against(mean, s.adult_map_below_mmhg)} < {plain(s.adult_map_below_mmhg)} mmHg"
            )
    if (
        s.relative_hypotension_rule
        and patient.baseline_sbp is not None
        and obs.sbp is not None
        and obs.sbp < s.relative_hypotension_fraction * patient.baseline_sbp
        and obs.sbp < s.relative_hypotension_ceiling_mmhg
    ):
        limit = s.relative_hypotension_fraction * patient.baseline_sbp
        reasons.append(
            f"SBP {against(obs.sbp, limit)} < {plain(s.relative_hypotension_fraction)} × baseline "
            f"{plain(patient.baseline_sbp)}"
        )
    if obs.fluid_bolus_for_hypotension and s.fluid_bolus_counts_as_hypotension:
        reasons.append("fluid bolus for hypotension")
    if reasons:
        return _component(2, "CRS hypotension without vasopressor", "hypotension: " + ", ".join(reasons), obs)
    return None


def hypoxia_component(
    obs: Vitals, patient: PatientInfo, s: DecisionSettings
) -> tuple[Component | None, str | None]:
    """(component, note) from the record that carried the oxygen domain. The note explains an
    oxygen requirement that does not count, or a grading choice (A-8)."""
    dev = obs.o2_device
    flow = obs.o2_flow_l_min
    if dev is None or dev is O2Device.ROOM_AIR:
        return None, None
    name = O2_DEVICE_NAMES[dev]
    if obs.o2_for_comfort_only:
        return None, "oxygen for comfort only is not hypoxia (CRS-6 [CancerCalc])"
    if obs.hypoxia_attributed_to is not None:
        return None, f"oxygen requirement attributed to {obs.hypoxia_attributed_to} (A-9)"
    flow_txt = f" {plain(flow)} L/min" if flow is not None else ""
    if dev in POSITIVE_PRESSURE_DEVICES:
        return _component(4, "CRS-16 positive pressure", f"{name}{flow_txt} (positive pressure)", obs), None
    if dev in HIGH_FLOW_OR_MASK_DEVICES:
        if dev is O2Device.HFNC and flow is not None and flow <= LOW_FLOW_MAX_L_MIN:
            if not s.hfnc_device_beats_flow:
                return _component(
                    2, "CRS low-flow oxygen", f"{name}{flow_txt} graded as low flow (A-8 setting)", obs
                ), None
            return (
                _component(
                    3, "CRS-15 device beats flow", f"{name}{flow_txt} (graded by device; flow ≤ 6 L/min)", obs
                ),
                "HFNC at ≤ 6 L/min graded by device as grade 3 (A-8)",
            )
        return _component(3, "CRS-10 high-flow / mask oxygen", f"{name}{flow_txt}", obs), None
    # blow-by or nasal cannula
    if patient.home_o2_l_min > 0 and (flow is None or flow <= patient.home_o2_l_min):
        return (
            None,
            f"oxygen {name}{flow_txt} not above home baseline {plain(patient.home_o2_l_min)} L/min (A-8)",
        )
    if dev is O2Device.NASAL_CANNULA and flow is not None and flow > LOW_FLOW_MAX_L_MIN:
        return _component(
            3, "CRS high-flow oxygen (> 6 L/min)", f"{name}{flow_txt} (> 6 L/min = high flow)", obs
        ), None
    note = (
        None
        if flow is not None or dev is O2Device.BLOW_BY
        else "nasal cannula without flow: low flow assumed"
    )
    return _component(2, "CRS low-flow oxygen (≤ 6 L/min)", f"{name}{flow_txt} (low flow)", obs), note


# ---- how each domain's standing value reads (the list of standing values, findings)


def temperature_text(obs: Vitals) -> str:
    text = f"{obs.temp_c:.1f} °C" if obs.temp_c is not None else "not recorded"
    if obs.temp_entered_f is not None:
        text += f" ({plain(obs.temp_entered_f)} °F entered)"
    if obs.fever_attributed_to is not None:
        text += f", fever attributed to {obs.fever_attributed_to}"
    return text


def blood_pressure_text(obs: Vitals) -> str:
    parts = []
    if obs.sbp is not None and obs.dbp is not None:
        parts.append(f"BP {plain(obs.sbp)}/{plain(obs.dbp)} mmHg")
    elif obs.sbp is not None:
        parts.append(f"SBP {plain(obs.sbp)} mmHg")
    if obs.map is not None:
        parts.append(f"MAP {plain(obs.map)} mmHg")
    if obs.fluid_bolus_for_hypotension:
        parts.append("fluid bolus for hypotension")
    elif obs.fluid_bolus_for_hypotension is False and not parts:
        parts.append("no fluid bolus")
    return ", ".join(parts) or "not recorded"


def vasopressors_text(obs: Vitals) -> str:
    return " + ".join(drug_name(p) for p in obs.vasopressors) if obs.vasopressors else "none"


def oxygen_text(obs: Vitals) -> str:
    if obs.o2_device is None:
        return "not recorded"
    parts = [O2_DEVICE_NAMES[obs.o2_device]]
    if obs.o2_flow_l_min is not None and obs.o2_device is not O2Device.ROOM_AIR:
        parts[0] += f" {plain(obs.o2_flow_l_min)} L/min"
    if obs.fio2 is not None and obs.o2_device is not O2Device.ROOM_AIR:
        parts.append(f"FiO2 {round(obs.fio2 * 100.0, 1):g} %")
    if obs.o2_for_comfort_only:
        parts.append("for comfort only")
    return ", ".join(parts)
