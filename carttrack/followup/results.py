"""Follow-up result types: every answer carries its drivers (the criterion and the observation).

``FollowupResult.case_output()`` is the case-file command line's ``followup`` object (CASE-8),
plus a few keys beyond it: ``drug_free_except``, ``doris_since_hours``,
``doris_sustained_6_months``, ``drug_free_since_hours``, ``b_cell_aplasia``, ``indication_group``,
``findings``, ``reminders`` with ``reminders_as_of_hours`` (CASE-10) and ``drivers``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..results import Driver
from .logic import Tri


class Urgency(StrEnum):
    URGENT = "urgent"  # pages the treating physicians through the escalation chain
    ROUTINE = "routine"
    TASK = "task"
    INFO = "info"  # shown on the timeline, nobody is paged


class Recipient(StrEnum):
    TREATING_PHYSICIANS = "treating_physicians"
    COORDINATOR = "coordinator"


class FindingCode(StrEnum):
    RELAPSE = "relapse"  # flare or relapse of any disease (RELAPSE-1…RELAPSE-5, G-9)
    SEROLOGICAL_REACTIVATION = "serological_reactivation"  # G-6
    B_CELL_APLASIA_LOST = "b_cell_aplasia_lost"  # B-ALL, G-7
    B_CELL_RECONSTITUTION = "b_cell_reconstitution"  # autoimmune and other oncology, G-7
    PROPHYLAXIS_STOP_CRITERIA_MET = "prophylaxis_stop_criteria_met"  # BCELL-7
    PROPHYLAXIS_STOPPED_EARLY = "prophylaxis_stopped_early"  # BCELL-7
    VISIT_OVERDUE = "visit_overdue"  # G-1
    IGG_CHECK_DUE = "igg_check_due"  # BCELL-6
    CMV_PCR_DUE = "cmv_pcr_due"  # INF-11
    REVACCINATION_DUE = "revaccination_due"  # BCELL-8, G-8


@dataclass(frozen=True, slots=True)
class FollowupFinding:
    """Something the alerting layer turns into an alert or a task. `t_hours` is when it occurred by
    its definition (an LN flare is dated at its first sample); `detected_hours` is the observation
    that completed it. `key` identifies it across re-evaluations of the same course."""

    code: FindingCode
    urgency: Urgency
    recipient: Recipient
    t_hours: float
    detected_hours: float
    text: str
    drivers: tuple[Driver, ...]
    subject: str = ""  # what it is about when one course can have several at one time (a visit code)

    @property
    def key(self) -> str:
        tail = f":{self.subject}" if self.subject else ""
        return f"{self.code.value}@{self.t_hours:g}{tail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "code": self.code.value,
            "urgency": self.urgency.value,
            "recipient": self.recipient.value,
            "t_hours": self.t_hours,
            "detected_hours": self.detected_hours,
            "text": self.text,
            "drivers": [d.to_dict() for d in self.drivers],
        }


@dataclass(frozen=True, slots=True)
class Criterion:
    name: str
    met: Tri
    driver: Driver


@dataclass(frozen=True, slots=True)
class Verdict:
    """A composite definition's three-valued answer with one driver per criterion."""

    definition: str
    met: Tri
    criteria: tuple[Criterion, ...]

    @property
    def drivers(self) -> tuple[Driver, ...]:
        return tuple(c.driver for c in self.criteria)

    def to_dict(self) -> dict[str, Any]:
        return {
            "definition": self.definition,
            "met": self.met,
            "criteria": [{"name": c.name, "met": c.met, "driver": c.driver.to_dict()} for c in self.criteria],
        }


@dataclass(frozen=True, slots=True)
class SledaiScore:
    """SLEDAI-2K of one visit. `total` / `clinical` are the shown scores (a lower bound when
    incomplete); `*_possible` add every not-assessed descriptor that could score. `scoring` is each
    descriptor's part in the score: True scores, False does not, None not assessed (could score)."""

    t_hours: float
    index: int | None
    total: int
    clinical: int
    total_possible: int
    clinical_possible: int
    incomplete: bool
    window_days: int
    category: str
    scoring: tuple[tuple[str, Tri], ...]
    drivers: tuple[Driver, ...]

    def scores(self, code: str) -> Tri:
        for name, value in self.scoring:
            if name == code:
                return value
        return False


