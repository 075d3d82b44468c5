"""CRS grading as one state machine: one module because episode, masking and standing values share state.

ASTCT 2019 (CRS-1…CRS-26 [Lee 2019]; A-1…A-15), graded incrementally.

Feed observations in time order (engine.py sorts them): vitals(), medication(), event().
Each CRS component is a domain whose last recorded value stands until a record carries it again
(A-14): temperature, blood pressure (SBP/MAP and fluid bolus), vasopressors, oxygen (device, flow,
FiO2, for comfort). Every vitals record re-evaluates the standing values; a finding that counted as
CRS keeps counting while it stands, so time and fragments alone never lower the grade. The grade
is computed from the standing values:
  fever (≥ 38.0 °C, unrounded, not attributed to another cause) gives grade 1;
  hypotension / hypoxia give 2–4 (CRS-13: the more severe wins) but only when qualified by fever now,
  fever in the preceding 24 h of an open episode (CRS-20, A-4), a masking therapy (A-2), or when the
  standing value was itself qualified when recorded in the same, still open episode. An episode opens
  on documented fever, a "crs_diagnosed" event (A-3), or, for a patient who has had CRS in this
  course, on hypotension/hypoxia while a therapy given for CRS/ICANS still acts (A-2 revised); it
  closes after 48 h without fever, vasopressors or supplemental oxygen (A-4) — a standing fever,
  vasopressor, oxygen requirement or counted hypotension keeps it open, and a finding that persists
  in the open episode keeps counting as CRS. Unqualified hypotension/hypoxia gives grade 0 and the sepsis
  alert (CRS-19). Grade 5 only from a death attributed to CRS (A-11).
"""

from __future__ import annotations

from typing import NamedTuple

from .checks import is_febrile_tachycardic, vitals_interval_hours
from .crs_components import (
    FEVER_C,
    Component,
    blood_pressure_component,
    blood_pressure_text,
    hypotension_sbp_threshold,
    hypoxia_component,
    oxygen_text,
    temperature_text,
    vasopressor_component,
    vasopressors_text,
)
from .observations import INFUSION_T, Event, Medication, PatientInfo, Vitals
from .results import Driver, StandingValue, SyndromeResult
from .settings import DecisionSettings
from .vocabulary import ANTIPYRETICS, CORTICOSTEROIDS, MASKING_FOR_EPISODE, VASOPRESSORS, drug_name

__all__ = ["FEVER_C", "GRADE_DEATH", "CrsTracker", "hypotension_sbp_threshold"]

GRADE_DEATH = 5  # CRS-12 grade 5 [SITC 2020], A-11
DAYS_FROM_HOURS = 96.0  # a therapy's action of 4 days or more reads in days ("7 days")

# The CRS domains of A-14, in the order a person reads them.
TEMPERATURE = "temperature"
BLOOD_PRESSURE = "blood_pressure"
VASOPRESSORS_DOMAIN = "vasopressors"
OXYGEN = "oxygen"
CRS_DOMAINS: tuple[str, ...] = (TEMPERATURE, BLOOD_PRESSURE, VASOPRESSORS_DOMAIN, OXYGEN)

# A-2 (revised): therapy class of a masking drug -> how long it acts after its last dose (a setting).
THERAPY_CLASS: dict[str, str] = {
    **{drug: "corticosteroid" for drug in CORTICOSTEROIDS},
    "tocilizumab": "tocilizumab",
    "siltuximab": "siltuximab",
    "anakinra": "anakinra",
}


def _acts_hours(therapy: str, s: DecisionSettings) -> float:
    return {
        "corticosteroid": s.steroid_masking_after_episode_hours,
        "tocilizumab": s.tocilizumab_masking_after_episode_hours,
        "siltuximab": s.siltuximab_masking_after_episode_hours,
        "anakinra": s.anakinra_masking_after_episode_hours,
    }[therapy]


