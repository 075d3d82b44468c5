"""Monitoring reminders of follow-up: when a check or a vaccination is due (BCELL-6, INF-11,
BCELL-8). Each is a task.

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

BCELL-8 / G-8 [Schett interview]: after CD19 products long-lived plasma cells survive and earlier
vaccine titres persist -> titre-guided prompts (project reading: one prompt at month 6, when inactivated
vaccines may start, INF-12); after BCMA or CD19×BCMA products the oncology schedule: inactivated
vaccines from month 6, live vaccines not before year 2 and only off immunosuppression (a
glucocorticoid, immunosuppressant or biologic in the medication list in force; without a recorded
list the live-vaccine prompt waits). These prompts go to the treating physicians.

A reminder is due at `due_hours` when that time has come (`as_of_hours`); `due_hours` None means
nothing more is due (monitoring ended, or the condition does not hold).
"""

from __future__ import annotations

from ..results import Driver
from .course import FollowupCourse
from .regimen import regimen_at
from .results import FindingCode, MonitoringReminder, Recipient
from .steroids import DrugClass
from .wording import HOURS_PER_DAY, HOURS_PER_MONTH, HOURS_PER_YEAR, day, num

IGG_FIRST_CHECK_HOURS = 28 * HOURS_PER_DAY  # BCELL-6: IgG at day 28 …
IGG_INTERVAL_HOURS = 3 * HOURS_PER_MONTH  # … then every 3 months …
IGG_STOP_ABOVE_MG_DL = 400.0  # … until above 400 mg/dL …
IGG_STOP_CHECKS = 2  # … on two (consecutive) checks
IGG_EARLY_HOURS = 7 * HOURS_PER_DAY  # the day-28 check may be taken from day 21

CMV_STEROID_DAYS = 5.0  # INF-11: 5 days or more of corticosteroids …
CMV_INTERVAL_HOURS = 7 * HOURS_PER_DAY  # … CMV PCR weekly

REVACCINATION_INACTIVATED_HOURS = 6 * HOURS_PER_MONTH  # G-8: inactivated vaccines from month 6
REVACCINATION_LIVE_HOURS = 2 * HOURS_PER_YEAR  # G-8: live vaccines not before year 2 …
IMMUNOSUPPRESSION = frozenset(  # … and only off immunosuppression
    {DrugClass.GLUCOCORTICOID, DrugClass.IMMUNOSUPPRESSANT, DrugClass.BIOLOGIC}
)


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


def _on_immunosuppression(course: FollowupCourse, t_hours: float) -> tuple[bool | None, Driver | None]:
    """G-8: live vaccines only off immunosuppression — a glucocorticoid, immunosuppressant or biologic
    in the regimen in force; None when no medication list is recorded."""
    regimen = regimen_at(course.regimens, t_hours)
    if regimen is None:
        return None, None
    taking = [d.label for d in regimen.drugs if d.drug_class in IMMUNOSUPPRESSION]
    text = (
        f"on {', '.join(taking)} (recorded {day(regimen.t_hours)})"
        if taking
        else f"no immunosuppression in the list recorded {day(regimen.t_hours)}"
    )
    return bool(taking), Driver("immunosuppression (BCELL-8)", regimen.index, regimen.t_hours, text)


def revaccination_reminders(
    course: FollowupCourse, product_target: str, as_of_hours: float
) -> tuple[MonitoringReminder, ...]:
    """BCELL-8 / G-8 by the product's target antigen: after BCMA or CD19×BCMA products, inactivated
    vaccines from month 6 and live vaccines from year 2 once off immunosuppression; after CD19 products,
    a titre check from month 6 (the earliest inactivated vaccination, INF-12). Other targets: none."""
    target = product_target.upper()
    code, who = FindingCode.REVACCINATION_DUE, Recipient.TREATING_PHYSICIANS
    if "BCMA" in target:
        inactivated = MonitoringReminder(
            code,
            REVACCINATION_INACTIVATED_HOURS,
            who,
            f"revaccination: inactivated vaccines may start ({day(REVACCINATION_INACTIVATED_HOURS)}, month 6;"
            f" oncology schedule after a {product_target} product, G-8)",
            (),
            subject="inactivated",
        )
        on, driver = _on_immunosuppression(course, max(as_of_hours, REVACCINATION_LIVE_HOURS))
        drivers = (driver,) if driver else ()
        if on is False:
            live = MonitoringReminder(
                code,
                REVACCINATION_LIVE_HOURS,
                who,
                "revaccination: live vaccines may be considered"
                f" (from {day(REVACCINATION_LIVE_HOURS)}, year 2, off immunosuppression; G-8):"
                f" {driver.text if driver else ''}",
                drivers,
                subject="live",
            )
        else:
            why = driver.text if driver else "no medication list recorded"
            live = MonitoringReminder(
                code,
                None,
                who,
                f"live vaccines wait: not before year 2 and only off immunosuppression (G-8) — {why}",
                drivers,
                subject="live",
            )
        return (inactivated, live)
    if "CD19" in target:
        return (
            MonitoringReminder(
                code,
                REVACCINATION_INACTIVATED_HOURS,
                who,
                f"revaccination: check vaccine titres and revaccinate only where they are lost"
                f" ({day(REVACCINATION_INACTIVATED_HOURS)}, month 6; after CD19 products long-lived plasma"
                " cells survive and earlier titres persist, G-8)",
                (),
                subject="titres",
            ),
        )
    return ()
