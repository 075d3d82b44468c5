"""FollowupSettings: the follow-up decisions (G-1…G-9) as site settings with their defaults.

Like ``carttrack.settings.DecisionSettings`` (which still holds the B-cell aplasia threshold, CD19 < 1
/µL, and the autoimmune terms), each value is stored with every result (``to_dict``), so a result
says which policy produced it. A case file may set ``sledai_window_days``,
``b_cell_reconstitution_per_uL`` and ``renal_response_definition`` in its ``settings`` object
(CASE-9); ``from_dict`` accepts every field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from .visits import DEFAULT_TEMPLATE_VERSION, TEMPLATE_VERSIONS


class RenalDefinition(StrEnum):
    KDIGO_2024 = "kdigo_2024"  # G-5 default
    BLISS_LN = "bliss_ln"


SLEDAI_WINDOWS_DAYS = (10, 30)  # SLEDAI-3, G-3: the validated look-back windows [Gladman 2002] [Touma 2010]


@dataclass(frozen=True, slots=True)
class FollowupSettings:
    # G-3, SLEDAI-3: SLEDAI-2K look-back window (10 or 30 days), stored with each score; a visit may
    # record its own.
    sledai_window_days: int = 10
    # G-4, SLEDAI-9: SLEDAI-2K change vs the previous scored visit: a rise of at least this is a flare
    # (when the clinical SLEDAI rose too), a fall of at least this an improvement.
    sledai_flare_rise: int = 4
    sledai_improvement_fall: int = 4
    # G-6, SERO-3: this many consecutive abnormal samples after seroconversion / normalisation =
    # re-activation.
    serology_reactivation_samples: int = 2
    # G-7, BCELL-4: B-cell reconstitution = the first of this many consecutive samples with CD19 >= threshold.
    b_cell_reconstitution_per_uL: float = 10.0
    b_cell_reconstitution_samples: int = 2
    # G-7, BCELL-5: in B-ALL the loss of B-cell aplasia is urgent (oncology setting, on for ALL).
    b_all_aplasia_loss_urgent: bool = True
    # G-5, RENAL-2, RENAL-3: renal response definition (kdigo_2024 or bliss_ln).
    renal_response_definition: str = RenalDefinition.KDIGO_2024.value
    # G-9, RELAPSE-4: SSc relapse when FVC falls by at least this many points of predicted from its best
    # post-infusion value.
    ssc_fvc_fall_pct_points: float = 10.0
    # G-1, VISIT-3: the visit template version (visits.TEMPLATE_VERSIONS).
    visit_template_version: str = DEFAULT_TEMPLATE_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FollowupSettings:
        """Build from a dict; a key that is not a follow-up setting or a bad value raises ValueError
        naming the key and what it accepts."""
        names = {f.name: f for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key not in names:
                raise ValueError(f"{key}: not a follow-up setting (one of: {', '.join(names)})")
            kwargs[key] = _checked(key, value)
        return cls(**kwargs)

    def replace(self, **changes: Any) -> FollowupSettings:
        return dataclasses.replace(self, **changes)


_CHOICES: dict[str, tuple[object, ...]] = {
    "sledai_window_days": SLEDAI_WINDOWS_DAYS,
    "renal_response_definition": tuple(d.value for d in RenalDefinition),
    "visit_template_version": TEMPLATE_VERSIONS,
}
_COUNTS = (
    "sledai_flare_rise",
    "sledai_improvement_fall",
    "serology_reactivation_samples",
    "b_cell_reconstitution_samples",
)
_BOOLS = ("b_all_aplasia_loss_urgent",)


def _checked(key: str, value: object) -> object:
    if key in _CHOICES:
        allowed = _CHOICES[key]
        if isinstance(value, bool) or value not in allowed:
            raise ValueError(f"{key}: {value!r} is not one of: {', '.join(str(a) for a in allowed)}")
        return allowed[allowed.index(value)]
    if key in _BOOLS:
        if not isinstance(value, bool):
            raise ValueError(f"{key}: {value!r} is not true or false")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{key}: {value!r} is not a number")
    if key in _COUNTS:
        if not float(value).is_integer() or value < 1:
            raise ValueError(f"{key}: {value!r} is not a whole number of at least 1")
        return int(value)
    if not value > 0:
        raise ValueError(f"{key}: {value!r} is not a number above 0")
    return float(value)


DEFAULT_FOLLOWUP_SETTINGS = FollowupSettings()
