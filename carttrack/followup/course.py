"""One course's follow-up observations, sorted and split into baseline and post-infusion.

CASE-7, VISIT-5: t_hours counts from this course's infusion; observations at t_hours ≤ 0 are the
baseline, of which the latest of each kind is used (VISIT-1: one case is one course).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ..observations import INFUSION_T, Event, Lab, Medication, Observation, PatientInfo
from ..screens import is_autoimmune
from ..settings import DecisionSettings
from .groups import IndicationGroup, indication_group, is_b_all
from .inputs import FOLLOWUP_KINDS, MedicationStatus, MyositisCoreSet, SledaiEntry, SscAssessment

FOLLOWUP_EVENT = "flare_declared"
IVIG_DRUG = "ivig"  # BCELL-9: IVIG doses change how IgG checks count
# VISIT-7: a CD19 or IgG value after day 28 is follow-up too (+ a UPCR: the renal response).
LATE_LAB_FROM_HOURS = 28 * 24.0
LATE_LAB_FIELDS = ("cd19_per_uL", "igg_mg_dL", "upcr_mg_mg")
# The lab fields that exist for follow-up only (CASE-7: lab, more fields).
FOLLOWUP_LAB_FIELDS = (
    "upcr_entered_mg_mmol",
    "protein_g_24h",
    "egfr_mL_min",
    "anti_dsdna_IU_mL",
    "c3_mg_dL",
    "c4_mg_dL",
    "cd4_per_uL",
    "naive_b_cells_pct",
)
Sample = tuple[float, float, int | None]  # (t_hours, value, observation index)
T = TypeVar("T", SledaiEntry, MyositisCoreSet, SscAssessment)


@dataclass(frozen=True, slots=True)
class FollowupCourse:
    patient: PatientInfo
    group: IndicationGroup
    b_all: bool
    sledai: tuple[SledaiEntry, ...]  # the baseline first (when recorded), then post-infusion visits
    regimens: tuple[MedicationStatus, ...]  # every recorded regimen, by time
    labs: tuple[Lab, ...]  # by time
    core_set_baseline: MyositisCoreSet | None
    core_sets: tuple[MyositisCoreSet, ...]  # post-infusion
    ssc_baseline: SscAssessment | None
    ssc: tuple[SscAssessment, ...]  # post-infusion
    declared_flares: tuple[Event, ...]  # physician-declared flares / relapses, by time
    ivig: tuple[Medication, ...]  # IVIG doses given, by time (BCELL-9)
    last_hours: float  # the last observation of the course

    def series(self, field: str) -> tuple[Sample, ...]:
        out: list[Sample] = []
        for lab in self.labs:
            value = getattr(lab, field)
            if value is not None:
                out.append((lab.t_hours, value, lab.index))
        return tuple(out)

    def flare_declared_between(self, start: float, end: float) -> bool:
        return any(start <= e.t_hours <= end for e in self.declared_flares)


def _order(obs: Observation) -> tuple[float, int]:
    return (obs.t_hours, obs.index if obs.index is not None else -1)


def _split(items: Sequence[T]) -> tuple[T | None, tuple[T, ...]]:
    before = [x for x in items if x.t_hours <= INFUSION_T]
    return (before[-1] if before else None), tuple(x for x in items if x.t_hours > INFUSION_T)


def has_followup_data(observations: Iterable[Observation]) -> bool:
    """VISIT-7: a follow-up kind, a follow-up lab field, a flare declaration, or a CD19, IgG or
    UPCR value after day 28."""
    for obs in observations:
        if obs.kind in FOLLOWUP_KINDS:
            return True
        if isinstance(obs, Event) and obs.event == FOLLOWUP_EVENT:
            return True
        if isinstance(obs, Lab):
            if any(getattr(obs, f) is not None for f in FOLLOWUP_LAB_FIELDS):
                return True
            if obs.t_hours > LATE_LAB_FROM_HOURS and any(
                getattr(obs, f) is not None for f in LATE_LAB_FIELDS
            ):
                return True
    return False


def ivig_given(observations: Iterable[Observation]) -> tuple[Medication, ...]:
    """The IVIG doses among ``observations`` (``medication`` of drug ivig; BCELL-9), in their order."""
    return tuple(o for o in observations if isinstance(o, Medication) and o.drug == IVIG_DRUG)


def build_course(
    patient: PatientInfo, observations: Iterable[Observation], decision_settings: DecisionSettings
) -> FollowupCourse:
    obs = sorted(observations, key=_order)
    sledai = [o for o in obs if isinstance(o, SledaiEntry)]
    base_sledai, post_sledai = _split(sledai)
    base_set, post_sets = _split([o for o in obs if isinstance(o, MyositisCoreSet)])
    base_ssc, post_ssc = _split([o for o in obs if isinstance(o, SscAssessment)])
    group = indication_group(
        patient.indication,
        patient.indication_group,
        autoimmune=is_autoimmune(patient.indication, decision_settings),
    )
    return FollowupCourse(
        patient=patient,
        group=group,
        b_all=is_b_all(patient.indication),
        sledai=((base_sledai,) if base_sledai is not None else ()) + post_sledai,
        regimens=tuple(o for o in obs if isinstance(o, MedicationStatus)),
        labs=tuple(o for o in obs if isinstance(o, Lab)),
        core_set_baseline=base_set,
        core_sets=post_sets,
        ssc_baseline=base_ssc,
        ssc=post_ssc,
        declared_flares=tuple(o for o in obs if isinstance(o, Event) and o.event == FOLLOWUP_EVENT),
        ivig=ivig_given(obs),
        last_hours=obs[-1].t_hours if obs else INFUSION_T,
    )
