"""ICANS grading, ASTCT (ICE, CAPD and ICANS rules [Lee 2019]; B-1…B-9), incremental.

Five domains; the most severe wins (ICANS-5). The encephalopathy domain is the ICE score (≥ 12 y)
or CAPD (< 12 y or developmental delay, B-4). Each domain's latest value stands until re-assessed
(B-6, stale after 24 h); an ICE or CAPD recorded as not performed is not a re-assessment. An ICE with
items not assessable grades as its best possible completion, flagged incomplete (B-1). Tremor and
myoclonus are excluded (ICANS-6); an intracranial haemorrhage excludes itself and its own focal
oedema, not a diffuse oedema, posturing, CN VI palsy, papilloedema or Cushing triad recorded with it
(B-9), and is an urgent finding of its own (findings.py). Consciousness (and ICE/CAPD) under
sedation is not scored (ICANS-7, B-2); when neither encephalopathy score nor consciousness is
assessable and no other domain is abnormal, the grade is None ("not assessable"), never 0.
"""

from __future__ import annotations

from .observations import INFUSION_T, Event, IceScore, Neuro, PatientInfo
from .results import Driver, StandingValue, SyndromeResult
from .settings import DecisionSettings
from .vocabulary import (
    CONSCIOUSNESS_NAMES,
    ICP_EDEMA_NAMES,
    MOTOR_NAMES,
    SEIZURE_NAMES,
    Consciousness,
    IcpEdema,
    Motor,
    Seizure,
)

ICE_MAX = 10  # ICE-1 ICE 10 points [Lee 2019] [Santomasso 2021] p9
ICE_G1_MIN = 7  # ICE-2 ICE 7–9 = grade 1 [Lee 2019]
ICE_G2_MIN = 3  # ICE-2 ICE 3–6 = grade 2 [Lee 2019]
# ICE-2, ICE-3: ICE 0–2 = grade 3; ICE 0 unarousable = grade 4 via consciousness [Lee 2019]
CAPD_POSITIVE = 9  # CAPD-2, CAPD-6: CAPD ≥ 9 = grade 3 [Santomasso 2021] p9 [CHOP CAPD]
GRADE_DEATH = 5  # ICANS-8 [Lee 2019], A-11

CONSCIOUSNESS_GRADE: dict[Consciousness, int] = {  # ICANS-1 [Lee 2019], B-8
    Consciousness.ALERT: 0,
    Consciousness.AWAKENS_SPONTANEOUSLY: 1,
    Consciousness.AWAKENS_TO_VOICE: 2,
    Consciousness.AWAKENS_TO_TACTILE: 3,
    Consciousness.UNAROUSABLE: 4,
}
SEIZURE_GRADE: dict[Seizure, int] = {  # ICANS-2 [Lee 2019]
    Seizure.NONE: 0,
    Seizure.RAPID_RESOLVING_CLINICAL: 3,
    Seizure.NONCONVULSIVE_EEG_RESOLVED: 3,
    Seizure.PROLONGED_GT5MIN: 4,
    Seizure.REPETITIVE_NO_RETURN: 4,
}
MOTOR_GRADE: dict[Motor, int] = {Motor.NONE: 0, Motor.DEEP_FOCAL_WEAKNESS: 4}  # ICANS-3 [Lee 2019]
ICP_GRADE: dict[IcpEdema, int] = {  # ICANS-4 [Lee 2019]
    IcpEdema.NONE: 0,
    IcpEdema.FOCAL_LOCAL_EDEMA: 3,
    IcpEdema.DIFFUSE_EDEMA: 4,
    IcpEdema.POSTURING: 4,
    IcpEdema.CN_VI_PALSY: 4,
    IcpEdema.PAPILLEDEMA: 4,
    IcpEdema.CUSHING_TRIAD: 4,
}


ICE_ITEM_MAX: dict[str, int] = {  # ICE-1 points per ICE item [Lee 2019] [Santomasso 2021] p9
    "orientation": 4,
    "naming": 3,
    "commands": 1,
    "writing": 1,
    "attention": 1,
}
# B-9: an intracranial haemorrhage excludes itself and its own (perihaematomal, focal) oedema only.
ICH_EXCLUDED_ICP = frozenset({IcpEdema.FOCAL_LOCAL_EDEMA})


def ice_best_completion(ice: IceScore) -> tuple[int, int, int, tuple[str, ...]]:
    """B-1: (best possible total, points scored, points tested, untested items) of an ICE."""
    scored = tested = 0
    untested: list[str] = []
    best = 0
    for item, top in ICE_ITEM_MAX.items():
        value = getattr(ice, item)
        if value is None:
            untested.append(item)
            best += top
        else:
            scored += value
            tested += top
            best += value
    return best, scored, tested, tuple(untested)


def ice_grade(total: int) -> int:
    if total >= ICE_MAX:
        return 0
    if total >= ICE_G1_MIN:
        return 1
    if total >= ICE_G2_MIN:
        return 2
    return 3


