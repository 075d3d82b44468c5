"""CRS grading, ASTCT 2019 (RULES §1, DECISIONS A-1…A-13), as an incremental state machine.

Feed observations in time order (engine.py sorts them): vitals(), medication(), event().
Per vitals observation the grade is computed from that observation:
  fever (≥ 38.0 °C, unrounded, not attributed to another cause) gives grade 1;
  hypotension / hypoxia give 2–4 (CRS-R1: the more severe wins) but only when qualified by fever now,
  fever in the preceding 24 h of an open episode (CRS-R8, A-4) or a masking therapy (A-2) inside an
  open episode. An episode opens only on documented fever or a "crs_diagnosed" event (A-3) and closes
  after 48 h without fever, vasopressors or supplemental oxygen (A-4). Unqualified hypotension/hypoxia
  gives grade 0 and the sepsis alert (CRS-R7). Grade 5 only from a death attributed to CRS (A-11).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from .observations import INFUSION_T, Event, Medication, PatientInfo, Vitals
from .results import Driver, SyndromeResult
from .settings import DecisionSettings
from .vocabulary import (
    ANTIPYRETICS,
    HIGH_FLOW_OR_MASK_DEVICES,
    MASKING_FOR_EPISODE,
    POSITIVE_PRESSURE_DEVICES,
    VASOPRESSIN,
    VASOPRESSORS,
    O2Device,
)

FEVER_C = 38.0  # RULES §1.1 fever ≥ 38.0 °C (S1a, S1b, S3); A-1 unrounded comparison
LOW_FLOW_MAX_L_MIN = 6.0  # RULES §1.1 low flow ≤ 6 L/min, high flow > 6 (S1a, S1d, S3b)
PALS_NEONATE_SBP = 60.0  # RULES §1.1 PALS: term neonate < 60 mmHg (S21)
PALS_INFANT_SBP = 70.0  # RULES §1.1 PALS: infant 1 month–1 year < 70 mmHg (S21)
PALS_CHILD_BASE_SBP = 70.0  # RULES §1.1 PALS: 1–10 years < 70 + 2 × age (S21)
PALS_CHILD_PER_YEAR = 2.0  # RULES §1.1 PALS (S21)
PALS_OLDER_SBP = 90.0  # RULES §1.1 PALS: ≥ 10 years < 90 mmHg (S21)
NEONATE_MAX_YEARS = 1.0 / 12.0  # one month
GRADE_DEATH = 5  # RULES §1.2 grade 5 (S1c), A-11


def hypotension_sbp_threshold(age_years: float, settings: DecisionSettings) -> float:
    """SBP below this is hypotension (A-5): adults 90; children PALS by completed years (S21)."""
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
    """One CRS component met by one observation (immutable)."""

    grade: int
    criterion: str
    text: str


def hypotension_component(
    obs: Vitals, patient: PatientInfo, s: DecisionSettings, thr: float | None = None
) -> Component | None:
    if obs.hypotension_attributed_to is not None:
        return None
    pressors = obs.vasopressors
    counted = [p for p in pressors if VASOPRESSORS.get(p) and p != VASOPRESSIN] if pressors else []
    vaso = VASOPRESSIN in pressors
    if len(counted) >= 2:
        return Component(4, "CRS-R2 multiple vasopressors", f"{' + '.join(counted)} (multiple vasopressors)")
    if len(counted) == 1:
        extra = " + vasopressin" if vaso else ""
        return Component(3, "CRS one vasopressor", f"{counted[0]}{extra} (one vasopressor)")
    if vaso and s.vasopressin_alone_counts:
        return Component(3, "A-6 vasopressin alone", "vasopressin alone (one vasopressor, A-6)")
    reasons = []
    if thr is None:
        thr = hypotension_sbp_threshold(patient.age_years, s)
    if obs.sbp is not None and obs.sbp < thr:
        reasons.append(f"SBP {obs.sbp:g} < {thr:g} mmHg")
    if patient.age_years >= s.adult_age_years and s.use_map_in_adults:
        mean = obs.map
        if mean is None and obs.sbp is not None and obs.dbp is not None:
            mean = (obs.sbp + 2.0 * obs.dbp) / 3.0
        if mean is not None and mean < s.adult_map_below_mmhg:
            reasons.append(f"MAP {mean:.0f} < {s.adult_map_below_mmhg:g} mmHg")
    if (
        s.relative_hypotension_rule
        and patient.baseline_sbp is not None
        and obs.sbp is not None
        and obs.sbp < s.relative_hypotension_fraction * patient.baseline_sbp
        and obs.sbp < s.relative_hypotension_ceiling_mmhg
    ):
        reasons.append(
            f"SBP {obs.sbp:g} < {s.relative_hypotension_fraction:g} × baseline {patient.baseline_sbp:g}"
        )
    if obs.fluid_bolus_for_hypotension and s.fluid_bolus_counts_as_hypotension:
        reasons.append("fluid bolus for hypotension")
    if vaso:
        reasons.append("vasopressin (not counted, A-6 setting)")
    if reasons:
        return Component(2, "CRS hypotension without vasopressor", "hypotension: " + ", ".join(reasons))
    return None


_ROOM_AIR = O2Device.ROOM_AIR
_NASAL_CANNULA = O2Device.NASAL_CANNULA
_BLOW_BY = O2Device.BLOW_BY
_HFNC = O2Device.HFNC


def hypoxia_component(
    obs: Vitals, patient: PatientInfo, s: DecisionSettings
) -> tuple[Component | None, str | None]:
    """(component, note). Note explains an excluded oxygen requirement."""
    dev = obs.o2_device
    flow = obs.o2_flow_l_min
    if dev is None and flow is not None and flow > 0:
        dev = _NASAL_CANNULA  # flow without device: graded as nasal cannula by flow
    if dev is None or dev is _ROOM_AIR:
        return None, None
    if obs.o2_for_comfort_only:
        return None, "oxygen for comfort only is not hypoxia (RULES §1.1, S1e)"
    if obs.hypoxia_attributed_to is not None:
        return None, f"oxygen requirement attributed to {obs.hypoxia_attributed_to} (A-9)"
    flow_txt = f" {flow:g} L/min" if flow is not None else ""
    if dev in POSITIVE_PRESSURE_DEVICES:
        return Component(4, "CRS-R4 positive pressure", f"{dev.value}{flow_txt} (positive pressure)"), None
    if dev in HIGH_FLOW_OR_MASK_DEVICES:
        if dev is _HFNC and flow is not None and flow <= LOW_FLOW_MAX_L_MIN:
            if not s.hfnc_device_beats_flow:
                return Component(
                    2, "CRS low-flow oxygen", f"hfnc{flow_txt} graded as low flow (A-8 setting)"
                ), None
            return (
                Component(
                    3, "CRS-R3 device beats flow", f"hfnc{flow_txt} (graded by device; flow ≤ 6 L/min)"
                ),
                "HFNC at ≤ 6 L/min graded by device as grade 3 (A-8)",
            )
        return Component(3, "CRS-R3 high-flow / mask oxygen", f"{dev.value}{flow_txt}"), None
    # blow-by or nasal cannula
    if patient.home_o2_l_min > 0 and (flow is None or flow <= patient.home_o2_l_min):
        return (
            None,
            f"oxygen {dev.value}{flow_txt} not above home baseline {patient.home_o2_l_min:g} L/min (A-8)",
        )
    if dev is _NASAL_CANNULA and flow is not None and flow > LOW_FLOW_MAX_L_MIN:
        return Component(
            3, "CRS high-flow oxygen (> 6 L/min)", f"nasal cannula{flow_txt} (> 6 L/min = high flow)"
        ), None
    note = None if flow is not None or dev is _BLOW_BY else "nasal cannula without flow: low flow assumed"
    return Component(2, "CRS low-flow oxygen (≤ 6 L/min)", f"{dev.value}{flow_txt} (low flow)"), note


def _t(t: float) -> str:
    return f"t={t:+.1f} h"


class CrsTracker:
    __slots__ = (
        "_cur_info",
        "_max_info",
        "_p",
        "_s",
        "_thr",
        "current",
        "death",
        "episode_intervals",
        "episode_max",
        "episode_open",
        "episode_start",
        "episodes",
        "fever_now",
        "first_fever_t",
        "has_data",
        "hypotension_grade",
        "hypoxia_grade",
        "last_antipyretic_t",
        "last_fever_t",
        "last_masking",
        "last_sepsis_info",
        "last_sign_t",
        "last_vitals_t",
        "masking_since",
        "maximum",
        "notes",
        "pressors_active",
        "prev_episode_end",
        "sepsis_alert",
    )

    def __init__(self, patient: PatientInfo, settings: DecisionSettings) -> None:
        self._p = patient
        self._s = settings
        self._thr = hypotension_sbp_threshold(patient.age_years, settings)
        self.has_data = False
        self.episode_open = False
        self.episode_start: float | None = None
        self.last_sign_t: float | None = None
        self.last_fever_t: float | None = None
        self.first_fever_t: float | None = None
        self.last_antipyretic_t: float | None = None
        self.masking_since: float | None = None  # first masking dose after the previous episode closed
        self.last_masking: Medication | None = None
        self.prev_episode_end: float | None = None
        self.current: int | None = None
        self.maximum: int | None = None
        self.episode_max: int | None = None
        self.sepsis_alert = False
        self._cur_info: tuple[int, Vitals | Event, tuple[Component, ...], str] | None = None
        self._max_info: tuple[int, Vitals | Event, tuple[Component, ...], str] | None = None
        self.notes: dict[str, None] = {}
        self.episodes = 0
        self.fever_now = False
        self.hypotension_grade = 0
        self.hypoxia_grade = 0
        self.pressors_active = False
        self.last_vitals_t: float | None = None
        self.episode_intervals: list[tuple[float, float | None]] = []
        self.last_sepsis_info: tuple[Vitals, tuple[Component, ...]] | None = None
        self.death: Event | None = None

    # -------------------------------------------------------------------------------- episode
    def advance(self, t: float) -> None:
        """Close the episode when 48 h (A-4) passed without fever, vasopressors or oxygen."""
        if (
            self.episode_open
            and self.last_sign_t is not None
            and t - self.last_sign_t >= self._s.episode_close_hours
        ):
            end = self.last_sign_t + self._s.episode_close_hours
            self.episode_open = False
            self.prev_episode_end = end
            self.episode_intervals[-1] = (self.episode_intervals[-1][0], end)
            self.last_fever_t = None
            self.first_fever_t = None
            self.masking_since = None
            self.last_masking = None

    def _open(self, t: float) -> None:
        self.episode_open = True
        self.episode_start = t
        self.last_sign_t = t
        self.episode_max = 0
        self.episodes += 1
        self.episode_intervals.append((t, None))

    def masking_reason(self, t: float) -> str | None:
        """Why fever is not required at time t (A-2), or None."""
        if not self.episode_open:
            return None
        if self.last_masking is not None and self._s.anticytokine_masks_for_episode:
            m = self.last_masking
            return f"fever requirement waived: {m.drug} at {_t(m.t_hours)} (A-2)"
        if (
            self.last_antipyretic_t is not None
            and t - self.last_antipyretic_t <= self._s.antipyretic_masking_hours
            and (self.prev_episode_end is None or self.last_antipyretic_t >= self.prev_episode_end)
        ):
            return f"fever may be masked: antipyretic at {_t(self.last_antipyretic_t)} (A-2, 24 h)"
        return None

    # -------------------------------------------------------------------------------- inputs
    def medication(self, obs: Medication) -> None:
        self.advance(obs.t_hours)
        if obs.drug in MASKING_FOR_EPISODE and obs.for_crs_icans:
            if self.prev_episode_end is None or obs.t_hours >= self.prev_episode_end:
                self.last_masking = obs
        elif obs.drug in ANTIPYRETICS:
            self.last_antipyretic_t = obs.t_hours

    def event(self, obs: Event) -> None:
        self.advance(obs.t_hours)
        if obs.event == "crs_diagnosed" and self._s.crs_diagnosed_opens_episode:
            self.has_data = True
            if not self.episode_open:
                self._open(obs.t_hours)
                if self.current is None:
                    self.current = 0
                if self.maximum is None:
                    self.maximum = 0
        elif obs.event == "death" and (obs.attributed_to or "").strip().lower() == "crs":
            self.has_data = True
            self.death = obs
            info = (GRADE_DEATH, obs, (), "death attributed to CRS (A-11)")
            self.current = GRADE_DEATH
            self.maximum = GRADE_DEATH
            self.episode_max = GRADE_DEATH
            self._cur_info = info
            self._max_info = info

    def vitals(self, obs: Vitals) -> None:
        t = obs.t_hours
        if t < INFUSION_T:
            # CRS follows the infusion: vitals before it are baselines, not CRS signs.
            if obs.temp_c is not None and obs.temp_c >= FEVER_C:
                self.notes[
                    f"fever {obs.temp_c:.1f} °C before the infusion ({_t(t)}): not CRS; look for infection "
                    "(RULES §4.7: postpone the infusion until 48 h afebrile)"
                ] = None
            return
        self.advance(t)
        self.has_data = True
        s = self._s
        fever_c = obs.temp_c
        fever = fever_c is not None and fever_c >= FEVER_C and obs.fever_attributed_to is None
        if fever_c is not None and fever_c >= FEVER_C and obs.fever_attributed_to is not None:
            self.notes[f"fever {fever_c:.1f} °C at {_t(t)} attributed to {obs.fever_attributed_to} (A-9)"] = (
                None
            )
        hypo = hypotension_component(obs, self._p, s, self._thr)
        oxy, note = hypoxia_component(obs, self._p, s)
        if note is not None:
            self.notes[f"{note}, {_t(t)}"] = None
        if obs.hypotension_attributed_to is not None and (
            obs.vasopressors or obs.fluid_bolus_for_hypotension
        ):
            self.notes[f"hypotension at {_t(t)} attributed to {obs.hypotension_attributed_to} (A-9)"] = None
        if fever:
            if not self.episode_open:
                self._open(t)
            self.last_fever_t = t
            if self.first_fever_t is None:
                self.first_fever_t = t
            self.last_sign_t = t
        hypo_g = hypo.grade if hypo is not None else 0
        oxy_g = oxy.grade if oxy is not None else 0
        if self.episode_open and (hypo_g >= 3 or oxy is not None):
            self.last_sign_t = t
        organ = hypo_g if hypo_g > oxy_g else oxy_g
        grade = 1 if fever else 0
        comps: tuple[Component, ...] = ()
        qualifier = ""
        if organ > 0:
            if hypo_g == organ and oxy_g == organ:
                comps = (hypo, oxy)  # type: ignore[assignment]
            elif hypo_g == organ:
                comps = (hypo,)  # type: ignore[assignment]
            else:
                comps = (oxy,)  # type: ignore[assignment]
            if fever:
                qualifier = f"fever {fever_c:.1f} °C"
            elif (
                self.episode_open
                and self.last_fever_t is not None
                and t - self.last_fever_t <= s.fever_lookback_hours
            ):
                qualifier = f"fever {_t(self.last_fever_t)} within {s.fever_lookback_hours:g} h (A-4)"
            else:
                qualifier = self.masking_reason(t) or ""
            if qualifier:
                grade = organ if organ > grade else grade
                self.sepsis_alert = False
            else:
                self.sepsis_alert = True
                self.last_sepsis_info = (obs, comps)
        else:
            self.sepsis_alert = False
        self.fever_now = fever
        self.hypotension_grade = hypo_g
        self.hypoxia_grade = oxy_g
        pressors = obs.vasopressors
        self.pressors_active = bool(pressors) and any(VASOPRESSORS.get(p) for p in pressors)
        self.last_vitals_t = t
        if self.death is not None:
            return
        info = (grade, obs, comps if grade > 1 else (), qualifier)
        self.current = grade
        self._cur_info = info
        if self.maximum is None or grade > self.maximum:
            self.maximum = grade
            self._max_info = info
        if self.episode_open and (self.episode_max is None or grade > self.episode_max):
            self.episode_max = grade

    def active_at(self, t: float) -> bool:
        """Was a CRS episode open at time t (for screens)?"""
        for start, end in self.episode_intervals:
            if start <= t and (end is None or t < end):
                return not (
                    end is None
                    and self.last_sign_t is not None
                    and t - self.last_sign_t >= self._s.episode_close_hours
                )
        return False

    # -------------------------------------------------------------------------------- output
    def fever_duration_hours(self) -> float:
        if not self.episode_open or self.first_fever_t is None or self.last_fever_t is None:
            return 0.0
        return self.last_fever_t - self.first_fever_t

    def _driver(self, info: tuple[int, Vitals | Event, tuple[Component, ...], str]) -> Driver:
        grade, obs, comps, qualifier = info
        if grade == GRADE_DEATH:
            return Driver(
                "CRS grade 5 (A-11)", obs.index, obs.t_hours, f"CRS grade 5: {qualifier}, {_t(obs.t_hours)}"
            )
        if comps:
            criterion = "; ".join(c.criterion for c in comps)
            what = " and ".join(c.text for c in comps)
            text = f"CRS grade {grade}: {what} ({qualifier}), {_t(obs.t_hours)}"
        elif grade == 1:
            criterion = "CRS fever ≥ 38.0 °C"
            temp = getattr(obs, "temp_c", None)
            text = f"CRS grade 1: fever {temp:.1f} °C, {_t(obs.t_hours)}"
        else:
            criterion = "CRS grade 0"
            text = f"CRS grade 0: no fever ≥ 38.0 °C, no qualifying hypotension or hypoxia, {_t(obs.t_hours)}"
        return Driver(criterion, obs.index, obs.t_hours, text)

    def sepsis_driver(self) -> Driver | None:
        if not self.sepsis_alert or self.last_sepsis_info is None:
            return None
        obs, comps = self.last_sepsis_info
        what = " and ".join(c.text for c in comps)
        return Driver(
            "CRS-R7 no fever (A-3)",
            obs.index,
            obs.t_hours,
            f"not CRS by ASTCT criteria (no qualifying fever, no masking therapy): {what}, {_t(obs.t_hours)}"
            " — evaluate sepsis / other cause",
        )

    def result(self) -> SyndromeResult:
        drivers: list[Driver] = []
        if self._max_info is not None:
            drivers.append(self._driver(self._max_info))
        if self._cur_info is not None and self._cur_info is not self._max_info:
            drivers.append(self._driver(self._cur_info))
        sep = self.sepsis_driver()
        if sep is not None:
            drivers.append(sep)
        if self.current is not None and self.current > 0 and self.current != GRADE_DEATH:
            t = self.last_vitals_t if self.last_vitals_t is not None else 0.0
            m = self.masking_reason(t)
            if m and not self.fever_now:
                drivers.append(Driver("A-2 fever masking", None, t, m))
        if not self.has_data:
            return SyndromeResult(None, None, (), False, tuple(self.notes))
        return SyndromeResult(
            current=self.current if self.current is not None else 0,
            maximum=self.maximum if self.maximum is not None else 0,
            drivers=tuple(drivers),
            episode_open=self.episode_open,
            notes=tuple(self.notes),
            episode_maximum=self.episode_max if self.episodes else None,
        )
