"""Reads of the followup app, scoped to the user (another team's patient is a 404).

The patient's follow-up page evaluates the chosen course through the clinical core as of now (the
core is fast, and the page then shows the drivers of every answer); the trajectories read every
course of the patient in one query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q
from django.http import Http404

import carttrack
from carttrack.followup.course import build_course, ivig_given
from carttrack.followup.groups import IndicationGroup
from carttrack.followup.inputs import MedicationStatus
from carttrack.followup.sle_course import sle_visits
from carttrack.followup.visits import (
    VisitStatus,
    documented_from_observations,
    template_for,
    visit_schedule,
)
from carttrack.followup.wording import HOURS_PER_MONTH, num
from monitoring import grading
from monitoring.models import CloseReason, Infusion, Patient

from . import course_reading, licats
from .models import Finding, PlannedCourse, PlannedCourseStatus, TaskStatus

#: The trajectories on the patient page (OUTCOME-3): lab field or "sledai_2k" -> (label, unit).
TRAJECTORIES: tuple[tuple[str, str, str], ...] = (
    ("cd19_per_uL", "CD19 B cells", "/µL"),
    ("igg_mg_dL", "IgG", "mg/dL"),
    ("sledai_2k", "SLEDAI-2K", ""),
    ("upcr_mg_mg", "UPCR", "mg/mg"),
    ("anti_dsdna_IU_mL", "Anti-dsDNA", "IU/mL"),
    ("c3_mg_dL", "C3", "mg/dL"),
)


@dataclass
class Point:
    course: int  # 1-based course number of the patient
    month: float  # months after that course's infusion
    at: datetime
    value: float


@dataclass
class Trajectory:
    key: str
    label: str
    unit: str
    points: list[Point] = field(default_factory=list)


@dataclass
class DatedVisit:
    status: VisitStatus
    target: datetime
    opens: datetime
    closes: datetime
    documented: datetime | None


@dataclass
class RegimenEntry:
    at: datetime
    drugs: list[str]  # "prednisolone 5 mg/day"
    changes: list[str]  # "started belimumab", "stopped prednisolone", "prednisolone 10 → 5 mg/day"


@dataclass
class IvigDose:
    at: datetime
    dose: str  # "30 g", or "dose not recorded"


@dataclass
class CourseView:
    infusion: Infusion
    number: int
    group: IndicationGroup
    result: carttrack.FollowupResult | None
    visits: list[DatedVisit]
    tasks: list[Finding]
    findings: list[Finding]
    regimens: list[RegimenEntry] = field(default_factory=list)
    plan: PlannedCourse | None = None  # the planned course this infusion started (ELIG-5)
    sledai_visits: list[licats.SledaiVisit] = field(default_factory=list)  # D-5: what may be marked
    ivig_doses: list[IvigDose] = field(default_factory=list)  # one-off IVIG doses given (BCELL-9)


def courses_of(patient: Patient) -> list[Infusion]:
    """The patient's courses, first infusion first (VISIT-1)."""
    return list(
        Infusion.objects.filter(patient=patient)
        .select_related("product", "care_team", "patient")
        .order_by("infused_at", "id")
    )


def group_of(infusion: Infusion) -> IndicationGroup:
    course = build_course(
        carttrack.parse_patient(grading.patient_dict(infusion)), [], grading.settings_for(infusion)
    )
    return course.group


def course_view(
    *, patient: Patient, infusion_id: int | None, now: datetime
) -> tuple[list[Infusion], CourseView | None]:
    courses = courses_of(patient)
    if not courses:
        return courses, None
    if infusion_id is None:
        chosen = courses[-1]
    else:
        chosen = next((c for c in courses if c.pk == infusion_id), None)
        if chosen is None:
            raise Http404("No such course")
    rows = course_reading.current_rows([chosen.pk])[chosen.pk]
    version = course_reading.template_version_of(chosen)
    result = course_reading.evaluate(chosen, rows, as_of=now, template_version=version)
    group = IndicationGroup(result.group) if result else group_of(chosen)
    template = template_for(group, version or course_reading.followup_settings(None).visit_template_version)
    parsed = course_reading.parsed_observations(chosen, rows)
    follow_up = grading.follow_up_dict(chosen) or {}
    ended = follow_up.get("death_hours", follow_up.get("next_therapy_hours"))
    schedule = visit_schedule(
        template,
        as_of_hours=chosen.hours_after(now),
        documented=documented_from_observations(template, parsed),
        ended_hours=ended,
    )
    at = chosen.infused_at
    visits = [
        DatedVisit(
            s,
            at + timedelta(hours=s.spec.target_hours),
            at + timedelta(hours=s.spec.opens_hours),
            at + timedelta(hours=s.spec.closes_hours),
            at + timedelta(hours=s.documented_hours) if s.documented_hours is not None else None,
        )
        for s in schedule
        if s.spec.opens_hours <= chosen.hours_after(now) + 400 * 24 or s.documented_hours is not None
    ]
    findings = list(Finding.objects.filter(infusion=chosen).select_related("alert").order_by("t_hours", "id"))
    view = CourseView(
        infusion=chosen,
        number=courses.index(chosen) + 1,
        group=group,
        result=result,
        visits=visits,
        tasks=[f for f in findings if f.task_status == TaskStatus.OPEN],
        findings=findings,
        regimens=regimen_history(chosen, parsed),
        plan=PlannedCourse.objects.filter(infusion=chosen)
        .select_related("given_by", "started_by", "override_by")
        .first(),
        sledai_visits=licats.sledai_visits(chosen, parsed),
        ivig_doses=ivig_doses(chosen, parsed),
    )
    return courses, view


