"""Every entry path refuses the same follow-up input with a message naming the field and what is
allowed (carttrack.parse_observation / parse_case, CASE-7)."""

from __future__ import annotations

import pytest

import carttrack
from carttrack import ObservationError, parse_observation
from carttrack.followup.inputs import MedicationStatus, SledaiEntry, SscAssessment

from .helpers import case, sledai


def error(data: dict) -> str:
    with pytest.raises(ObservationError) as exc:
        parse_observation(data, index=4, case_id="C1")
    return str(exc.value)


def test_upcr_in_mg_mmol_is_converted_exactly_and_kept():
    lab = parse_observation({"kind": "lab", "t_hours": 10, "upcr_mg_mmol": 56})
    assert lab.upcr_mg_mg == pytest.approx(56 / 113.12, rel=1e-12)
    assert lab.upcr_entered_mg_mmol == 56
    assert "upcr_mg_mmol" in error({"kind": "lab", "t_hours": 1, "upcr_mg_mmol": 56, "upcr_mg_mg": 0.5})


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"kind": "lab", "t_hours": 1, "anti_dsdna_IU_mL": 45},
            "case C1, observation 4, field anti_dsdna_cutoff_IU_mL: anti_dsdna_cutoff_IU_mL is required with"
            " anti_dsdna_IU_mL (the reporting lab's limit, D-3)",
        ),
        (
            {"kind": "lab", "t_hours": 1, "c3_lln_mg_dL": 90},
            "case C1, observation 4, field c3_mg_dL: c3_mg_dL is required with c3_lln_mg_dL",
        ),
        (
            {"kind": "lab", "t_hours": 1, "egfr_mL_min": 300},
            "field egfr_mL_min: 300 is outside 0–250 mL/min/1.73 m²",
        ),
        (sledai(1, pga=3.5), "field pga: 3.5 is outside 0–3"),
        (sledai(1, pga=0.333), "field pga: 0.333 has more than two decimals"),
        (sledai(1, items={"rash": "yes"}), "field items.rash: 'yes' is not true/false/null"),
        (sledai(1, items={"malar_rash": True}), "field items.malar_rash: unknown SLEDAI-2K descriptor"),
        (sledai(1, window_days=20), "field window_days: 20 is not 10 or 30"),
        (
            sledai(1, attributed_to_lupus=["tiredness"]),
            "field attributed_to_lupus: 'tiredness' is not a SLEDAI-2K",
        ),
        ({"kind": "sledai", "t_hours": 1}, "field items: items is required"),
        (
            {"kind": "medication_status", "t_hours": 1},
            "field drugs: drugs is required: the complete current list",
        ),
        (
            {"kind": "medication_status", "t_hours": 1, "drugs": [{"drug": "aspirin", "mg_per_day": 75}]},
            "field drugs[0].drug: 'aspirin' is not a known drug (mark a trial drug investigational: true)",
        ),
        (
            {
                "kind": "medication_status",
                "t_hours": 1,
                "drugs": [{"drug": "methotrexate", "mg_per_day": 1, "mg_per_week": 7}],
            },
            "field drugs[0].mg_per_week: give mg_per_day or mg_per_week, not both",
        ),
        (
            {"kind": "medication_status", "t_hours": 1, "drugs": [{"drug": "prednisolone", "mg_per_day": 0}]},
            "field drugs[0].mg_per_day: 0 mg is not a dose",
        ),
        (
            {
                "kind": "medication_status",
                "t_hours": 1,
                "drugs": [{"drug": "prednisolone", "mg_per_day": 9000}],
            },
            "field drugs[0].mg_per_day: 9000 is outside 0–5000 mg/day",
        ),
        (
            {
                "kind": "medication_status",
                "t_hours": 1,
                "drugs": [{"drug": "HCQ"}, {"drug": "hydroxychloroquine"}],
            },
            "field drugs[1].drug: hydroxychloroquine is listed twice",
        ),
        (
            {
                "kind": "medication_status",
                "t_hours": 1,
                "drugs": [{"drug": "Hydroxychloroquine"}, {"drug": "hydroxychloroquine"}],
            },
            "field drugs[1].drug: hydroxychloroquine is listed twice",
        ),
        ({"kind": "myositis_core_set", "t_hours": 1, "mmt8": 151}, "field mmt8: 151 is outside 0–150"),
        ({"kind": "myositis_core_set", "t_hours": 1}, "field myositis_core_set: no measure recorded"),
        ({"kind": "ssc_assessment", "t_hours": 1, "mrss": 52}, "field mrss: 52 is outside 0–51"),
        ({"kind": "ssc_assessment", "t_hours": 1, "mrss": 12.5}, "field mrss: 12.5 is not an integer 0–51"),
        (
            {"kind": "ssc_assessment", "t_hours": 1, "mrss_sites": {"face": 2}},
            "field mrss_sites: missing sites: anterior_chest",
        ),
        ({"kind": "ssc_assessment", "t_hours": 1, "fvc": 80}, "field fvc: unknown field for ssc_assessment"),
        ({"kind": "sledai_2k", "t_hours": 1}, "field kind: 'sledai_2k' is not one of: vitals, neuro, lab"),
        ({"kind": "event", "t_hours": 1, "event": "flare"}, "field event: 'flare' is not one of:"),
    ],
)
def test_bad_input_names_the_field_and_the_allowed_range(data, expected):
    assert expected in error(data)