@dataclass(frozen=True, slots=True)
class RelapseEvent:
    """A flare or relapse (RELAPSE-1…RELAPSE-5, G-9): when, which disease rule, and why."""

    t_hours: float
    detected_hours: float
    disease: str  # "sle", "lupus_nephritis", "myositis", "ssc", "any" (physician-declared)
    rule: str
    driver: Driver


@dataclass(frozen=True, slots=True)
class SleVisit:
    score: SledaiScore
    pga: float | None
    change: str | None  # "flare" / "improvement" / "persistent"; None for the first scored visit
    change_driver: Driver | None
    doris: Verdict
    lldas: Verdict
    drug_free_at_visit: Tri  # DORIS met here on a drug-free regimen (for the landmark outcomes)
    flares: tuple[RelapseEvent, ...]

    @property
    def t_hours(self) -> float:
        return self.score.t_hours

    def to_dict(self) -> dict[str, Any]:
        return {
            "t_hours": self.t_hours,
            "sledai_2k": self.score.total,
            "clinical_sledai": self.score.clinical,
            "sledai_incomplete": self.score.incomplete,
            "sledai_category": self.score.category,
            "window_days": self.score.window_days,
            "sledai_change": self.change,
            "pga": self.pga,
            "doris": self.doris.to_dict(),
            "lldas": self.lldas.to_dict(),
            "drug_free": self.drug_free_at_visit,
            "flares": [f.driver.text for f in self.flares],
        }


@dataclass(frozen=True, slots=True)
class DrugFreeStatus:
    met: Tri
    since_hours: float | None
    except_drugs: tuple[str, ...]  # antimalarials still taken ("drug-free except HCQ")
    drivers: tuple[Driver, ...]


@dataclass(frozen=True, slots=True)
class RenalStatus:
    definition: str
    response: str | None  # "complete" / "partial" / "none"; None when it cannot be decided
    t_hours: float | None
    upcr_mg_mg: float | None
    egfr_mL_min: float | None
    drivers: tuple[Driver, ...]


@dataclass(frozen=True, slots=True)
class SerologyStatus:
    reactivation: Tri  # None for a non-lupus course without post-infusion anti-dsDNA or complement
    events: tuple[tuple[str, float, float, Driver], ...]  # (track, first sample t, second sample t, driver)
    drivers: tuple[Driver, ...]


@dataclass(frozen=True, slots=True)
class BCellStatus:
    aplasia_documented_hours: float | None
    reconstitution_hours: float | None
    reconstitution_detected_hours: float | None
    aplasia_now: Tri
    drivers: tuple[Driver, ...]


@dataclass(frozen=True, slots=True)
class TisStatus:
    t_hours: float
    tis: float | None
    response: str | None  # "major" / "moderate" / "minimal" / "none"
    juvenile: bool
    drivers: tuple[Driver, ...]


@dataclass(frozen=True, slots=True)
class SscStatus:
    t_hours: float
    mrss: int | None
    eustar_ai: float | None
    eustar_active: Tri
    progression: Tri
    drivers: tuple[Driver, ...]


@dataclass(frozen=True, slots=True)
class ProphylaxisStatus:
    """`task`: the stop criteria are met and the regimen (when recorded) holds prophylaxis to stop."""

    stop_criteria_met_hours: float | None
    task: bool
    stop_driver: Driver | None
    stopped_early: tuple[Driver, ...]

    @property
    def drivers(self) -> tuple[Driver, ...]:
        return ((self.stop_driver,) if self.stop_driver else ()) + self.stopped_early


@dataclass(frozen=True, slots=True)
class MonitoringReminder:
    """A check that falls due (BCELL-6, INF-11): `due_hours` None = nothing is due any more."""

    code: FindingCode
    due_hours: float | None
    recipient: Recipient
    text: str
    drivers: tuple[Driver, ...]
    subject: str = ""  # which of several reminders of one code (revaccination: titres / inactivated / live)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code.value,
            "subject": self.subject,
            "due_hours": self.due_hours,
            "recipient": self.recipient.value,
            "text": self.text,
            "drivers": [d.to_dict() for d in self.drivers],
        }


