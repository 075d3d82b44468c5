"""Cross-field input rules: what one record may say, checked the same way on every entry path.

Each field is first checked on its own (type, vocabulary, hard limit; observations.py). These rules
then check the fields of one record against each other: diastolic below systolic, a MAP between them,
an oxygen flow or FiO2 only with the device it runs through (none on room air), the flow within what
that device can deliver, SpO2 as a percentage, a dose within the drug's plausible range. Every rule
returns ObservationErrors naming the field and the allowed range; none stops at the first
(INPUT-6…INPUT-11).
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import ObservationError, show
from .limits import DOSE_LIMITS, O2_FLOW_LIMITS
from .vocabulary import POSITIVE_PRESSURE_DEVICES, O2Device

ROOM_AIR_FIO2 = 0.21  # UNIT-11: room air is FiO2 0.21 (21 %)
FIO2_TOLERANCE = 1e-9
SPO2_FRACTION_MAX = 1.0  # an SpO2 at or below 1 is a fraction typed for a percentage (0.95 for 95 %)
DOSE_SLIP_FACTOR = 10.0  # an extra zero: 8000 mg tocilizumab for 800


def vitals_errors(v: Mapping[str, object]) -> list[ObservationError]:
    """Cross-field errors of one vitals record; ``v`` holds the fields that parsed (Vitals names)."""
    errors: list[ObservationError] = []
    sbp, dbp, mean = _num(v, "sbp"), _num(v, "dbp"), _num(v, "map")
    if sbp is not None and dbp is not None and dbp >= sbp:
        errors.append(
            ObservationError(
                "dbp",
                dbp,
                f"below systolic {show(sbp)} mmHg",
                problem=f"diastolic {show(dbp)} must be below systolic {show(sbp)} mmHg",
            )
        )
    elif mean is not None and sbp is not None and dbp is not None and not dbp <= mean <= sbp:
        errors.append(
            ObservationError(
                "map",
                mean,
                f"between diastolic {show(dbp)} and systolic {show(sbp)} mmHg",
                problem=f"MAP {show(mean)} must lie between diastolic {show(dbp)} and "
                f"systolic {show(sbp)} mmHg",
            )
        )
    spo2 = _num(v, "spo2")
    if spo2 is not None and 0.0 < spo2 <= SPO2_FRACTION_MAX:
        errors.append(
            ObservationError(
                "spo2",
                spo2,
                "0–100 % (a percentage)",
                problem=f"{show(spo2)} looks like a fraction — did you mean "
                f"{show(round(spo2 * 100.0, 4))} %? SpO2 is 0–100 % (a percentage)",
            )
        )
    errors.extend(_oxygen_errors(v))
    return errors


def _oxygen_errors(v: Mapping[str, object]) -> list[ObservationError]:
    device = v.get("o2_device")
    flow, fio2 = _num(v, "o2_flow_l_min"), _num(v, "fio2")
    errors: list[ObservationError] = []
    if not isinstance(device, O2Device):
        for key, value in (("o2_flow_l_min", flow), ("fio2", fio2)):
            if value is not None:
                errors.append(
                    ObservationError(
                        key,
                        value,
                        "with o2_device in the same record",
                        problem=f"{key} {show(value)} is given only with o2_device in the same record "
                        "(the device it runs through)",
                    )
                )
        errors.extend(_comfort_without_oxygen(v, "no o2_device was given"))
        return errors
    if device is O2Device.ROOM_AIR:
        if flow is not None and flow != 0.0:
            errors.append(
                ObservationError(
                    "o2_flow_l_min",
                    flow,
                    "0 L/min",
                    problem=f"room_air has no oxygen flow (0 L/min): give the device for {show(flow)} L/min",
                )
            )
        if fio2 is not None and abs(fio2 - ROOM_AIR_FIO2) > FIO2_TOLERANCE:
            errors.append(
                ObservationError(
                    "fio2",
                    fio2,
                    "0.21 (21 %)",
                    problem=f"FiO2 on room_air is 0.21 (21 %): give the device for FiO2 {show(fio2)}",
                )
            )
        errors.extend(_comfort_without_oxygen(v, "the device is room_air"))
        return errors
    if device in POSITIVE_PRESSURE_DEVICES and v.get("o2_for_comfort_only") is True:
        errors.append(
            ObservationError(
                "o2_for_comfort_only",
                True,
                "not with positive-pressure ventilation",
                problem="oxygen for comfort is ticked only with oxygen, not with positive-pressure "
                f"ventilation ({device.value})",
            )
        )
    lim = O2_FLOW_LIMITS.get(device)
    if flow is not None and lim is not None and not lim.contains(flow):
        hint = ""
        if device is O2Device.NASAL_CANNULA and flow > lim.high:
            hint = "; a flow this high is given by HFNC (o2_device hfnc)"
        errors.append(
            ObservationError(
                "o2_flow_l_min",
                flow,
                f"{lim.text} on {device.value}",
                problem=f"{show(flow)} L/min is outside {lim.text} on {device.value}{hint}",
            )
        )
    return errors


def _comfort_without_oxygen(v: Mapping[str, object], why: str) -> list[ObservationError]:
    if v.get("o2_for_comfort_only") is not True:
        return []
    return [
        ObservationError(
            "o2_for_comfort_only",
            True,
            "only with an oxygen device",
            problem=f"oxygen for comfort is ticked only with an oxygen device; {why}",
        )
    ]


def dose_errors(drug: str, dose: float | None) -> list[ObservationError]:
    """A dose outside the drug's plausible single-dose range (limits.DOSE_LIMITS)."""
    lim = DOSE_LIMITS.get(drug)
    if dose is None or lim is None or lim.contains(dose):
        return []
    hint = ""
    if lim.contains(dose / DOSE_SLIP_FACTOR):
        hint = f" — did you mean {show(dose / DOSE_SLIP_FACTOR)} mg?"
    return [
        ObservationError(
            "dose_mg",
            dose,
            f"{lim.text} for {drug}",
            problem=f"{show(dose)} mg is outside {lim.text} for {drug}{hint}",
        )
    ]


def _num(v: Mapping[str, object], key: str) -> float | None:
    value = v.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
