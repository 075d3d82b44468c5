"""Monitoring reminders of follow-up: when a check or a vaccination is due (BCELL-6, INF-11,
INF-12, BCELL-8). Each is a task.

BCELL-6 [ASH-SAP] Table 4: IgG at day 28, then every 3 months until it is above 400 mg/dL on two
checks. Project reading: the two checks are consecutive (a value ≤ 400 between them starts the count
again); checks count from day 21 (a week before the first is due), and the next check is due 3 months
after the last one. IVIG (BCELL-9): an IgG measured within 3 months after an IVIG dose reflects the
infusion, so it is a check but never counts as "above 400" (it starts the count again); while IVIG is
being given (a dose within 3 months before the last check, or after it) the next check is due 4 weeks
after the last ([ASH-SAP]: every 4 weeks while replacing). Immunoglobulin is an IVIG dose given
(`medication` ivig) or IVIG / SCIG in the follow-up medication list (counted as given every day the
list holds it). The reminder is for the coordinator.

INF-11 [Stanford CAR19 table]: CMV PCR weekly while a patient has had 5 days or more of
corticosteroids. Project reading: "on corticosteroids" is a glucocorticoid in the follow-up medication
list (STEROID-2) without a break, whatever its dose (the sources give no dose threshold); the first PCR
is due on the 5th day of the run, then every 7 days while the run lasts; only the latest is open (the
next week's replaces it). No CMV PCR result is recorded in CAR-T Track, so the task is closed by the
person who sent it. The reminder is for the coordinator, who arranges it with the treating team.

INF-12 [Blood How I treat]; [ASH-SAP] Table 4: influenza and COVID-19 vaccines from 3 months after
the infusion (one prompt at month 3, after every product); inactivated vaccines from month 6; live
vaccines from 1 year at the earliest. It combines with BCELL-8 / G-8 without a second prompt for the
same vaccines:
- after BCMA or CD19×BCMA products G-8's oncology schedule holds: inactivated vaccines from month 6,
  live vaccines not before year 2 (later than INF-12's year 1, so year 2) and only off
  immunosuppression (a glucocorticoid, immunosuppressant or biologic in the medication list in force;
  without a recorded list the live-vaccine prompt waits);
- after CD19 products long-lived plasma cells survive and earlier vaccine titres persist [Schett
  interview] -> one titre-guided prompt at month 6 (the earliest inactivated vaccination), which says
  that live vaccines come from year 1 at the earliest;
- after a product of any other (or unknown) target INF-12 alone: inactivated vaccines at month 6, live
  vaccines from year 1, once off immunosuppression as in G-8 (project reading, the conservative one).
These prompts go to the treating physicians.

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

IVIG_REFLECTED_HOURS = 3 * HOURS_PER_MONTH  # BCELL-9: an IgG within 3 months of IVIG reflects it
IVIG_CHECK_INTERVAL_HOURS = 28 * HOURS_PER_DAY  # BCELL-9: IgG every 4 weeks while replacing

INFLUENZA_COVID_HOURS = 3 * HOURS_PER_MONTH  # INF-12: influenza and COVID-19 vaccines from month 3
REVACCINATION_INACTIVATED_HOURS = 6 * HOURS_PER_MONTH  # INF-12, G-8: inactivated vaccines from month 6
LIVE_VACCINES_EARLIEST_HOURS = 1 * HOURS_PER_YEAR  # INF-12: live vaccines from 1 year at the earliest
REVACCINATION_LIVE_HOURS = 2 * HOURS_PER_YEAR  # G-8: live vaccines not before year 2 (BCMA) …
IMMUNOSUPPRESSION = frozenset(  # … and only off immunosuppression
    {DrugClass.GLUCOCORTICOID, DrugClass.IMMUNOSUPPRESSANT, DrugClass.BIOLOGIC}
)


def _replacement(course: FollowupCourse) -> list[tuple[float, float | None]]:
    """BCELL-9: when immunoglobulin was given, as (from, to) periods: each IVIG dose given (`to` =
    its time) and each run of the follow-up medication list holding IVIG or SCIG (`to` = the list
    that dropped it, None while it holds)."""
    periods: list[tuple[float, float | None]] = [(m.t_hours, m.t_hours) for m in course.ivig]
    start: float | None = None
    for r in course.regimens:
        holds = any(d.drug_class is DrugClass.SUPPORTIVE for d in r.drugs)
        if holds and start is None:
            start = r.t_hours
        elif not holds and start is not None:
            periods.append((start, r.t_hours))
            start = None
    if start is not None:
        periods.append((start, None))
    return periods


def _reflects_ivig(periods: list[tuple[float, float | None]], t_hours: float) -> float | None:
    """BCELL-9: the last immunoglobulin an IgG at `t_hours` still reflects (given at or before it,
    within 3 months), as the time of that dose or of that list; None when it reflects none."""
    times = [
        t_hours if end is None or end > t_hours else end
        for begin, end in periods
        if begin <= t_hours and (end is None or t_hours - end < IVIG_REFLECTED_HOURS)
    ]
    return max(times) if times else None


def _replacing(periods: list[tuple[float, float | None]], last_check_hours: float) -> bool:
    """BCELL-9: immunoglobulin is being given — within 3 months before the last check, or after it."""
    return any(end is None or end > last_check_hours - IVIG_REFLECTED_HOURS for _b, end in periods)


def _ivig_note(ivig: float | None, t_hours: float) -> str:
    if ivig is None:
        return ""
    if ivig == t_hours:
        return " (on immunoglobulin replacement: reflects it, BCELL-9)"
    return f" ({num(round((t_hours - ivig) / HOURS_PER_DAY, 1))} days after IVIG: reflects it, BCELL-9)"


def igg_reminder(course: FollowupCourse) -> MonitoringReminder:
    """BCELL-6: when the next IgG check is due, or None once two consecutive checks were > 400;
    BCELL-9: an IgG that reflects IVIG never counts as above 400, and checks are 4-weekly while
    IVIG is given."""
    due = IGG_FIRST_CHECK_HOURS
    above_in_row = 0
    periods = _replacement(course)
    last_check: float | None = None
    drivers: list[Driver] = []
    for t, value, index in course.series("igg_mg_dL"):
        if t < IGG_FIRST_CHECK_HOURS - IGG_EARLY_HOURS:
            continue  # the baseline and the toxicity weeks are not follow-up checks
        last_check = t
        due = t + (IVIG_CHECK_INTERVAL_HOURS if _replacing(periods, t) else IGG_INTERVAL_HOURS)
        ivig = _reflects_ivig(periods, t)
        counts = value > IGG_STOP_ABOVE_MG_DL and ivig is None
        above_in_row = above_in_row + 1 if counts else 0
        text = f"IgG {num(value)} mg/dL {day(t)}{_ivig_note(ivig, t)}"
        drivers.append(Driver("IgG check (BCELL-6)", index, t, text))
        if above_in_row >= IGG_STOP_CHECKS:
            text = (
                f"IgG monitoring complete: above {num(IGG_STOP_ABOVE_MG_DL)} mg/dL on"
                f" {IGG_STOP_CHECKS} checks in a row (the last {day(t)})"
            )
            return MonitoringReminder(
                FindingCode.IGG_CHECK_DUE, None, Recipient.COORDINATOR, text, tuple(drivers[-2:])
            )
    if periods and (last_check is None or _replacing(periods, last_check)):
        rule = (
            "every 4 weeks while IVIG is given, and an IgG within 3 months of IVIG does not count as"
            f" above {num(IGG_STOP_ABOVE_MG_DL)} mg/dL (BCELL-9)"
        )
    else:
        rule = (
            f"BCELL-6: day 28, then every 3 months until above {num(IGG_STOP_ABOVE_MG_DL)} mg/dL"
            f" on {IGG_STOP_CHECKS} checks"
        )
    last = f"; the last IgG {drivers[-1].text.removeprefix('IgG ')}" if drivers else ""
    text = f"IgG check due {day(due)} ({rule}){last}"
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


def _live_vaccines(
    course: FollowupCourse, from_hours: float, rule: str, as_of_hours: float
) -> MonitoringReminder:
    """Live vaccines from `from_hours`, once off immunosuppression (G-8; INF-12 read the same way)."""
    on, driver = _on_immunosuppression(course, max(as_of_hours, from_hours))
    drivers = (driver,) if driver else ()
    code, who = FindingCode.REVACCINATION_DUE, Recipient.TREATING_PHYSICIANS
    if on is False:
        return MonitoringReminder(
            code,
            from_hours,
            who,
            f"revaccination: live vaccines may be considered (from {day(from_hours)}, {rule}):"
            f" {driver.text if driver else ''}",
            drivers,
            subject="live",
        )
    why = driver.text if driver else "no medication list recorded"
    return MonitoringReminder(
        code,
        None,
        who,
        f"live vaccines wait: not before {day(from_hours)} and only off immunosuppression ({rule}) — {why}",
        drivers,
        subject="live",
    )


def revaccination_reminders(
    course: FollowupCourse, product_target: str, as_of_hours: float
) -> tuple[MonitoringReminder, ...]:
    """INF-12 with BCELL-8 / G-8 by the product's target antigen (one prompt per vaccine group):
    influenza and COVID-19 vaccines from month 3 after every product; after BCMA or CD19×BCMA
    products, inactivated vaccines from month 6 and live vaccines from year 2 once off
    immunosuppression; after CD19 products, a titre check from month 6 (the earliest inactivated
    vaccination) that says live vaccines come from year 1 at the earliest; after any other product,
    inactivated vaccines from month 6 and live vaccines from year 1 once off immunosuppression."""
    target = product_target.upper()
    code, who = FindingCode.REVACCINATION_DUE, Recipient.TREATING_PHYSICIANS
    seasonal = MonitoringReminder(
        code,
        INFLUENZA_COVID_HOURS,
        who,
        f"vaccination: influenza and COVID-19 vaccines may be given from {day(INFLUENZA_COVID_HOURS)}"
        " (month 3 after the infusion, INF-12)",
        (),
        subject="influenza_covid",
    )
    six = day(REVACCINATION_INACTIVATED_HOURS)
    if "BCMA" in target:
        inactivated = MonitoringReminder(
            code,
            REVACCINATION_INACTIVATED_HOURS,
            who,
            f"revaccination: inactivated vaccines may start ({six}, month 6;"
            f" oncology schedule after a {product_target} product, G-8)",
            (),
            subject="inactivated",
        )
        live = _live_vaccines(course, REVACCINATION_LIVE_HOURS, "year 2, G-8", as_of_hours)
        return (seasonal, inactivated, live)
    if "CD19" in target:
        titres = MonitoringReminder(
            code,
            REVACCINATION_INACTIVATED_HOURS,
            who,
            f"revaccination: check vaccine titres and revaccinate only where they are lost ({six}, month 6;"
            " after CD19 products long-lived plasma cells survive and earlier titres persist, G-8);"
            f" live vaccines not before {day(LIVE_VACCINES_EARLIEST_HOURS)} (year 1, INF-12)",
            (),
            subject="titres",
        )
        return (seasonal, titres)
    inactivated = MonitoringReminder(
        code,
        REVACCINATION_INACTIVATED_HOURS,
        who,
        f"revaccination: inactivated vaccines may start ({six}, month 6, INF-12)",
        (),
        subject="inactivated",
    )
    live = _live_vaccines(course, LIVE_VACCINES_EARLIEST_HOURS, "year 1, INF-12", as_of_hours)
    return (seasonal, inactivated, live)
