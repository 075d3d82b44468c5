"""Monitoring reminders of follow-up: when a check is due (BCELL-6, INF-11). Each is a task.

BCELL-6 [ASH-SAP] Table 4: IgG at day 28, then every 3 months until it is above 400 mg/dL on two
checks. Project reading: the two checks are consecutive (a value ≤ 400 between them starts the count
again); checks count from day 21 (a week before the first is due), and the next check is due 3 months
after the last one. The reminder is for the coordinator.

INF-11 [Stanford CAR19 table]: CMV PCR weekly while a patient has had 5 days or more of
corticosteroids. Project reading: "on corticosteroids" is a glucocorticoid in the follow-up medication
list (STEROID-2) without a break; the first PCR is due on the 5th day of the run, then every 7 days
while the run lasts; only the latest is open (the next week's replaces it). No CMV PCR result is
recorded in CAR-T Track, so the task is closed by the person who sent it. The reminder is for the
coordinator, who arranges it with the treating team.

A reminder is due at `due_hours` when that time has come (`as_of_hours`); `due_hours` None means
nothing more is due (monitoring ended, or the condition does not hold).
"""

from __future__ import annotations

from ..results import Driver
from .course import FollowupCourse
from .results import FindingCode, MonitoringReminder, Recipient
from .steroids import DrugClass
from .wording import HOURS_PER_DAY, HOURS_PER_MONTH, day, num

IGG_FIRST_CHECK_HOURS = 28 * HOURS_PER_DAY  # BCELL-6: IgG at day 28 …
IGG_INTERVAL_HOURS = 3 * HOURS_PER_MONTH  # … then every 3 months …
IGG_STOP_ABOVE_MG_DL = 400.0  # … until above 400 mg/dL …
IGG_STOP_CHECKS = 2  # … on two (consecutive) checks
IGG_EARLY_HOURS = 7 * HOURS_PER_DAY  # the day-28 check may be taken from day 21

CMV_STEROID_DAYS = 5.0  # INF-11: 5 days or more of corticosteroids …
CMV_INTERVAL_HOURS = 7 * HOURS_PER_DAY  # … CMV PCR weekly


def igg_reminder(course: FollowupCourse) -> MonitoringReminder:
    """BCELL-6: when the next IgG check is due, or None once two consecutive checks were > 400."""
    due = IGG_FIRST_CHECK_HOURS
    above_in_row = 0
    drivers: list[Driver] = []
    for t, value, index in course.series("igg_mg_dL"):
        if t < IGG_FIRST_CHECK_HOURS - IGG_EARLY_HOURS:
            continue  # the baseline and the toxicity weeks are not follow-up checks
        due = t + IGG_INTERVAL_HOURS
        above_in_row = above_in_row + 1 if value > IGG_STOP_ABOVE_MG_DL else 0
        drivers.append(Driver("IgG check (BCELL-6)", index, t, f"IgG {num(value)} mg/dL {day(t)}"))
        if above_in_row >= IGG_STOP_CHECKS:
            text = (
                f"IgG monitoring complete: above {num(IGG_STOP_ABOVE_MG_DL)} mg/dL on"
                f" {IGG_STOP_CHECKS} checks in a row (the last {day(t)})"
            )
            return MonitoringReminder(
                FindingCode.IGG_CHECK_DUE, None, Recipient.COORDINATOR, text, tuple(drivers[-2:])
            )
    last = f"; the last IgG {drivers[-1].text.removeprefix('IgG ')}" if drivers else ""
    text = (
        f"IgG check due {day(due)} (BCELL-6: day 28, then every 3 months until above"
        f" {num(IGG_STOP_ABOVE_MG_DL)} mg/dL on {IGG_STOP_CHECKS} checks){last}"
    )
    return MonitoringReminder(
        FindingCode.IGG_CHECK_DUE, due, Recipient.COORDINATOR, text, tuple(drivers[-1:])
    )


def _steroid_run_start(course: FollowupCourse, as_of_hours: float) -> tuple[float, Driver] | None:
    """The start of the unbroken run of glucocorticoids in force at `as_of_hours`, if any."""
    start: tuple[float, Driver] | None = None
    for r in course.regimens:
        if r.t_hours > as_of_hours:
            break
        steroids = [d for d in r.drugs if d.drug_class is DrugClass.GLUCOCORTICOID]
        if not steroids:
            start = None
        elif start is None:
            names = ", ".join(d.label for d in steroids)
            start = (
                r.t_hours,
                Driver("corticosteroids (INF-11)", r.index, r.t_hours, f"{names} from {day(r.t_hours)}"),
            )
    return start


def cmv_reminder(course: FollowupCourse, as_of_hours: float) -> MonitoringReminder:
    """INF-11: the CMV PCR due this week while corticosteroids have run ≥ 5 days (before that, the
    first one if they continue); due None without corticosteroids."""
    run = _steroid_run_start(course, as_of_hours)
    first = None if run is None else run[0] + CMV_STEROID_DAYS * HOURS_PER_DAY
    if run is None or first is None:
        text = "no CMV PCR due: no corticosteroids (INF-11: weekly while on them for 5 days or more)"
        return MonitoringReminder(FindingCode.CMV_PCR_DUE, None, Recipient.COORDINATOR, text, ())
    if as_of_hours < first:
        text = f"CMV PCR due {day(first)} if corticosteroids continue (INF-11: weekly from the 5th day)"
        return MonitoringReminder(FindingCode.CMV_PCR_DUE, first, Recipient.COORDINATOR, text, (run[1],))
    weeks = int((as_of_hours - first) // CMV_INTERVAL_HOURS)
    due = first + weeks * CMV_INTERVAL_HOURS
    text = (
        f"CMV PCR due {day(due)}: corticosteroids for {num(round((due - run[0]) / HOURS_PER_DAY, 1))} days"
        " (INF-11: weekly while on corticosteroids for 5 days or more)"
    )
    return MonitoringReminder(FindingCode.CMV_PCR_DUE, due, Recipient.COORDINATOR, text, (run[1],))
