"""evaluate() and the incremental Evaluator.

The Evaluator keeps observations sorted by (t_hours, kind rank, content) — so the input order never
matters — and per-syndrome state machines (crs.CrsTracker, icans.IcansTracker) plus per-analyte lab
series. Appending an observation at or after the last one costs one state-machine step; an
out-of-order insert marks the state dirty and the next evaluate() replays the course (still cheap).
Observations recorded at the same t_hours are simultaneous: clinical flags, events, labs and
medications are applied before vitals and neuro (a therapy charted at the time of a measurement
counts as given). EVAL-1, EVAL-2, EVAL-3."""

from __future__ import annotations

import dataclasses
import types
from dataclasses import fields
from functools import lru_cache
from typing import Any

from .checks import CHECK_NEURO, CHECK_VITALS
from .crs import FEVER_C, OXYGEN, CrsTracker
from .findings import hypoxaemia, intracranial_haemorrhage
from .followup.inputs import FOLLOWUP_KINDS
from .icaht import grade_icaht
from .icans import IcansTracker
from .limits import soft_warnings
from .observations import (
    Case,
    ClinicalFlag,
    Event,
    FollowUp,
    Lab,
    Medication,
    Neuro,
    Observation,
    PatientInfo,
    Vitals,
    parse_case,
)
from .results import Driver, Evaluation
from .scores import easix, hematotox_from_series, m_easix, simplified_easix
from .screens import iec_hs_candidates, iec_hs_screen, is_autoimmune, ivig_policy, licats_screen
from .settings import DEFAULT_SETTINGS, DecisionSettings
from .suggestions import Context, build, tocilizumab_dose
from .t_icaht import grade_t_icaht
from .vocabulary import CORTICOSTEROIDS, G_CSF, INFECTION_FLAGS, TOCILIZUMAB

# Version 2: fragments never lower a grade, masking after a closed episode (A-2 revised),
# incomplete ICE by best completion (B-1), urgent findings (A-15, B-9).
RULE_SET = "astct-2019/carttrack-2"

_RANK = {"clinical_flag": 0, "event": 1, "lab": 2, "medication": 3, "vitals": 4, "neuro": 5}
# Follow-up kinds are kept in order with the rest but graded in carttrack/followup, not here.
_RANK.update({kind: len(_RANK) + i for i, kind in enumerate(FOLLOWUP_KINDS)})
_LAB_KEYS = tuple(f.name for f in fields(Lab) if f.name not in ("t_hours", "index"))
_DEATH_EVENTS = ("death",)


def _tie_key(obs: Observation) -> tuple[int, str]:
    """Same time and kind: a febrile vitals observation first, so hypotension/hypoxia charted separately
    at the same moment is graded with that fever (simultaneous findings); then by content."""
    febrile = isinstance(obs, Vitals) and obs.temp_c is not None and obs.temp_c >= FEVER_C
    return (0 if febrile else 1, _content(obs))


def _content(obs: Observation) -> str:
    return repr(tuple(getattr(obs, f.name) for f in fields(obs) if f.name != "index"))