def test_the_kinds_list_in_the_error_names_the_follow_up_kinds():
    assert "sledai, medication_status, myositis_core_set, ssc_assessment" in error(
        {"kind": "x", "t_hours": 1}
    )


def test_typed_inputs_and_defaults():
    e = parse_observation(
        sledai(5, "rash", items={"hematuria": None}, attributed_to_lupus=["fever", "fever"])
    )
    assert isinstance(e, SledaiEntry)
    assert e.item("rash") is True and e.item("hematuria") is None and e.item("pyuria") is False
    assert e.attributed_to_lupus == ("fever",) and e.window_days is None and e.hemolytic_anemia is None
    missing = parse_observation({"kind": "sledai", "t_hours": 1, "items": {"rash": True}})
    assert missing.item("pyuria") is None  # a missing code is not assessed (CASE-7, SLEDAI-2)
    m = parse_observation(
        {
            "kind": "medication_status",
            "t_hours": 1,
            "drugs": [{"drug": "Mycophenolate mofetil", "mg_per_week": 14000}],
        }
    )
    assert isinstance(m, MedicationStatus)
    assert m.drugs[0].drug == "mycophenolate_mofetil" and m.drugs[0].daily_mg == 2000
    s = parse_observation({"kind": "ssc_assessment", "t_hours": 1, "crp_mg_L": 12})
    assert isinstance(s, SscAssessment) and s.crp_mg_dL == pytest.approx(1.2) and s.crp_entered_mg_L == 12


def test_indication_group_and_year_15_times_are_accepted():
    parsed = carttrack.parse_case(
        case(
            [sledai(15 * 8766 + 200)],
            {"age_years": 30, "weight_kg": 60, "indication": "SLE", "indication_group": "lupus_nephritis"},
        )
    )
    assert parsed.patient.indication_group == "lupus_nephritis"
    with pytest.raises(
        ObservationError, match="indication_group: 'renal' is not one of: sle, lupus_nephritis"
    ):
        carttrack.parse_case(case([], {"age_years": 30, "weight_kg": 60, "indication_group": "renal"}))


def test_the_toxicity_engine_runs_beside_follow_up_observations():
    ev = carttrack.evaluate(
        carttrack.parse_case(
            case([sledai(-120, "rash"), {"kind": "vitals", "t_hours": 10, "temp_c": 38.4}, sledai(2000)])
        )
    )
    assert ev.crs.maximum == 1