@dataclass(frozen=True, slots=True)
class FollowupResult:
    rule_set: str
    group: str
    settings: dict[str, Any]
    last_hours: float
    sle_visits: tuple[SleVisit, ...]
    drug_free: DrugFreeStatus | None
    doris_since_hours: float | None
    doris_sustained: bool | None
    renal: RenalStatus | None
    ln_flare: Tri
    serology: SerologyStatus
    b_cells: BCellStatus
    tis: TisStatus | None
    ssc: SscStatus | None
    relapses: tuple[RelapseEvent, ...]
    prophylaxis: ProphylaxisStatus
    findings: tuple[FollowupFinding, ...] = field(default=())
    reminders: tuple[MonitoringReminder, ...] = field(default=())  # as of the evaluation time
    reminders_as_of_hours: float | None = None

    @property
    def last_sle_visit(self) -> SleVisit | None:
        return self.sle_visits[-1] if self.sle_visits else None

    @property
    def relapse_hours(self) -> float | None:
        return min((r.t_hours for r in self.relapses), default=None)

    def case_output(self) -> dict[str, Any]:
        """The case-file `followup` object (CASE-8)."""
        v = self.last_sle_visit
        df = self.drug_free
        return {
            "sledai_2k": v.score.total if v else None,
            "clinical_sledai": v.score.clinical if v else None,
            "sledai_incomplete": v.score.incomplete if v else None,
            "sledai_category": v.score.category if v else None,
            "sledai_change": v.change if v else None,
            "pga": v.pga if v else None,
            "doris": v.doris.met if v else None,
            "lldas": v.lldas.met if v else None,
            "drug_free": df.met if df else None,
            "drug_free_except": list(df.except_drugs) if df and df.met else [],
            "drug_free_since_hours": df.since_hours if df else None,
            "doris_since_hours": self.doris_since_hours,
            "doris_sustained_6_months": self.doris_sustained,
            "renal_response": self.renal.response if self.renal else None,
            "ln_flare": self.ln_flare,
            "serology_reactivation": self.serology.reactivation,
            "b_cell_aplasia": self.b_cells.aplasia_now,
            "b_cell_reconstitution_hours": self.b_cells.reconstitution_hours,
            "tis": self.tis.tis if self.tis else None,
            "tis_response": self.tis.response if self.tis else None,
            "eustar_ai": self.ssc.eustar_ai if self.ssc else None,
            "eustar_active": self.ssc.eustar_active if self.ssc else None,
            "ssc_progression": self.ssc.progression if self.ssc else None,
            "relapse": bool(self.relapses),
            "relapse_hours": self.relapse_hours,
            "indication_group": self.group,
            "findings": [
                {"code": f.code.value, "urgency": f.urgency.value, "t_hours": f.t_hours, "text": f.text}
                for f in self.findings
            ],
            "reminders": [
                {
                    "code": r.code.value,
                    "subject": r.subject,
                    "due_hours": r.due_hours,
                    "due": r.due_hours is not None
                    and self.reminders_as_of_hours is not None
                    and r.due_hours <= self.reminders_as_of_hours,
                    "recipient": r.recipient.value,
                    "text": r.text,
                }
                for r in self.reminders
            ],
            "reminders_as_of_hours": self.reminders_as_of_hours,
            "drivers": self.driver_texts(),
            "rule_set": self.rule_set,
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything, for the API and the timeline: the case-file object plus every SLE visit with
        its criteria, the findings in full, and the settings that produced the result."""
        out = self.case_output()
        out["visits"] = [v.to_dict() for v in self.sle_visits]
        out["findings"] = [f.to_dict() for f in self.findings]
        out["relapses"] = [
            {"t_hours": r.t_hours, "detected_hours": r.detected_hours, "disease": r.disease, "rule": r.rule}
            for r in self.relapses
        ]
        out["settings"] = dict(self.settings)
        out["reminders"] = [r.to_dict() for r in self.reminders]
        return out

    def driver_texts(self) -> dict[str, list[str]]:
        v = self.last_sle_visit
        out: dict[str, list[str]] = {}
        if v is not None:
            out["sledai"] = [d.text for d in v.score.drivers] + (
                [v.change_driver.text] if v.change_driver else []
            )
            out["doris"] = [d.text for d in v.doris.drivers]
            out["lldas"] = [d.text for d in v.lldas.drivers]
        if self.drug_free is not None:
            out["drug_free"] = [d.text for d in self.drug_free.drivers]
        if self.renal is not None:
            out["renal"] = [d.text for d in self.renal.drivers]
        out["serology"] = [d.text for d in self.serology.drivers]
        out["b_cells"] = [d.text for d in self.b_cells.drivers]
        if self.tis is not None:
            out["tis"] = [d.text for d in self.tis.drivers]
        if self.ssc is not None:
            out["ssc"] = [d.text for d in self.ssc.drivers]
        out["relapse"] = [r.driver.text for r in self.relapses]
        out["prophylaxis"] = [d.text for d in self.prophylaxis.drivers]
        return out