class Evaluator:
    """Incremental evaluator for one patient's course."""

    def __init__(
        self,
        patient: PatientInfo,
        settings: DecisionSettings | None = None,
        follow_up: FollowUp | None = None,
    ) -> None:
        self.patient = patient
        self.settings = settings or DEFAULT_SETTINGS
        self.follow_up = follow_up
        self._autoimmune = is_autoimmune(patient.indication, self.settings)
        self._settings_dict = _settings_view(self.settings)
        self._keys: list[tuple[float, int]] = []
        self._obs: list[Observation] = []
        self._seq = 0
        self._dirty = False
        self._reset()

    # ------------------------------------------------------------------ state
    def _reset(self) -> None:
        self._crs = CrsTracker(self.patient, self.settings)
        self._icans = IcansTracker(self.patient, self.settings)
        self._labs: dict[str, list[tuple[float, float, int | None]]] = {}
        self._lab_version = 0
        self._neuro_version = 0
        self._cache: dict[str, tuple[object, object]] = {}
        self._flags: list[tuple[float, str, bool, int | None]] = []
        self._flag_state: dict[str, bool] = {}
        self._toci: list[float] = []
        self._steroids: list[float] = []
        self._gcsf: list[float] = []
        self._death_t: float | None = None
        self._progression_t: float | None = None
        self._next_therapy_t: float | None = None
        self._last_t: float | None = None
        self._last_vitals: Vitals | None = None
        self._last_spo2: Vitals | None = None  # the record of the standing SpO2
        self._last_temp: float | None = None  # the standing temperature, before the infusion too

    def _apply(self, obs: Observation) -> None:
        t = obs.t_hours
        self._last_t = t if self._last_t is None or t > self._last_t else self._last_t
        if isinstance(obs, Vitals):
            self._crs.vitals(obs)
            self._last_vitals = obs
            if obs.spo2 is not None:
                self._last_spo2 = obs
            if obs.temp_c is not None:
                self._last_temp = obs.temp_c
        elif isinstance(obs, Neuro):
            self._icans.neuro(obs)
            self._neuro_version += 1
        elif isinstance(obs, Lab):
            self._lab_version += 1
            labs = self._labs
            for key in _LAB_KEYS:
                v = getattr(obs, key)
                if v is not None:
                    series = labs.get(key)
                    if series is None:
                        labs[key] = [(t, v, obs.index)]
                    else:
                        series.append((t, v, obs.index))
        elif isinstance(obs, Medication):
            self._crs.medication(obs)
            if obs.drug == TOCILIZUMAB:
                self._toci.append(t)
            elif obs.drug in CORTICOSTEROIDS:
                self._steroids.append(t)
            elif obs.drug in G_CSF:
                self._gcsf.append(t)
        elif isinstance(obs, Event):
            self._crs.event(obs)
            self._icans.event(obs)
            self._neuro_version += 1
            if obs.event == "death":
                self._death_t = t if self._death_t is None else min(self._death_t, t)
            elif obs.event == "progression":
                self._progression_t = t if self._progression_t is None else min(self._progression_t, t)
            elif obs.event == "next_therapy":
                self._next_therapy_t = t if self._next_therapy_t is None else min(self._next_therapy_t, t)
        elif isinstance(obs, ClinicalFlag):
            self._lab_version += 1
            for name, value in obs.flags:
                self._flags.append((t, name, value, obs.index))
                self._flag_state[name] = value

    # ------------------------------------------------------------------ input
    def add(self, obs: Observation) -> None:
        if obs.index is None:
            obs = _with_index(obs, self._seq)
        self._seq += 1
        key = (obs.t_hours, _RANK[obs.kind])
        if not self._keys or key > self._keys[-1]:
            self._keys.append(key)
            self._obs.append(obs)
            if not self._dirty:
                self._apply(obs)
        else:
            # same (t, kind) as an existing observation or out of order: re-sort and replay lazily
            self._keys.append(key)
            self._obs.append(obs)
            self._dirty = True

    def extend(self, observations: tuple[Observation, ...] | list[Observation]) -> None:
        if self._obs or self._dirty:
            for o in observations:
                self.add(o)
            return
        self._obs = list(observations)
        self._seq = len(self._obs)
        self._sort()
        for o in self._obs:
            self._apply(o)

    def _sort(self) -> None:
        """Sort by (t_hours, kind rank); ties broken by content so input order never matters."""
        obs = self._obs
        keys = [(o.t_hours, _RANK[o.kind]) for o in obs]
        order = sorted(range(len(obs)), key=keys.__getitem__)
        sorted_keys = [keys[i] for i in order]
        out = [obs[i] for i in order]
        m = 0
        n = len(out)
        while m < n - 1:
            if sorted_keys[m] != sorted_keys[m + 1]:
                m += 1
                continue
            k = m + 1
            while k < n and sorted_keys[k] == sorted_keys[m]:
                k += 1
            out[m:k] = sorted(out[m:k], key=_tie_key)
            m = k
        self._obs = out
        self._keys = sorted_keys

    @property
    def observations(self) -> tuple[Observation, ...]:
        return tuple(self._obs)

    # ------------------------------------------------------------------ output
    def _cached(self, name: str, key: object, compute: Any) -> Any:
        hit = self._cache.get(name)
        if hit is not None and hit[0] == key:
            return hit[1]
        value = compute()
        self._cache[name] = (key, value)
        return value

    def evaluate(self, *, as_of: float | None = None) -> Evaluation:
        """The evaluation after the last observation. ``as_of`` (hours after infusion, e.g. the current
        time) only moves the clock for the age and staleness of standing values; grades do not change."""
        if self._dirty:
            self._reset()
            self._sort()
            for o in self._obs:
                self._apply(o)
            self._dirty = False
        s = self.settings
        p = self.patient
        fu = self.follow_up
        last_t = self._last_t if self._last_t is not None else 0.0
        clock = last_t if as_of is None else max(last_t, as_of)  # for the age of standing values
        as_of = last_t  # ICAHT windows: as of the last observation or follow-up
        if fu is not None and fu.last_follow_up_hours is not None:
            as_of = max(as_of, fu.last_follow_up_hours)
        censors = [x for x in (self._death_t, self._progression_t, self._next_therapy_t) if x is not None]
        if fu is not None and fu.censor_hours is not None:
            censors.append(fu.censor_hours)
        censor = min(censors) if censors else None
        self._crs.advance(last_t)
        crs = self._crs.result(clock)
        icans_standing = self._icans.standing(clock)
        stale = tuple(v.domain for v in icans_standing if v.stale)
        icans = self._cached(
            "icans", (self._neuro_version, stale), lambda: self._icans.result(clock, icans_standing)
        )
        if icans.standing != icans_standing:  # same grades and notes, older ages: refresh the ages
            icans = dataclasses.replace(icans, standing=icans_standing)
        icaht = self._cached(
            "icaht",
            (self._lab_version, as_of // 24.0, censor),
            lambda: grade_icaht(self._labs.get("anc_per_uL", []), as_of, censor, s),
        )
        t_icaht = self._cached(
            "t_icaht",
            (self._lab_version, as_of // 24.0, censor),
            lambda: grade_t_icaht(self._labs.get("platelets_10e9_L", []), as_of, censor, s),
        )

        computed: dict[str, object] = {}
        dose, _ = tocilizumab_dose(p.weight_kg, s)
        computed["tocilizumab_dose_mg"] = dose
        ht, ht_drivers, _missing = self._cached(
            "hematotox", self._lab_version, lambda: hematotox_from_series(self._labs)
        )
        screen_drivers: list[Driver] = list(ht_drivers)
        if ht is not None:
            computed["car_hematotox"] = ht.score
            computed["car_hematotox_risk"] = ht.risk
            computed["validated_population"] = not self._autoimmune
        latest = {k: v[-1][1] for k, v in self._labs.items() if v}
        ldh, plt = latest.get("ldh_U_L"), latest.get("platelets_10e9_L")
        if ldh is not None and plt is not None:
            cr, crp = latest.get("creatinine_mg_dL"), latest.get("crp_mg_dL")
            if cr is not None:
                computed["easix"] = easix(ldh, cr, plt)
            if crp is not None:
                computed["m_easix"] = m_easix(ldh, crp, plt)
            computed["simplified_easix"] = simplified_easix(ldh, plt)
        tox_toci = tuple(self._toci)
        ep_start = self._crs.episode_start if self._crs.episode_open else None
        toci_in_episode = sum(1 for t in tox_toci if ep_start is not None and t >= ep_start - 24.0)

        candidates = self._cached("iec_hs", self._lab_version, lambda: iec_hs_candidates(self._labs, s))
        iec, iec_drv = iec_hs_screen(candidates, self._crs.active_at, s)
        screen_drivers.extend(iec_drv)
        licats = False
        if self._autoimmune:
            licats, lic_drv = self._cached(
                "licats", self._lab_version, lambda: licats_screen(self._labs, self._flags, p.indication, s)
            )
            screen_drivers.extend(lic_drv)
        infection = any(self._flag_state.get(f, False) for f in INFECTION_FLAGS)
        ivig_code, ivig_drv = ivig_policy(self._labs.get("igg_mg_dL", []), infection, s)
        if ivig_drv is not None:
            screen_drivers.append(ivig_drv)
        lv = self._last_vitals
        raw_fever = self._last_temp is not None and self._last_temp >= FEVER_C
        oxygen = self._crs.dom.get(OXYGEN)
        urgent = tuple(
            f
            for f in (
                hypoxaemia(self._last_spo2, oxygen.obs if oxygen is not None else None, s),
                intracranial_haemorrhage(self._icans.ich, self._labs.get("platelets_10e9_L", []), s),
            )
            if f is not None and self._death_t is None  # a recorded death ends the course
        )
        checks_due = tuple(
            name
            for name, result in ((CHECK_VITALS, crs), (CHECK_NEURO, icans))
            if any(v.stale for v in result.standing)
        )
        anc_series = self._labs.get("anc_per_uL")
        ctx = Context(
            patient=p,
            settings=s,
            as_of=last_t,
            autoimmune=self._autoimmune,
            crs=crs.current,
            crs_fever_hours=self._crs.fever_duration_hours(),
            raw_fever_now=raw_fever,
            hypotension=self._crs.hypotension_grade >= 2,
            pressors_active=self._crs.pressors_active,
            sepsis_alert=self._crs.sepsis_alert,
            icans=icans.current,
            seizure_grade=self._icans.domain_grade("seizure"),
            icp_grade=self._icans.domain_grade("icp"),
            icaht_early=icaht.early,
            icaht_late=icaht.late,
            latest_anc=anc_series[-1][1] if anc_series else None,
            toci_times=tox_toci,
            toci_in_episode=toci_in_episode,
            steroid_times=tuple(self._steroids),
            hematotox_high=None if ht is None else ht.risk == "high",
            iec_hs=iec,
            licats=licats,
            ivig_code=ivig_code,
            seizure_risk_flag=self._flag_state.get("cns_involvement", False)
            or self._flag_state.get("prior_seizures", False),
            deceased=self._death_t is not None,
            urgent=urgent,
        )
        active, withheld = build(ctx)
        warnings: list[str] = []
        if lv is not None:
            warnings.extend(
                self._cached("warnings", id(lv), lambda: tuple(w.message for w in soft_warnings(lv)))
            )
        return Evaluation(
            crs=crs,
            icans=icans,
            icaht=icaht,
            suggestions=active,
            withheld=withheld,
            computed=types.MappingProxyType(computed),
            iec_hs_screen_positive=iec,
            licats_screen_positive=licats,
            sepsis_alert=self._crs.sepsis_alert,
            rule_set=RULE_SET,
            settings=self._settings_dict,
            screen_drivers=tuple(screen_drivers),
            warnings=tuple(warnings),
            t_icaht=t_icaht,
            urgent_findings=urgent,
            checks_due=checks_due,
            vitals_interval_hours=self._crs.interval_hours(),
        )


@lru_cache(maxsize=64)
def _settings_view(settings: DecisionSettings) -> types.MappingProxyType[str, Any]:
    return types.MappingProxyType(settings.to_dict())


def _with_index(obs: Observation, index: int) -> Observation:
    return dataclasses.replace(obs, index=index)


def evaluate(case: Case, settings: DecisionSettings | None = None) -> Evaluation:
    ev = Evaluator(case.patient, settings, case.follow_up)
    ev.extend(case.observations)
    return ev.evaluate()


def evaluate_dict(data: dict[str, Any], settings: DecisionSettings | None = None) -> Evaluation:
    return evaluate(parse_case(data), settings)
