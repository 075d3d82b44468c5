"""Follow-up demo patients for ``manage.py seed_demo``:
lupus, lupus nephritis, myositis and SSc patients followed for 6–24 months, among them one in
sustained drug-free DORIS remission, one whose B cells came back without a flare, one with an LN flare
after a complete renal response and one with a second CAR-T course. Every observation goes through
``monitoring.services.observation_record`` (the results on screen are the clinical core's verdicts).

Idempotent: a patient who already has a course is left as it is.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Role
from carttrack.followup.sledai import SLEDAI_CODES
from carttrack.followup.ssc import MRSS_SITES
from carttrack.followup.wording import HOURS_PER_MONTH
from monitoring import services
from monitoring.models import CloseReason, Indication, Infusion, InfusionStatus, ObservationSource, Patient

NAMESPACE = uuid.UUID("0b8f5a52-3e0e-4a8e-9c52-7d1f0f6a4e21")
RHEUM = "Rheumatology ward (demo)"
PRODUCT = "Academic CD19 CAR-T for SLE (4-1BB)"
VISIT_MONTHS = (2, 3, 6, 9, 12, 18, 24)
Obs = tuple[float, str, dict[str, Any]]  # (hours after infusion, kind, payload)


def sledai(*present: str, pga: float, attributed: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "items": {code: code in present for code in SLEDAI_CODES},
        "pga": pga,
        "attributed_to_lupus": list(attributed),
        "hemolytic_anemia": False,
        "gi_activity": False,
    }


def meds(*drugs: tuple[str, float]) -> dict[str, Any]:
    return {"drugs": [{"drug": d, "mg_per_day": mg} for d, mg in drugs]}


ACTIVE_SLE = sledai("arthritis", "rash", "alopecia", "low_complement", "increased_dna_binding", pga=2.0)
QUIET_SLE = sledai(pga=0.2)
BASELINE_MEDS = meds(("prednisolone", 10), ("mycophenolate_mofetil", 2000), ("hydroxychloroquine", 400))


def acute_weeks() -> list[Obs]:
    """Vitals on days 0–28 (the acute visits) and the day-28 labs with B-cell aplasia."""
    vit = {"temp_c": 36.8, "hr": 78, "sbp": 118, "dbp": 72, "rr": 14, "spo2": 98}
    out: list[Obs] = [(d * 24.0 + (2 if d < 28 else -4), "vitals", vit) for d in (0, 7, 14, 28)]
    out.append((28 * 24.0, "lab", {"cd19_per_uL": 0, "igg_mg_dL": 620}))
    return out


def month(m: float, hours: float = 0.0) -> float:
    return m * HOURS_PER_MONTH + hours


def lupus_visits(until: float, *, cd19: dict[int, float], skip: tuple[int, ...] = ()) -> list[Obs]:
    out: list[Obs] = [(-120.0, "sledai", ACTIVE_SLE), (-120.0, "medication_status", BASELINE_MEDS)]
    out += [
        (
            -120.0,
            "lab",
            {
                "anti_dsdna_IU_mL": 180,
                "anti_dsdna_cutoff_IU_mL": 30,
                "c3_mg_dL": 62,
                "c3_lln_mg_dL": 90,
                "cd19_per_uL": 210,
                "igg_mg_dL": 780,
            },
        )
    ]
    out += acute_weeks()
    for m in VISIT_MONTHS:
        if m > until or m in skip:
            continue
        out.append((month(m), "medication_status", meds() if m >= 3 else meds(("hydroxychloroquine", 400))))
        out.append((month(m), "sledai", QUIET_SLE))
        out.append(
            (
                month(m),
                "lab",
                {
                    "anti_dsdna_IU_mL": 12,
                    "anti_dsdna_cutoff_IU_mL": 30,
                    "c3_mg_dL": 105,
                    "c3_lln_mg_dL": 90,
                    "cd19_per_uL": cd19.get(m, 0),
                    "igg_mg_dL": 650,
                },
            )
        )
    return out


@dataclass
class Course:
    months_ago: float
    observations: list[Obs]
    close: str = CloseReason.MONITORING_COMPLETE
    closed_after_hours: float = 28 * 24.0


@dataclass
class FollowupDemoPatient:
    mrn: str
    given: str
    family: str
    born: date
    indication: str
    story: str
    courses: list[Course]


def _born(years: float) -> date:
    return (timezone.now() - timedelta(days=years * 365.25)).date()


def _ln_course() -> list[Obs]:
    out: list[Obs] = [
        (-120.0, "sledai", sledai("proteinuria", "urinary_casts", "low_complement", pga=1.8)),
        (-120.0, "medication_status", BASELINE_MEDS),
        (-120.0, "lab", {"upcr_mg_mg": 3.0, "egfr_mL_min": 78, "cd19_per_uL": 150}),
    ]
    out += acute_weeks()
    upcr = {2: 1.6, 3: 0.9, 6: 0.3, 9: 0.25, 12: 0.2, 18: 0.8}
    for m, value in upcr.items():
        out.append((month(m), "medication_status", meds()))
        out.append((month(m), "sledai", QUIET_SLE if m < 18 else sledai("proteinuria", pga=1.0)))
        out.append(
            (month(m), "lab", {"upcr_mg_mg": value, "egfr_mL_min": 80, "cd19_per_uL": 0 if m < 9 else 40})
        )
    out.append((month(18, 24 * 8), "lab", {"upcr_mg_mg": 0.9, "egfr_mL_min": 79}))
    return out


def _myositis_course() -> list[Obs]:
    def core(pg: float, pt: float, mmt: float, haq: float, ck: float, ex: float) -> dict[str, Any]:
        return {
            "physician_global": pg,
            "patient_global": pt,
            "mmt8": mmt,
            "haq": haq,
            "enzyme_U_L": ck,
            "extramuscular": ex,
        }

    out: list[Obs] = [
        (-120.0, "myositis_core_set", core(7, 8, 98, 1.9, 4200, 5)),
        (-120.0, "medication_status", meds(("prednisolone", 15), ("methotrexate", 2.5))),
    ]
    out += acute_weeks()
    for m, values in {
        2: core(5, 6, 112, 1.4, 900, 3),
        3: core(3, 4, 128, 0.9, 310, 2),
        6: core(1, 2, 142, 0.4, 160, 0.5),
    }.items():
        out.append((month(m), "myositis_core_set", values))
        out.append((month(m), "medication_status", meds()))
        out.append((month(m), "lab", {"cd19_per_uL": 0, "igg_mg_dL": 700}))
    return out


def _ssc_course() -> list[Obs]:
    def sites(total: int) -> dict[str, int]:
        scores = {s: 0 for s in MRSS_SITES}
        for i in range(total):
            site = MRSS_SITES[i % len(MRSS_SITES)]
            scores[site] = min(3, scores[site] + 1)
        return scores

    def ssc(total: int, fvc: float) -> dict[str, Any]:
        return {
            "mrss_sites": sites(total),
            "delta_skin": False,
            "digital_ulcers": False,
            "tendon_friction_rubs": False,
            "crp_mg_L": 4,
            "dlco_pct_predicted": 72,
            "fvc_pct_predicted": fvc,
        }

    out: list[Obs] = [
        (-120.0, "ssc_assessment", ssc(24, 78)),
        (-120.0, "medication_status", meds(("mycophenolate_mofetil", 2000))),
    ]
    out += acute_weeks()
    for m, (total, fvc) in {2: (21, 79), 3: (18, 81), 6: (14, 83), 9: (12, 84)}.items():
        out.append((month(m), "ssc_assessment", ssc(total, fvc)))
        out.append((month(m), "medication_status", meds()))
        out.append((month(m), "lab", {"cd19_per_uL": 0 if m < 6 else 35}))
    return out


def _relapsing_first_course() -> list[Obs]:
    out = lupus_visits(6, cd19={6: 20})
    flare = sledai("arthritis", "rash", "proteinuria", "low_complement", "increased_dna_binding", pga=2.1)
    out.append((month(9), "sledai", flare))
    out.append((month(9), "lab", {"cd19_per_uL": 80, "anti_dsdna_IU_mL": 140, "anti_dsdna_cutoff_IU_mL": 30}))
    return out


def followup_ward() -> list[FollowupDemoPatient]:
    return [
        FollowupDemoPatient(
            "DEMO-F001",
            "Sofia",
            "Lange",
            _born(29),
            Indication.SLE,
            "SLE, 18 months: sustained drug-free DORIS remission",
            [Course(18.5, lupus_visits(18, cd19={12: 25, 18: 60}))],
        ),
        FollowupDemoPatient(
            "DEMO-F002",
            "Mira",
            "Vogel",
            _born(34),
            Indication.SLE,
            "SLE, 12 months: B cells back from month 6 without a flare; month 9 visit overdue",
            [Course(12.4, lupus_visits(12, cd19={6: 18, 12: 55}, skip=(9,)))],
        ),
        FollowupDemoPatient(
            "DEMO-F003",
            "Lea",
            "Braun",
            _born(26),
            Indication.LUPUS_NEPHRITIS,
            "Lupus nephritis, 19 months: complete renal response, then an LN flare",
            [Course(19.2, _ln_course())],
        ),
        FollowupDemoPatient(
            "DEMO-F004",
            "Jan",
            "Koch",
            _born(47),
            Indication.MYOSITIS,
            "Myositis, 6 months: major TIS response",
            [Course(6.3, _myositis_course())],
        ),
        FollowupDemoPatient(
            "DEMO-F005",
            "Eva",
            "Richter",
            _born(52),
            Indication.SYSTEMIC_SCLEROSIS,
            "Systemic sclerosis, 9 months: mRSS 24 → 12",
            [Course(9.3, _ssc_course())],
        ),
        FollowupDemoPatient(
            "DEMO-F006",
            "Nina",
            "Schulz",
            _born(31),
            Indication.SLE,
            "SLE, second CAR-T course after a flare at month 9 of the first",
            [
                Course(20.0, _relapsing_first_course(), CloseReason.NEXT_THERAPY, month(10)),
                Course(9.2, lupus_visits(9, cd19={6: 0, 9: 12})),
            ],
        ),
    ]


def seed_followup(*, teams: dict, products: dict, users: dict) -> tuple[int, int]:
    """Create the follow-up demo patients; returns (patients created, observations recorded)."""
    team = teams[RHEUM]
    product = products[PRODUCT]
    physician = users[Role.PHYSICIAN]
    created = recorded = 0
    for spec in followup_ward():
        with transaction.atomic():
            patient, _ = Patient.objects.get_or_create(
                mrn=spec.mrn,
                defaults={
                    "given_name": spec.given,
                    "family_name": spec.family,
                    "date_of_birth": spec.born,
                    "sex": "F" if spec.given != "Jan" else "M",
                    "weight_kg": Decimal("64.0"),
                    "indication": spec.indication,
                    "care_team": team,
                },
            )
            if Infusion.objects.filter(patient=patient).exists():
                continue
        created += 1
        for number, course in enumerate(spec.courses):
            recorded += _course(spec, number, course, patient, product, physician)
    return created, recorded


def _course(spec, number: int, course: Course, patient, product, physician) -> int:
    now = timezone.now()
    infused_at = (now - timedelta(hours=course.months_ago * HOURS_PER_MONTH)).replace(second=0, microsecond=0)
    infusion = Infusion.objects.create(
        patient=patient, product=product, care_team=patient.care_team, infused_at=infused_at
    )
    count = 0
    closed = False
    for index, (hours, kind, payload) in enumerate(sorted(course.observations, key=lambda o: o[0])):
        observed_at = infused_at + timedelta(hours=hours)
        if observed_at > now:
            continue
        if (
            not closed
            and hours > course.closed_after_hours
            and course.close == CloseReason.MONITORING_COMPLETE
        ):
            _close(infusion, course)
            closed = True
        _obs, _ev, made = services.observation_record(
            infusion=infusion.pk,
            kind=kind,
            payload=payload,
            observed_at=observed_at,
            recorded_by=physician,
            client_uuid=uuid.uuid5(NAMESPACE, f"{spec.mrn}/{number}/{index}"),
            source=ObservationSource.DEMO,
        )
        count += int(made)
    if not closed:
        _close(infusion, course)
    return count


def _close(infusion: Infusion, course: Course) -> None:
    Infusion.objects.filter(pk=infusion.pk).update(
        status=InfusionStatus.CLOSED,
        close_reason=course.close,
        closed_at=infusion.infused_at + timedelta(hours=course.closed_after_hours),
    )
