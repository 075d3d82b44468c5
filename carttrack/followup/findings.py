"""Follow-up findings the alerting layer turns into alerts and tasks (ALERT-13; G-1, G-6,
G-7, G-9):
- flare or relapse (any disease) -> urgent to the treating physicians, with what changed (RELAPSE-5);
- serological re-activation -> routine to the treating physicians ("review for flare", SERO-3);
- loss of B-cell aplasia in B-ALL -> urgent; B-cell reconstitution otherwise -> informational (BCELL-5);
- prophylaxis stop criteria met (BCELL-7: CD4 > 200 /µL and ≥ 12 months) -> a task; stopped before ->
  routine;
- a visit undocumented at the end of its window -> routine, a task for the coordinator (VISIT-3);
- an IgG check (BCELL-6) or a CMV PCR (INF-11) that has fallen due -> a task for the coordinator;
  a revaccination prompt (BCELL-8, G-8) -> a task for the treating physicians.
One finding per relapse date (the rules met that day are its drivers).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .results import (
    BCellStatus,
    FindingCode,
    FollowupFinding,
    MonitoringReminder,
    ProphylaxisStatus,
    Recipient,
    RelapseEvent,
    SerologyStatus,
    Urgency,
)
from .settings import FollowupSettings
from .visits import VisitState, VisitStatus
from .wording import day


def relapse_findings(relapses: Sequence[RelapseEvent]) -> list[FollowupFinding]:
    by_time: dict[float, list[RelapseEvent]] = {}
    for r in relapses:
        by_time.setdefault(r.t_hours, []).append(r)
    out: list[FollowupFinding] = []
    for t, events in sorted(by_time.items()):
        rules = ", ".join(dict.fromkeys(f"{e.rule} ({e.disease.replace('_', ' ')})" for e in events))
        out.append(
            FollowupFinding(
                FindingCode.RELAPSE,
                Urgency.URGENT,
                Recipient.TREATING_PHYSICIANS,
                t,
                max(e.detected_hours for e in events),
                f"flare / relapse {day(t)}: {rules} — review now; a drug-free remission ends here",
                tuple(e.driver for e in events),
            )
        )
    return out


def serology_findings(serology: SerologyStatus) -> list[FollowupFinding]:
    return [
        FollowupFinding(
            FindingCode.SEROLOGICAL_REACTIVATION,
            Urgency.ROUTINE,
            Recipient.TREATING_PHYSICIANS,
            first,
            second,
            f"serological re-activation ({track}) {day(first)}: review for flare",
            (driver,),
            subject=track,
        )
        for track, first, second, driver in serology.events
    ]


def bcell_findings(b: BCellStatus, *, b_all: bool, settings: FollowupSettings) -> list[FollowupFinding]:
    if b.reconstitution_hours is None or b.reconstitution_detected_hours is None:
        return []
    if b_all and settings.b_all_aplasia_loss_urgent:
        return [
            FollowupFinding(
                FindingCode.B_CELL_APLASIA_LOST,
                Urgency.URGENT,
                Recipient.TREATING_PHYSICIANS,
                b.reconstitution_hours,
                b.reconstitution_detected_hours,
                f"loss of B-cell aplasia in B-ALL {day(b.reconstitution_hours)}: CAR-T persistence may be"
                " lost — assess for CD19+ relapse",
                b.drivers,
            )
        ]
    return [
        FollowupFinding(
            FindingCode.B_CELL_RECONSTITUTION,
            Urgency.INFO,
            Recipient.TREATING_PHYSICIANS,
            b.reconstitution_hours,
            b.reconstitution_detected_hours,
            f"B cells back {day(b.reconstitution_hours)} (expected after CD19 CAR-T; not a relapse)",
            b.drivers,
        )
    ]


def prophylaxis_findings(p: ProphylaxisStatus) -> list[FollowupFinding]:
    out: list[FollowupFinding] = []
    if p.task and p.stop_driver is not None and p.stop_criteria_met_hours is not None:
        t = p.stop_criteria_met_hours
        d = p.stop_driver
        out.append(
            FollowupFinding(
                FindingCode.PROPHYLAXIS_STOP_CRITERIA_MET,
                Urgency.TASK,
                Recipient.TREATING_PHYSICIANS,
                t,
                t,
                d.text,
                (d,),
            )
        )
    for d in p.stopped_early:
        t = d.t_hours if d.t_hours is not None else 0.0
        out.append(
            FollowupFinding(
                FindingCode.PROPHYLAXIS_STOPPED_EARLY,
                Urgency.ROUTINE,
                Recipient.TREATING_PHYSICIANS,
                t,
                t,
                d.text,
                (d,),
            )
        )
    return out


def visit_findings(schedule: Iterable[VisitStatus]) -> list[FollowupFinding]:
    return [
        FollowupFinding(
            FindingCode.VISIT_OVERDUE,
            Urgency.ROUTINE,
            Recipient.COORDINATOR,
            v.spec.closes_hours,
            v.spec.closes_hours,
            f"{v.spec.label} visit not documented by the end of its window ({day(v.spec.closes_hours)})",
            (),
            subject=v.spec.code,
        )
        for v in schedule
        if v.state is VisitState.OVERDUE
    ]


def reminder_findings(reminders: Iterable[MonitoringReminder], as_of_hours: float) -> list[FollowupFinding]:
    """The reminders due by `as_of_hours`, each a task keyed by its due time (a newer one replaces it)."""
    return [
        FollowupFinding(
            r.code, Urgency.TASK, r.recipient, r.due_hours, r.due_hours, r.text, r.drivers, subject=r.subject
        )
        for r in reminders
        if r.due_hours is not None and r.due_hours <= as_of_hours
    ]