def uses_capd(patient: PatientInfo, settings: DecisionSettings) -> bool:
    """B-4: age < 12.0 y, or developmental delay at any age."""
    return patient.developmental_delay or patient.age_years < settings.capd_below_age_years


# domain state: (grade or None if not assessable, text, obs)
Domain = tuple[int | None, str, Neuro]
DOMAINS = ("encephalopathy", "consciousness", "seizure", "motor", "icp")


def _t(t: float) -> str:
    return f"t={t:+.1f} h"


class IcansTracker:
    __slots__ = (
        "_capd",
        "_cur_info",
        "_max_info",
        "_p",
        "_s",
        "capd_baseline",
        "current",
        "death",
        "dom",
        "ich",
        "incomplete",
        "last_t",
        "maximum",
        "notes",
    )

    def __init__(self, patient: PatientInfo, settings: DecisionSettings) -> None:
        self._p = patient
        self._s = settings
        self._capd = uses_capd(patient, settings)
        self.dom: dict[str, Domain] = {}
        self.current: int | None = None
        self.maximum: int | None = None
        self._max_info: tuple[int, tuple[Domain, ...]] | None = None
        self._cur_info: tuple[int, tuple[Domain, ...]] | None = None
        self.notes: dict[str, None] = {}
        self.incomplete = False
        self.capd_baseline: int | None = None
        self.death: Event | None = None
        self.last_t: float | None = None
        self.ich: Neuro | None = None  # the standing record of an intracranial haemorrhage (B-9)

    def event(self, obs: Event) -> None:
        if obs.event == "death" and (obs.attributed_to or "").strip().lower() == "icans":
            self.death = obs
            self.current = GRADE_DEATH
            self.maximum = GRADE_DEATH

    def _encephalopathy(self, obs: Neuro) -> Domain | None:
        if self._capd:
            if obs.ice_given and obs.ice is not None and not obs.capd_given:
                self.notes[
                    "ICE recorded for a CAPD patient (< 12 y or developmental delay) is not graded (B-4)"
                ] = None
            if not obs.capd_given:
                return None
            if obs.sedated:
                return (None, "CAPD not assessable (sedated)", obs)
            if obs.capd_items is None:
                return None  # CAPD not performed: the last CAPD stands (B-6)
            capd_total = sum(obs.capd_items)
            if capd_total >= CAPD_POSITIVE:
                return (3, f"CAPD {capd_total} (≥ 9)", obs)
            if capd_total == 0:
                return (0, "CAPD 0", obs)
            rise = self._s.capd_baseline_rise
            baseline = self.capd_baseline
            if self._s.capd_baseline_relative and baseline is not None and capd_total - baseline < rise:
                return (0, f"CAPD {capd_total}, rise < {rise} over baseline (B-7)", obs)
            return (1, f"CAPD {capd_total} (1–8)", obs)
        if obs.capd_given and obs.capd_items is not None and not obs.ice_given:
            self.notes[
                "CAPD recorded for a patient ≥ 12 y without developmental delay is not graded (B-4)"
            ] = None
        if not obs.ice_given:
            return None
        if obs.sedated:
            return (None, "ICE not scored under sedation (ICANS-7)", obs)
        if obs.ice is None:
            return None  # ICE not performed: the last ICE stands (B-6)
        total = obs.ice.total
        if total is not None:
            return (ice_grade(total), f"ICE {total}/10", obs)
        best, scored, tested, untested = ice_best_completion(obs.ice)
        if tested == 0:
            return (None, "ICE not assessable (no item testable, B-1)", obs)
        text = (
            f"ICE incomplete: at best {best}/10 ({scored} of {tested} tested points; "
            f"{', '.join(untested)} not assessable, B-1)"
        )
        return (ice_grade(best), text, obs)

    def neuro(self, obs: Neuro) -> None:
        t = obs.t_hours
        if t < INFUSION_T:
            # A check before the infusion is a baseline (e.g. neuropsychiatric lupus), shown beside the
            # grades but not graded itself (B-1, ICE-6); a CAPD baseline feeds B-7's relative mode.
            if obs.capd_given and obs.capd_items is not None and not obs.sedated:
                self.capd_baseline = sum(obs.capd_items)
            self.notes[f"neuro check before the infusion ({_t(t)}) is a baseline, not graded (B-1)"] = None
            return
        self.last_t = t
        enc = self._encephalopathy(obs)
        if enc is not None:
            self.dom["encephalopathy"] = enc
        if obs.consciousness is not None:
            if obs.consciousness is Consciousness.NOT_ASSESSABLE:
                self.dom["consciousness"] = (None, "consciousness not assessable", obs)
            elif obs.sedated:
                self.dom["consciousness"] = (
                    None,
                    f"{CONSCIOUSNESS_NAMES[obs.consciousness]} under sedation not scored (ICANS-7)",
                    obs,
                )
            else:
                g = CONSCIOUSNESS_GRADE[obs.consciousness]
                self.dom["consciousness"] = (g, CONSCIOUSNESS_NAMES[obs.consciousness], obs)
        if obs.seizure is not None:
            self.dom["seizure"] = (SEIZURE_GRADE[obs.seizure], SEIZURE_NAMES[obs.seizure], obs)
        if obs.motor is not None:
            self.dom["motor"] = (MOTOR_GRADE[obs.motor], MOTOR_NAMES[obs.motor], obs)
        if obs.intracranial_hemorrhage is not None:
            self.ich = obs if obs.intracranial_hemorrhage else None
        if obs.intracranial_hemorrhage:
            self.notes[f"intracranial haemorrhage at {_t(t)}: graded by CTCAE, excluded from ICANS (B-9)"] = (
                None
            )
        if obs.icp_edema is not None or obs.papilledema:
            g = ICP_GRADE[obs.icp_edema] if obs.icp_edema is not None else 0
            label = ICP_EDEMA_NAMES[obs.icp_edema] if obs.icp_edema is not None else "no oedema"
            if obs.papilledema and g < 4:
                g, label = 4, ICP_EDEMA_NAMES[IcpEdema.PAPILLEDEMA]
            if obs.intracranial_hemorrhage and obs.icp_edema in ICH_EXCLUDED_ICP and not obs.papilledema:
                self.dom["icp"] = (
                    0,
                    "focal oedema of the intracranial haemorrhage excluded (ICANS-6, B-9)",
                    obs,
                )
            else:
                self.dom["icp"] = (g, f"raised ICP/oedema: {label}", obs)
        if obs.tremor or obs.myoclonus:
            self.notes["tremor/myoclonus recorded: graded by CTCAE, not ICANS (ICANS-6)"] = None
        if self.death is not None:
            return
        self._recompute()

    def _recompute(self) -> None:
        enc = self.dom.get("encephalopathy")
        con = self.dom.get("consciousness")
        grades = [d[0] for d in self.dom.values() if d[0] is not None]
        enc_ok = enc is not None and enc[0] is not None
        con_ok = con is not None and con[0] is not None
        ice = enc[2].ice if enc is not None and not self._capd else None
        ice_partial = ice is not None and ice.total is None
        self.incomplete = ice_partial or not (enc_ok and con_ok)
        top = max(grades) if grades else None
        if not enc_ok and not con_ok and (top is None or top == 0):
            self.current = None
            self._cur_info = None
            return
        assert top is not None
        winners = tuple(d for d in self.dom.values() if d[0] == top)
        self.current = top
        self._cur_info = (top, winners)
        if self.maximum is None or top > self.maximum:
            self.maximum = top
            self._max_info = self._cur_info

    def _driver(self, info: tuple[int, tuple[Domain, ...]]) -> Driver:
        grade, winners = info
        obs = winners[0][2]
        what = "; ".join(f"{d[1]} at {_t(d[2].t_hours)}" for d in winners)
        return Driver("ICANS-5 most severe domain", obs.index, obs.t_hours, f"ICANS grade {grade}: {what}")

    def result(
        self, as_of: float | None = None, standing: tuple[StandingValue, ...] | None = None
    ) -> SyndromeResult:
        """The ICANS result; ``standing`` may be given when already computed for ``as_of``."""
        drivers: list[Driver] = []
        if self.death is not None:
            d = self.death
            drivers.append(
                Driver(
                    "ICANS grade 5 (A-11)",
                    d.index,
                    d.t_hours,
                    f"ICANS grade 5: death attributed to ICANS, {_t(d.t_hours)}",
                )
            )
        if self._max_info is not None:
            drivers.append(self._driver(self._max_info))
        if self._cur_info is not None and self._cur_info is not self._max_info:
            drivers.append(self._driver(self._cur_info))
        notes = dict(self.notes)
        if standing is None:
            standing = self.standing(as_of if as_of is not None else (self.last_t or 0.0))
        if as_of is not None:
            for v in standing:
                if v.stale:
                    notes[f"{v.domain} last assessed {_t(v.t_hours)}: stale, re-assessment overdue (B-6)"] = (
                        None
                    )
        if self.current is None and self.dom:
            notes["ICANS not assessable (B-2)"] = None
        return SyndromeResult(
            current=self.current,
            maximum=self.maximum,
            drivers=tuple(drivers),
            episode_open=self.current is not None and self.current > 0,
            notes=tuple(notes),
            incomplete=self.incomplete if self.dom else False,
            episode_maximum=self.maximum,
            standing=standing,
        )

    def standing(self, as_of: float) -> tuple[StandingValue, ...]:
        """Each domain's standing value with its age; stale after neuro_stale_hours (B-6)."""
        limit = self._s.neuro_stale_hours
        out = []
        for name in DOMAINS:
            dom = self.dom.get(name)
            if dom is None:
                continue
            obs = dom[2]
            age = max(0.0, as_of - obs.t_hours)
            out.append(StandingValue(name, dom[1], obs.t_hours, obs.index, age, limit, age > limit))
        return tuple(out)

    def domain_grade(self, name: str) -> int:
        dom = self.dom.get(name)
        return dom[0] if dom is not None and dom[0] is not None else 0