def ivig_doses(infusion: Infusion, parsed: list) -> list[IvigDose]:
    """The IVIG doses given in the course (``medication`` of drug ``ivig``; BCELL-9), in grams."""
    return [
        IvigDose(
            infusion.infused_at + timedelta(hours=obs.t_hours),
            f"{num(round(obs.dose_mg / 1000, 3))} g" if obs.dose_mg is not None else "dose not recorded",
        )
        for obs in ivig_given(parsed)
    ]


def regimen_history(infusion: Infusion, parsed: list) -> list[RegimenEntry]:
    """Each recorded regimen with what changed since the one before (stop, start, dose change)."""
    out: list[RegimenEntry] = []
    before: dict[str, str] = {}
    for obs in parsed:
        if not isinstance(obs, MedicationStatus):
            continue
        now = {d.label: d.dose_text for d in obs.drugs}
        changes = [f"started {name}" for name in now if name not in before]
        changes += [f"stopped {name}" for name in before if name not in now]
        changes += [
            f"{name} {before[name]} → {dose}"
            for name, dose in now.items()
            if name in before and before[name] != dose
        ]
        at = infusion.infused_at + timedelta(hours=obs.t_hours)
        out.append(RegimenEntry(at, [f"{n} {d}" for n, d in now.items()] or ["no treatment"], changes))
        before = now
    return out


def trajectories(*, patient: Patient, courses: list[Infusion]) -> list[Trajectory]:
    """CD19, IgG, SLEDAI-2K, UPCR, anti-dsDNA and C3 across months and courses (OUTCOME-3)."""
    rows = course_reading.current_rows([c.pk for c in courses])
    out = {key: Trajectory(key, text, unit) for key, text, unit in TRAJECTORIES}
    for number, infusion in enumerate(courses, start=1):
        parsed = course_reading.parsed_observations(infusion, rows[infusion.pk])
        for obs in parsed:
            if isinstance(obs, carttrack.Lab):
                for key in out:
                    value = getattr(obs, key, None)
                    if value is not None:
                        out[key].points.append(_point(infusion, number, obs.t_hours, value))
        course = build_course(
            carttrack.parse_patient(grading.patient_dict(infusion)), parsed, grading.settings_for(infusion)
        )
        for visit in sle_visits(course, course_reading.followup_settings(None)):
            out["sledai_2k"].points.append(_point(infusion, number, visit.t_hours, visit.score.total))
    return [t for t in out.values() if t.points]


def _point(infusion: Infusion, number: int, t_hours: float, value: float) -> Point:
    return Point(number, t_hours / HOURS_PER_MONTH, infusion.infused_at + timedelta(hours=t_hours), value)


def open_tasks(*, user) -> list[Finding]:
    """The open follow-up tasks of the user's care teams (coordinators' list)."""
    return list(
        Finding.objects.filter(
            task_status=TaskStatus.OPEN, infusion__patient__in=Patient.objects.visible_to(user)
        )
        .select_related("infusion__patient", "infusion__product", "care_team")
        .order_by("first_seen_at", "id")
    )


def followed_courses(*, user) -> list[Infusion]:
    """The latest followed course of each patient of the user's teams: one with a follow-up result
    or whose acute weeks closed as complete (the follow-up list a rheumatologist starts from)."""
    courses = (
        Infusion.objects.visible_to(user)
        .filter(Q(followup_evaluations__isnull=False) | Q(close_reason=CloseReason.MONITORING_COMPLETE))
        .select_related("patient", "product", "care_team")
        .distinct()
        .order_by("patient__family_name", "patient__given_name", "patient_id", "-infused_at")
    )
    latest: dict[int, Infusion] = {}
    for course in courses:
        latest.setdefault(course.patient_id, course)
    return list(latest.values())


def planned_courses(*, user) -> list[PlannedCourse]:
    return list(
        PlannedCourse.objects.visible_to(user)
        .filter(status=PlannedCourseStatus.PLANNED)
        .select_related("patient", "care_team")
        .order_by("planned_leukapheresis_at", "id")
    )


def planned_course(*, patient: Patient) -> PlannedCourse | None:
    return PlannedCourse.objects.filter(patient=patient, status=PlannedCourseStatus.PLANNED).first()
