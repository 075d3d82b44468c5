"""evaluate_followup(): one course's follow-up results (CASE-8) with drivers and findings.

Results are per instrument, as of its last assessment (VISIT-6): SLEDAI-2K, PGA, DORIS and LLDAS
from the last SLEDAI-2K visit with the regimen in force then; renal status from the last UPCR sample;
TIS from the last core set; SSc values from the last SSc assessment. `relapse`, `ln_flare` and
`serology_reactivation` mean "occurred since this course's infusion"; `drug_free` looks at everything
up to the last observation. The result is None when the course has no follow-up data (VISIT-7),
unless the caller follows the course whatever its data (VISIT-8: the site's visit scan).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..observations import Case, Event, FollowUp, Observation, PatientInfo
from ..settings import DEFAULT_SETTINGS, DecisionSettings
from .bcells import bcell_course
from .course import build_course, has_followup_data
from .doris import doris_since
from .findings import (
    bcell_findings,
    prophylaxis_findings,
    relapse_findings,
    reminder_findings,
    serology_findings,
    visit_findings,
)
from .groups import IndicationGroup, product_target
from .myositis import tis_course
from .prophylaxis import prophylaxis_course
from .relapse import all_relapses, declared
from .reminders import cmv_reminder, igg_reminder, revaccination_reminders
from .remission import drug_free
from .renal import RenalBaseline, renal_course
from .results import FollowupResult, MonitoringReminder, RelapseEvent, RenalStatus
from .serology import serology_course
from .settings import DEFAULT_FOLLOWUP_SETTINGS, FollowupSettings
from .sle_course import sle_visits
from .ssc import ssc_course
from .visits import DocumentedVisit, documented_from_observations, template_for, visit_schedule

FOLLOWUP_RULE_SET = "followup-2025/carttrack-1"
_COURSE_END_EVENTS = ("death", "next_therapy")


def evaluate_followup(
    patient: PatientInfo,
    observations: Iterable[Observation],
    *,
    settings: FollowupSettings = DEFAULT_FOLLOWUP_SETTINGS,
    decision_settings: DecisionSettings = DEFAULT_SETTINGS,
    follow_up: FollowUp | None = None,
    visits_as_of_hours: float | None = None,
    documented_visits: Sequence[DocumentedVisit] | None = None,
    renal_baseline: RenalBaseline | None = None,
    product_target: str = "",
    reminders_as_of_hours: float | None = None,
    followed: bool = False,
) -> FollowupResult | None:
    """The follow-up result of one course. With `visits_as_of_hours`, the findings include the visits
    overdue at that time (documented visits: as given, else those the observations document) and,
    while the course has not ended, the IgG checks and CMV PCRs due by then (BCELL-6, INF-11);
    `renal_baseline` is the physician's override of the pre-LD UPCR / eGFR; `product_target` the
    product's target antigen ("CD19", "BCMA", "CD19×BCMA"), which sets the vaccination prompts
    (INF-12, G-8). `reminders_as_of_hours` alone (the case-file command line, CASE-10) computes the
    reminders as of that time without turning them, or overdue visits, into findings. `followed`
    builds the result even without follow-up data (VISIT-8): a course seen only through its toxicity
    weeks still has its visits and its IgG checks."""
    obs = list(observations)
    if not followed and not has_followup_data(obs):
        return None
    course = build_course(patient, obs, decision_settings)
    visits = sle_visits(course, settings)
    renal: RenalStatus | None = None
    ln_events: tuple[RelapseEvent, ...] = ()
    if course.group is IndicationGroup.LUPUS_NEPHRITIS:
        renal, ln_events = renal_course(course, settings, renal_baseline)
    tis, tis_events = tis_course(course.core_set_baseline, course.core_sets, course.group)
    ssc, ssc_events = ssc_course(course.ssc_baseline, course.ssc, settings)
    relapses = all_relapses(
        (f for v in visits for f in v.flares), ln_events, tis_events, ssc_events, declared(course)
    )
    since, sustained = doris_since(visits)
    serology = serology_course(course, settings)
    b_cells = bcell_course(course, settings, decision_settings)
    prophylaxis = prophylaxis_course(course)
    findings = [
        *relapse_findings(relapses),
        *serology_findings(serology),
        *bcell_findings(b_cells, b_all=course.b_all, settings=settings),
        *prophylaxis_findings(prophylaxis),
    ]
    reminders: tuple[MonitoringReminder, ...] = ()
    as_of = visits_as_of_hours if visits_as_of_hours is not None else reminders_as_of_hours
    ended = _course_end(obs, follow_up)
    if as_of is not None and ended is None:
        reminders = (
            igg_reminder(course),
            cmv_reminder(course, as_of),
            *revaccination_reminders(course, product_target, as_of),
        )
    if visits_as_of_hours is not None:
        findings.extend(reminder_findings(reminders, visits_as_of_hours))
        template = template_for(course.group, settings.visit_template_version)
        documented = (
            documented_visits
            if documented_visits is not None
            else documented_from_observations(template, obs)
        )
        schedule = visit_schedule(
            template,
            as_of_hours=visits_as_of_hours,
            documented=documented,
            ended_hours=ended,
        )
        findings.extend(visit_findings(schedule))
    findings.sort(key=lambda f: (f.t_hours, f.code.value, f.subject))
    return FollowupResult(
        rule_set=FOLLOWUP_RULE_SET,
        group=course.group.value,
        settings=settings.to_dict(),
        last_hours=course.last_hours,
        sle_visits=visits,
        drug_free=drug_free(visits, course.regimens, relapses, course.last_hours),
        doris_since_hours=since,
        doris_sustained=sustained,
        renal=renal,
        ln_flare=None if renal is None else bool(ln_events),
        serology=serology,
        b_cells=b_cells,
        tis=tis,
        ssc=ssc,
        relapses=relapses,
        prophylaxis=prophylaxis,
        findings=tuple(findings),
        reminders=reminders,
        reminders_as_of_hours=as_of if reminders else None,
    )


def _course_end(observations: Sequence[Observation], follow_up: FollowUp | None) -> float | None:
    ends = [o.t_hours for o in observations if isinstance(o, Event) and o.event in _COURSE_END_EVENTS]
    if follow_up is not None:
        ends += [t for t in (follow_up.death_hours, follow_up.next_therapy_hours) if t is not None]
    return min(ends) if ends else None


def evaluate_case_followup(
    case: Case,
    settings: FollowupSettings = DEFAULT_FOLLOWUP_SETTINGS,
    decision_settings: DecisionSettings = DEFAULT_SETTINGS,
) -> FollowupResult | None:
    """A case file's follow-up result (CASE-8) with its reminders as of the case's end (CASE-10):
    `follow_up.last_follow_up_hours` when given, else the last observation; the product's target
    antigen is read from `patient.product`."""
    last = case.follow_up.last_follow_up_hours if case.follow_up is not None else None
    if last is None:
        last = max((o.t_hours for o in case.observations), default=None)
    return evaluate_followup(
        case.patient,
        case.observations,
        settings=settings,
        decision_settings=decision_settings,
        follow_up=case.follow_up,
        product_target=product_target(case.patient.product),
        reminders_as_of_hours=last,
    )
