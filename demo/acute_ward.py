"""The acute demo ward: 14 patients at different days post-infusion, oncology and SLE/lupus nephritis,
each with the story the demonstration tells (CRS grade 2 treated with tocilizumab, ICANS grade 3, a
child scored with CAPD, prolonged neutropenia) and the observations that tell it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils import timezone

from demo.observation_builders import capd, checks, daily_labs, ice, lab, med, routine, vit
from monitoring.models import Indication


@dataclass
class DemoPatient:
    mrn: str
    given: str
    family: str
    born: date
    sex: str
    weight: str
    indication: str
    team: str
    product: str
    hours_since_infusion: float
    story: str
    observations: Callable[[float], list] = field(default=lambda h: [])
    developmental_delay: bool = False
    #: this morning's routine labs (20 h ago), None for none (e.g. to show overdue labs)
    labs_today: dict | None = field(default_factory=lambda: dict(ROUTINE_LABS))


ROUTINE_LABS = {
    "anc_per_uL": 1200,
    "platelets_10e9_L": 95,
    "hgb_g_dL": 9.8,
    "crp_mg_L": 12,
    "ferritin_ng_mL": 450,
}


def _years_ago(years: float) -> date:
    return (timezone.now() - timedelta(days=round(years * 365.2425))).date()


HAEM, RHEUM = "Haematology ward (demo)", "Rheumatology ward (demo)"


def ward() -> list[DemoPatient]:
    return [
        DemoPatient(
            "DEMO-0001",
            "Peter",
            "Hoffmann",
            _years_ago(62.4),
            "M",
            "62.0",
            Indication.LBCL,
            HAEM,
            "Axicabtagene ciloleucel (axi-cel)",
            3 * 24 + 4,
            "CRS grade 2 (hypotension needing fluids, 2 L O2), treated with tocilizumab",
            lambda h: [
                vit(2),
                ice(4),
                *daily_labs(0, 3, anc_per_uL=1800, crp_mg_L=18, ferritin_ng_mL=640),
                vit(24),
                vit(40, temp=38.6, hr=112),
                med(41, "acetaminophen", 1000),
                vit(
                    52, temp=38.9, hr=124, sbp=86, dbp=50, spo2=91, device="nasal_cannula", flow=2, bolus=True
                ),
                med(53, "tocilizumab", 496),
                ice(54),
                vit(60, temp=37.8, hr=104, sbp=96, dbp=58, spo2=94, device="nasal_cannula", flow=2),
                vit(h - 2, temp=37.4, hr=96, sbp=104, dbp=62, spo2=95, device="nasal_cannula", flow=1),
                ice(h - 3),
            ],
            labs_today={"anc_per_uL": 900, "crp_mg_L": 96, "ferritin_ng_mL": 2400, "fibrinogen_mg_dL": 310},
        ),
        DemoPatient(
            "DEMO-0002",
            "Sabine",
            "Krüger",
            _years_ago(57.9),
            "F",
            "71.5",
            Indication.LBCL,
            HAEM,
            "Axicabtagene ciloleucel (axi-cel)",
            5 * 24 + 6,
            "ICANS grade 3 (ICE 2, awakens to voice) on dexamethasone",
            lambda h: [
                vit(3),
                ice(4),
                vit(30, temp=38.3, hr=108),
                med(31, "acetaminophen", 1000),
                *routine(36, 100, every=8),
                ice(72),
                ice(96, orientation=2, naming=2, writing=0),
                ice(
                    h - 8,
                    orientation=1,
                    naming=1,
                    commands=0,
                    writing=0,
                    attention=0,
                    consciousness="awakens_to_voice",
                ),
                med(h - 7.5, "dexamethasone", 10),
                med(h - 7, "levetiracetam", 750),
                vit(h - 1),
            ],
        ),
        DemoPatient(
            "DEMO-0003",
            "Mia",
            "Schneider",
            _years_ago(7.3),
            "F",
            "23.0",
            Indication.B_ALL,
            HAEM,
            "Tisagenlecleucel (tisa-cel)",
            4 * 24 + 2,
            "Child scored with CAPD; CRS grade 1 fever",
            lambda h: [
                vit(2, hr=96, sbp=104, dbp=64, rr=20),
                capd(12, (0, 0, 0, 1, 1, 0, 0, 0)),
                capd(36, (1, 1, 0, 1, 1, 0, 1, 0)),
                vit(60, temp=38.9, hr=132, sbp=100, dbp=60, rr=24),
                med(61, "acetaminophen", 345),
                vit(h - 3, temp=38.2, hr=126, sbp=102, dbp=62, rr=22),
                capd(h - 4, (1, 1, 1, 1, 1, 0, 1, 1)),
            ],
        ),
        DemoPatient(
            "DEMO-0004",
            "Klaus",
            "Becker",
            _years_ago(68.1),
            "M",
            "80.0",
            Indication.MYELOMA,
            HAEM,
            "Ciltacabtagene autoleucel (cilta-cel)",
            24 * 24 + 5,
            "Prolonged neutropenia (ANC ≤ 500 /µL since day 1)",
            lambda h: [
                vit(2),
                ice(6),
                lab(-20, anc_per_uL=1400, platelets_10e9_L=110),
                *[
                    lab(d * 24 + 7, anc_per_uL=300 if d % 3 else 180, platelets_10e9_L=35)
                    for d in range(1, 24)
                ],
                vit(7 * 24, temp=38.2, hr=102),
                med(7 * 24 + 1, "acetaminophen", 1000),
                med(7 * 24 + 2, "cefepime", 2000),
                med(10 * 24, "filgrastim", 0.48),
                *routine(h - 20, h - 2, every=6),
                ice(h - 5),
            ],
            labs_today=None,
        ),
        DemoPatient(
            "DEMO-0005",
            "Laura",
            "Fischer",
            _years_ago(28.2),
            "F",
            "62.0",
            Indication.LUPUS_NEPHRITIS,
            RHEUM,
            "Academic CD19 CAR-T for SLE (4-1BB)",
            1 * 24 + 22,
            "SLE with lupus nephritis, CRS grade 1 fever on day 1",
            lambda h: [
                lab(-12, anc_per_uL=2600, crp_mg_L=4, creatinine_mg_dL=1.1, igg_mg_dL=820),
                vit(2),
                ice(3),
                vit(20, temp=38.0, hr=104, sbp=118, dbp=72, rr=16, spo2=97),
                ice(21),
                med(22, "acetaminophen", 1000),
                vit(h - 2, temp=37.6, hr=92),
            ],
        ),
        DemoPatient(
            "DEMO-0006",
            "Julia",
            "Wagner",
            _years_ago(34.6),
            "F",
            "58.5",
            Indication.SLE,
            RHEUM,
            "Academic CD19 CAR-T for SLE (4-1BB)",
            9 * 24 + 3,
            "SLE with neuropsychiatric lupus in the past (baseline ICE 9/10), uneventful so far",
            lambda h: [
                ice(-30, attention=0),  # pre-infusion baseline: shown beside the grades, not graded (B-1)
                lab(-10, anc_per_uL=2100, crp_mg_L=3, creatinine_mg_dL=0.8),
                *daily_labs(7, 9, anc_per_uL=1600, crp_mg_L=2, creatinine_mg_dL=0.8),
                *routine(h - 24, h - 1, every=6),
                *checks(h - 24, h - 2),
            ],
        ),
        DemoPatient(
            "DEMO-0007",
            "Thomas",
            "Schmidt",
            _years_ago(45.0),
            "M",
            "77.0",
            Indication.MYOSITIS,
            RHEUM,
            "Academic CD19 CAR-T for SLE (4-1BB)",
            6 * 24 + 1,
            "Myositis, afebrile",
            lambda h: [vit(2), ice(3), *routine(h - 16, h - 1, every=5), *checks(h - 20, h - 2)],
        ),
        DemoPatient(
            "DEMO-0008",
            "Helga",
            "Meyer",
            _years_ago(71.3),
            "F",
            "66.0",
            Indication.MYELOMA,
            HAEM,
            "Ciltacabtagene autoleucel (cilta-cel)",
            8 * 24 + 2,
            "Late-onset CRS grade 1 (cilta-cel, day 8)",
            lambda h: [
                vit(2),
                ice(4),
                *routine(h - 30, h - 8, every=6),
                vit(h - 2, temp=38.4, hr=106),
                ice(h - 3),
            ],
        ),
        DemoPatient(
            "DEMO-0009",
            "Wolfgang",
            "Schulz",
            _years_ago(64.8),
            "M",
            "84.0",
            Indication.MYELOMA,
            HAEM,
            "Idecabtagene vicleucel (ide-cel)",
            20,
            "Day 0/1 after ide-cel, stable",
            lambda h: [vit(1), ice(2), vit(5), vit(9), vit(13), ice(14), vit(17)],
        ),
        DemoPatient(
            "DEMO-0010",
            "Andrea",
            "Zimmermann",
            _years_ago(52.0),
            "F",
            "69.0",
            Indication.FL,
            HAEM,
            "Tisagenlecleucel (tisa-cel)",
            12 * 24 + 4,
            "Follicular lymphoma, recovered from CRS grade 1",
            lambda h: [
                vit(2),
                vit(3 * 24, temp=38.3, hr=101),
                med(3 * 24 + 1, "acetaminophen", 1000),
                *routine(h - 12, h - 1, every=4),
                ice(h - 6),
            ],
        ),
        DemoPatient(
            "DEMO-0011",
            "Stefan",
            "Braun",
            _years_ago(74.2),
            "M",
            "72.0",
            Indication.CLL,
            HAEM,
            "Lisocabtagene maraleucel (liso-cel)",
            3,
            "Just infused (day 0)",
            lambda h: [lab(-6, anc_per_uL=2200, crp_mg_L=6, ferritin_ng_mL=350), vit(0.5), ice(1)],
        ),
        DemoPatient(
            "DEMO-0012",
            "Monika",
            "Richter",
            _years_ago(59.4),
            "F",
            "64.0",
            Indication.LBCL,
            HAEM,
            "Axicabtagene ciloleucel (axi-cel)",
            13 * 24 + 9,
            "Vitals and labs overdue (last vitals 9 h ago)",
            lambda h: [vit(2), ice(3), *routine(h - 30, h - 9, every=4), ice(h - 10)],
            labs_today=None,
        ),
        DemoPatient(
            "DEMO-0013",
            "Erik",
            "Klein",
            _years_ago(39.7),
            "M",
            "81.0",
            Indication.SYSTEMIC_SCLEROSIS,
            RHEUM,
            "Academic CD19 CAR-T for SLE (4-1BB)",
            3 * 24 + 7,
            "Systemic sclerosis, neuro check due",
            lambda h: [vit(2), ice(3), *routine(h - 20, h - 1, every=4), ice(h - 13)],
        ),
        DemoPatient(
            "DEMO-0014",
            "Noah",
            "Wolf",
            _years_ago(15.5),
            "M",
            "48.0",
            Indication.B_ALL,
            HAEM,
            "Tisagenlecleucel (tisa-cel)",
            2 * 24 + 5,
            "Adolescent (ICE from 12 y) with developmental delay → CAPD",
            lambda h: [vit(2, hr=90), capd(10, (1, 1, 1, 1, 0, 0, 1, 0)), vit(h - 2, hr=88)],
            developmental_delay=True,
        ),
    ]