def carries(obs: Vitals) -> tuple[str, ...]:
    """The CRS domains a vitals record re-assesses (A-14): the others keep their standing value."""
    out = []
    if obs.temp_c is not None:
        out.append(TEMPERATURE)
    if obs.sbp is not None or obs.map is not None or obs.fluid_bolus_for_hypotension is not None:
        out.append(BLOOD_PRESSURE)
    if obs.vasopressors is not None:
        out.append(VASOPRESSORS_DOMAIN)
    if obs.o2_device is not None:
        out.append(OXYGEN)
    return tuple(out)


class Standing(NamedTuple):
    """A domain's last recorded value: the record, the episode it was recorded in, the CRS component
    it meets (None: none, or the temperature), and why that counted as CRS ("" if it did not)."""

    obs: Vitals
    episode: int
    qualifier: str
    comp: Component | None


def _t(t: float) -> str:
    return f"t={t:+.1f} h"


Info = tuple[int, Vitals | Event, tuple[Component, ...], str]


class CrsTracker:
    __slots__ = (
        "_cur_info",
        "_max_info",
        "_p",
        "_s",
        "_thr",
        "current",
        "death",
        "dom",
        "episode_intervals",
        "episode_max",
        "episode_open",
        "episode_start",
        "episodes",
        "fever_now",
        "first_fever_t",
        "has_data",
        "hr_now",
        "hypotension_grade",
        "hypoxia_grade",
        "last_antipyretic_t",
        "last_fever_t",
        "last_masking",
        "last_sepsis_info",
        "last_sign_t",
        "last_therapy",
        "last_vitals_t",
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
        self.dom: dict[str, Standing] = {}
        self.episode_open = False
        self.episode_start: float | None = None
        self.last_sign_t: float | None = None
        self.last_fever_t: float | None = None
        self.first_fever_t: float | None = None
        self.last_antipyretic_t: float | None = None
        self.last_masking: Medication | None = None  # masking dose given in (or for) the open episode
        self.last_therapy: dict[str, Medication] = {}  # therapy class -> last dose for CRS/ICANS
        self.prev_episode_end: float | None = None
        self.current: int | None = None
        self.maximum: int | None = None
        self.episode_max: int | None = None
        self.sepsis_alert = False
        self._cur_info: Info | None = None
        self._max_info: Info | None = None
        self.notes: dict[str, None] = {}
        self.episodes = 0
        self.fever_now = False
        self.hr_now: float | None = None
        self.hypotension_grade = 0
        self.hypoxia_grade = 0
        self.pressors_active = False
        self.last_vitals_t: float | None = None
        self.episode_intervals: list[tuple[float, float | None]] = []
        self.last_sepsis_info: tuple[Vitals, tuple[Component, ...]] | None = None
        self.death: Event | None = None

    # -------------------------------------------------------------------------------- episode
    def advance(self, t: float) -> None:
        """Close the episode when 48 h (A-4) passed without fever, vasopressors or oxygen; a standing
        fever, vasopressor or oxygen requirement is still a sign (A-14) and keeps it open."""
        if (
            self.episode_open
            and self.last_sign_t is not None
            and t - self.last_sign_t >= self._s.episode_close_hours
            and not self._sign_standing()
        ):
            end = self.last_sign_t + self._s.episode_close_hours
            self.episode_open = False
            self.prev_episode_end = end
            self.episode_intervals[-1] = (self.episode_intervals[-1][0], end)
            self.last_fever_t = None
            self.first_fever_t = None
            self.last_masking = None

    def _sign_standing(self) -> bool:
        """A standing fever, vasopressor, oxygen requirement or counted CRS finding (grade ≥ 2)."""
        counted = self.current is not None and 2 <= self.current < GRADE_DEATH
        return self.fever_now or self.pressors_active or self.hypoxia_grade > 0 or counted

    def _open(self, t: float) -> None:
        self.episode_open = True
        self.episode_start = t
        self.last_sign_t = t
        self.episode_max = 0
        self.episodes += 1
        self.episode_intervals.append((t, None))

    def masking_reason(self, t: float) -> str | None:
        """Why fever is not required at time t inside the open episode (A-2), or None."""
        if not self.episode_open:
            return None
        if self.last_masking is not None and self._s.anticytokine_masks_for_episode:
            m = self.last_masking
            return f"fever requirement waived: {drug_name(m.drug)} at {_t(m.t_hours)} (A-2)"
        if (
            self.last_antipyretic_t is not None
            and t - self.last_antipyretic_t <= self._s.antipyretic_masking_hours
            and (self.prev_episode_end is None or self.last_antipyretic_t >= self.prev_episode_end)
        ):
            return f"fever may be masked: antipyretic at {_t(self.last_antipyretic_t)} (A-2, 24 h)"
        return self.acting_therapy(t)

    def acting_therapy(self, t: float) -> str | None:
        """A-2 (revised): for a patient whose CRS episode has closed in this course, a therapy given for
        CRS/ICANS keeps waiving fever while it acts (72 h steroid, 7 d tocilizumab/siltuximab, 24 h
        anakinra after the last dose). The text names the therapy."""
        if self.prev_episode_end is None:
            return None
        best: tuple[float, Medication, float] | None = None
        for therapy, med in self.last_therapy.items():
            hours = _acts_hours(therapy, self._s)
            until = med.t_hours + hours
            if med.t_hours <= t <= until and (best is None or until > best[0]):
                best = (until, med, hours)
        if best is None:
            return None
        _, med, hours = best
        span = f"{hours / 24.0:g} days" if hours >= DAYS_FROM_HOURS and hours % 24.0 == 0 else f"{hours:g} h"
        return (
            f"fever requirement waived: {drug_name(med.drug)} at {_t(med.t_hours)} still acts "
            f"({span} after the last dose, A-2)"
        )

    # -------------------------------------------------------------------------------- inputs
    def medication(self, obs: Medication) -> None:
        self.advance(obs.t_hours)
        if obs.drug in MASKING_FOR_EPISODE and obs.for_crs_icans:
            self.last_therapy[THERAPY_CLASS[obs.drug]] = obs
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
            info: Info = (GRADE_DEATH, obs, (), "death attributed to CRS (A-11)")
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
                    "(EVAL-4, MGMT-25 [Greco 2024]: postpone the infusion until 48 h afebrile)"
                ] = None
            return
        self.advance(t)
        if obs.hr is not None:
            self.hr_now = obs.hr
        carried = carries(obs)
        if not carried and not self.dom:
            return  # nothing of CRS recorded yet: CRS stays "not assessed"
        self.has_data = True
        for name in carried:
            # A finding that persists in the open episode keeps the reason it counted as CRS.
            inherited = self._still_open(self.dom.get(name))
            self.dom[name] = Standing(obs, self.episodes, inherited, self._component(name, obs))
        self._grade(obs, TEMPERATURE in carried)

    def _component(self, name: str, obs: Vitals) -> Component | None:
        s = self._s
        if name in (BLOOD_PRESSURE, VASOPRESSORS_DOMAIN):
            treated = obs.vasopressors if name == VASOPRESSORS_DOMAIN else obs.fluid_bolus_for_hypotension
            if obs.hypotension_attributed_to is not None and treated:
                self.notes[
                    f"hypotension at {_t(obs.t_hours)} attributed to {obs.hypotension_attributed_to} (A-9)"
                ] = None
            if name == BLOOD_PRESSURE:
                return blood_pressure_component(obs, self._p, s, self._thr)
            return vasopressor_component(obs, s)
        if name == OXYGEN:
            comp, note = hypoxia_component(obs, self._p, s)
            if note is not None:
                self.notes[f"{note}, {_t(obs.t_hours)}"] = None
            return comp
        if obs.fever_attributed_to is not None and obs.temp_c is not None and obs.temp_c >= FEVER_C:
            why = obs.fever_attributed_to
            self.notes[f"fever {obs.temp_c:.1f} °C at {_t(obs.t_hours)} attributed to {why} (A-9)"] = None
        return None

    def _grade(self, obs: Vitals, temperature_recorded: bool) -> None:
        t = obs.t_hours
        dom = self.dom
        temp = dom.get(TEMPERATURE)
        fever = (
            temp is not None
            and temp.obs.temp_c is not None
            and temp.obs.temp_c >= FEVER_C
            and temp.obs.fever_attributed_to is None
        )
        if fever and temperature_recorded:
            if not self.episode_open:
                self._open(t)
            self.last_fever_t = t
            if self.first_fever_t is None:
                self.first_fever_t = t
        organ = [(name, st) for name, st in dom.items() if st.comp is not None]
        qualifier = ""
        if organ:
            qualifier = self._qualifier_now(t, fever, temp)
            if not qualifier and not self.episode_open:
                acting = self.acting_therapy(t)
                if acting:
                    self._open(t)
                    qualifier = "new CRS episode: " + acting
        grade = 1 if fever else 0
        comps: list[Component] = []
        why_top = ""
        unq_g = 0
        unqualified: list[Component] = []
        hypo_g = oxy_g = 0
        for name, st in organ:
            comp = st.comp
            assert comp is not None
            g = comp.grade
            if name == OXYGEN:
                oxy_g = g
            elif g > hypo_g:
                hypo_g = g
            why = self._still_open(st) or qualifier
            if why and why != st.qualifier:
                # counted as CRS in this episode: it keeps counting while it stands
                dom[name] = st._replace(qualifier=why, episode=self.episodes)
            if not why:
                if g > unq_g:
                    unq_g, unqualified = g, [comp]
                elif g == unq_g:
                    unqualified.append(comp)
            elif g > grade:
                grade, comps, why_top = g, [comp], why
            elif g == grade and comps:
                comps.append(comp)
        if comps:
            qualifier = why_top
        if unq_g > grade:
            self.sepsis_alert = True
            self.last_sepsis_info = (obs, tuple(unqualified))
        else:
            self.sepsis_alert = False
        self.fever_now = fever
        self.hypotension_grade = hypo_g
        self.hypoxia_grade = oxy_g
        pr = dom.get(VASOPRESSORS_DOMAIN)
        pressors = pr.obs.vasopressors if pr is not None else None
        self.pressors_active = bool(pressors) and any(VASOPRESSORS.get(p) for p in pressors or ())
        self.last_vitals_t = t
        if self.episode_open and (grade >= 1 or self._sign_standing()):
            self.last_sign_t = t
        if self.death is not None:
            return
        source: Vitals = temp.obs if grade == 1 and temp is not None else obs
        info: Info = (grade, source, tuple(comps), qualifier)
        self.current = grade
        self._cur_info = info
        if self.maximum is None or grade > self.maximum:
            self.maximum = grade
            self._max_info = info
        if self.episode_open and (self.episode_max is None or grade > self.episode_max):
            self.episode_max = grade

    def _still_open(self, stand: Standing | None) -> str:
        """The reason a standing value counted as CRS, while the episode it was recorded in is open."""
        if stand is not None and stand.qualifier and self.episode_open and stand.episode == self.episodes:
            return stand.qualifier
        return ""

    def _qualifier_now(self, t: float, fever: bool, temp: Standing | None) -> str:
        s = self._s
        if fever and temp is not None and temp.obs.temp_c is not None:
            when = f" at {_t(temp.obs.t_hours)}" if temp.obs.t_hours != t else ""
            return f"fever {temp.obs.temp_c:.1f} °C{when}"
        if (
            self.episode_open
            and self.last_fever_t is not None
            and t - self.last_fever_t <= s.fever_lookback_hours
        ):
            return f"fever {_t(self.last_fever_t)} within {s.fever_lookback_hours:g} h (A-4)"
        return self.masking_reason(t) or ""

    def active_at(self, t: float) -> bool:
        """Was a CRS episode open at time t (for screens)?"""
        for start, end in self.episode_intervals:
            if start <= t and (end is None or t < end):
                return not (
                    end is None
                    and self.last_sign_t is not None
                    and t - self.last_sign_t >= self._s.episode_close_hours
                    and not self._sign_standing()
                )
        return False

    # -------------------------------------------------------------------------------- output
    def fever_duration_hours(self) -> float:
        if not self.episode_open or self.first_fever_t is None or self.last_fever_t is None:
            return 0.0
        return self.last_fever_t - self.first_fever_t

    def temp_now(self) -> float | None:
        temp = self.dom.get(TEMPERATURE)
        return temp.obs.temp_c if temp is not None else None

    def interval_hours(self) -> float:
        """The vitals interval of the current grade (MON-5): standing values older are stale."""
        return vitals_interval_hours(
            self.current, febrile_tachycardic=is_febrile_tachycardic(self.temp_now(), self.hr_now)
        )

    def standing(self, as_of: float) -> tuple[StandingValue, ...]:
        limit = self.interval_hours()
        texts = {
            TEMPERATURE: temperature_text,
            BLOOD_PRESSURE: blood_pressure_text,
            VASOPRESSORS_DOMAIN: vasopressors_text,
            OXYGEN: oxygen_text,
        }
        out = []
        for name in CRS_DOMAINS:
            stand = self.dom.get(name)
            if stand is None:
                continue
            o = stand.obs
            age = max(0.0, as_of - o.t_hours)
            out.append(StandingValue(name, texts[name](o), o.t_hours, o.index, age, limit, age > limit))
        return tuple(out)

    def _driver(self, info: Info) -> Driver:
        grade, obs, comps, qualifier = info
        if grade == GRADE_DEATH:
            return Driver(
                "CRS grade 5 (A-11)", obs.index, obs.t_hours, f"CRS grade 5: {qualifier}, {_t(obs.t_hours)}"
            )
        if comps:
            first = comps[0]
            criterion = "; ".join(c.criterion for c in comps)
            what = " and ".join(
                c.text if c.t_hours == first.t_hours else f"{c.text} at {_t(c.t_hours)}" for c in comps
            )
            text = f"CRS grade {grade}: {what} ({qualifier}), {_t(first.t_hours)}"
            return Driver(criterion, first.observation_index, first.t_hours, text)
        if grade == 1:
            temp = getattr(obs, "temp_c", None)
            return Driver(
                "CRS fever ≥ 38.0 °C",
                obs.index,
                obs.t_hours,
                f"CRS grade 1: fever {temp:.1f} °C, {_t(obs.t_hours)}",
            )
        text = f"CRS grade 0: no fever ≥ 38.0 °C, no qualifying hypotension or hypoxia, {_t(obs.t_hours)}"
        return Driver("CRS grade 0", obs.index, obs.t_hours, text)

    def sepsis_driver(self) -> Driver | None:
        if not self.sepsis_alert or self.last_sepsis_info is None:
            return None
        obs, comps = self.last_sepsis_info
        what = " and ".join(c.text for c in comps)
        return Driver(
            "CRS-19 no fever (A-3)",
            obs.index,
            obs.t_hours,
            f"not CRS by ASTCT criteria (no qualifying fever, no masking therapy): {what}, {_t(obs.t_hours)}"
            " — evaluate sepsis / other cause",
        )

    def result(self, as_of: float | None = None) -> SyndromeResult:
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
        when = as_of if as_of is not None else (self.last_vitals_t or 0.0)
        return SyndromeResult(
            current=self.current if self.current is not None else 0,
            maximum=self.maximum if self.maximum is not None else 0,
            drivers=tuple(drivers),
            episode_open=self.episode_open,
            notes=tuple(self.notes),
            episode_maximum=self.episode_max if self.episodes else None,
            standing=self.standing(when),
        )
