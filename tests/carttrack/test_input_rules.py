"""One set of input rules for every entry path: cross-field checks, all errors at once, times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import carttrack
from carttrack import ObservationError, observation_errors, parse_observation, parse_timestamp
from carttrack.limits import DOSE_LIMITS, O2_FLOW_LIMITS
from carttrack.vocabulary import O2Device


def vitals(**fields) -> dict:
    return {"kind": "vitals", "t_hours": 10, **fields}


def refusal(data: dict) -> ObservationError:
    with pytest.raises(ObservationError) as e:
        parse_observation(data)
    return e.value


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"sbp": 80, "dbp": 90}, "dbp", "field dbp: diastolic 90 must be below systolic 80 mmHg"),
        ({"sbp": 100, "dbp": 100}, "dbp", "field dbp: diastolic 100 must be below systolic 100 mmHg"),
        (
            {"sbp": 110, "dbp": 70, "map": 64},
            "map",
            "field map: MAP 64 must lie between diastolic 70 and systolic 110 mmHg",
        ),
        (
            {"o2_device": "room_air", "o2_flow_l_min": 2},
            "o2_flow_l_min",
            "field o2_flow_l_min: room_air has no oxygen flow (0 L/min): give the device for 2 L/min",
        ),
        (
            {"o2_device": "room_air", "fio2": 0.4},
            "fio2",
            "field fio2: FiO2 on room_air is 0.21 (21 %): give the device for FiO2 0.4",
        ),
        (
            {"o2_device": "room_air", "fio2": 40},
            "fio2",
            "field fio2: FiO2 on room_air is 0.21 (21 %): give the device for FiO2 0.4",
        ),
        (
            {"o2_flow_l_min": 3},
            "o2_flow_l_min",
            "field o2_flow_l_min: o2_flow_l_min 3 is given only with o2_device in the same record "
            "(the device it runs through)",
        ),
        ({"fio2": 0.5}, "fio2", "field fio2: fio2 0.5 is given only with o2_device in the same record"),
        (
            {"o2_device": "nasal_cannula", "o2_flow_l_min": 60},
            "o2_flow_l_min",
            "field o2_flow_l_min: 60 L/min is outside more than 0 and at most 15 L/min on nasal_cannula; "
            "a flow this high is given by HFNC (o2_device hfnc)",
        ),
        (
            {"o2_device": "nasal_cannula", "o2_flow_l_min": 0},
            "o2_flow_l_min",
            "field o2_flow_l_min: 0 L/min is outside more than 0 and at most 15 L/min on nasal_cannula",
        ),
        (
            {"o2_device": "hfnc", "o2_flow_l_min": 75},
            "o2_flow_l_min",
            "field o2_flow_l_min: 75 L/min is outside 1–70 L/min on hfnc",
        ),
        (
            {"o2_device": "simple_face_mask", "o2_flow_l_min": 2},
            "o2_flow_l_min",
            "field o2_flow_l_min: 2 L/min is outside 5–15 L/min on simple_face_mask",
        ),
        (
            {"o2_device": "non_rebreather", "o2_flow_l_min": 4},
            "o2_flow_l_min",
            "field o2_flow_l_min: 4 L/min is outside 10–15 L/min on non_rebreather",
        ),
        (
            {"o2_device": "venturi", "o2_flow_l_min": 40},
            "o2_flow_l_min",
            "field o2_flow_l_min: 40 L/min is outside 2–15 L/min on venturi",
        ),
        (
            {"spo2": 0.95},
            "spo2",
            "field spo2: 0.95 looks like a fraction — did you mean 95 %? SpO2 is 0–100 % (a percentage)",
        ),
        ({"spo2": 1}, "spo2", "did you mean 100 %?"),
        (
            {"o2_device": "room_air", "o2_for_comfort_only": True},
            "o2_for_comfort_only",
            "field o2_for_comfort_only: oxygen for comfort is ticked only with an oxygen device; "
            "the device is room_air",
        ),
        (
            {"o2_device": "bipap", "o2_for_comfort_only": True},
            "o2_for_comfort_only",
            "field o2_for_comfort_only: oxygen for comfort is ticked only with oxygen, "
            "not with positive-pressure ventilation (bipap)",
        ),
        ({"fio2": 5, "o2_device": "hfnc"}, "fio2", "give FiO2 as a fraction 0.21–1.0 or a percentage 21–100"),
    ],
)
def test_cross_field_refusals_name_the_field_and_the_allowed_range(fields, field, message):
    err = refusal(vitals(**fields))
    assert err.field == field
    assert message in str(err)
    # the message carries the allowed range itself, so every entry path shows the same sentence
    assert err.allowed and err.allowed in str(err)


def test_accepted_combinations():
    ok = [
        vitals(sbp=120, dbp=75, map=90),
        vitals(o2_device="room_air", o2_flow_l_min=0, fio2=0.21),
        vitals(o2_device="room_air", fio2=21),
        vitals(o2_device="nasal_cannula", o2_flow_l_min=0.05),  # neonatal low flow
        vitals(o2_device="nasal_cannula", o2_flow_l_min=8),  # ASTCT: > 6 L/min is high flow, graded 3
        vitals(o2_device="hfnc", o2_flow_l_min=60, fio2=60),
        vitals(o2_device="invasive_mv", fio2=0.4),
        vitals(spo2=0),
        vitals(spo2=95),
        vitals(dbp=60),  # a diastolic alone is recorded, nothing to compare it with
    ]
    for data in ok:
        parse_observation(data)
    assert parse_observation(vitals(o2_device="hfnc", o2_flow_l_min=50, fio2=50)).fio2 == 0.5


def test_sixty_litres_on_a_cannula_is_refused_not_graded():
    with pytest.raises(ObservationError) as e:
        carttrack.parse_case(
            {
                "id": "N",
                "patient": {"age_years": 50, "weight_kg": 70},
                "observations": [vitals(temp_c=38.5, o2_device="nasal_cannula", o2_flow_l_min=60)],
            }
        )
    assert e.value.field == "o2_flow_l_min" and e.value.case_id == "N"
    assert e.value.allowed == "more than 0 and at most 15 L/min on nasal_cannula"


def test_every_device_with_a_flow_range_has_one_and_room_air_has_none():
    assert set(O2_FLOW_LIMITS) == {
        O2Device.BLOW_BY,
        O2Device.NASAL_CANNULA,
        O2Device.HFNC,
        O2Device.SIMPLE_FACE_MASK,
        O2Device.VENTURI,
        O2Device.NON_REBREATHER,
    }


@pytest.mark.parametrize(
    ("drug", "dose", "message"),
    [
        (
            "tocilizumab",
            8000,
            "8000 mg is outside more than 0 and at most 800 mg for tocilizumab — did you mean 800 mg?",
        ),
        ("tocilizumab", 801, "801 mg is outside more than 0 and at most 800 mg for tocilizumab"),
        (
            "dexamethasone",
            100,
            "100 mg is outside more than 0 and at most 40 mg for dexamethasone — did you mean 10 mg?",
        ),
        ("methylprednisolone", 10000, "at most 1000 mg for methylprednisolone — did you mean 1000 mg?"),
        ("anakinra", 1000, "at most 400 mg for anakinra — did you mean 100 mg?"),
        ("siltuximab", 7700, "at most 2200 mg for siltuximab — did you mean 770 mg?"),
        ("acetaminophen", 5000, "at most 1000 mg for acetaminophen — did you mean 500 mg?"),
        ("levetiracetam", 7500, "at most 4500 mg for levetiracetam — did you mean 750 mg?"),
        ("tocilizumab", 0, "0 mg is outside more than 0 and at most 800 mg for tocilizumab"),
        ("ivig", 0, "0 mg is outside more than 0 and at most 100000 mg for ivig"),  # not a dose given
    ],
)
def test_medication_doses_outside_the_drugs_range_are_refused(drug, dose, message):
    err = refusal({"kind": "medication", "t_hours": 5, "drug": drug, "dose_mg": dose})
    assert err.field == "dose_mg" and message in str(err)
    assert err.allowed.endswith(f"mg for {drug}") and err.allowed in str(err)


def test_usual_doses_are_accepted():
    for drug, dose in [
        ("tocilizumab", 800),
        ("tocilizumab", 96),
        ("dexamethasone", 10),
        ("dexamethasone", 20),
        ("methylprednisolone", 1000),
        ("anakinra", 100),
        ("siltuximab", 770),
        ("acetaminophen", 1000),
        ("levetiracetam", 750),
        ("ivig", 30000),  # 0.4 g/kg for 75 kg
        ("cefepime", 2000),  # no per-drug range: the field's hard limit applies
    ]:
        assert (
            parse_observation({"kind": "medication", "t_hours": 5, "drug": drug, "dose_mg": dose}).dose_mg
            == dose
        )
    assert {"tocilizumab", "dexamethasone", "methylprednisolone", "anakinra", "siltuximab"} <= set(
        DOSE_LIMITS
    )


def test_every_error_of_a_record_is_returned_at_once():
    data = vitals(
        temp_c=60, hr="fast", sbp=80, dbp=95, o2_device="room_air", o2_flow_l_min=4, spo2=0.9, pulse=3
    )
    errors = observation_errors(data)
    assert [e.field for e in errors] == ["pulse", "temp_c", "hr", "dbp", "spo2", "o2_flow_l_min"]
    assert all(isinstance(e, ObservationError) and e.allowed for e in errors)
    # parse_observation raises the first and carries them all (the case-file path stops there)
    err = refusal(data)
    assert err.field == "pulse" and [e.field for e in err.errors] == [e.field for e in errors]
    with pytest.raises(ObservationError) as e:
        carttrack.parse_case(
            {"id": "K", "patient": {"age_years": 50, "weight_kg": 70}, "observations": [data]}
        )
    assert all(x.case_id == "K" and x.index == 0 for x in e.value.errors) and len(e.value.errors) == 6
    assert observation_errors(vitals(temp_c=37.0)) == ()


def test_every_error_of_a_neuro_and_a_lab_record():
    errors = observation_errors(
        {
            "kind": "neuro",
            "t_hours": 1,
            "ice": {"orientation": 7, "naming": 9},
            "seizure": "maybe",
            "sedated": 1,
        }
    )
    assert [e.field for e in errors] == ["ice.orientation", "ice.naming", "seizure", "sedated"]
    errors = observation_errors({"kind": "lab", "t_hours": 1, "anc_per_uL": -3, "crp_mg_L": 5000})
    assert [e.field for e in errors] == ["anc_per_uL", "crp_mg_L"]


def test_an_empty_neuro_record_is_an_error():
    err = refusal({"kind": "neuro", "t_hours": 3})
    assert err.field == "neuro" and "needs at least one recorded value" in str(err)


# ---------------------------------------------------------------- times


def test_a_time_with_its_offset_is_taken_as_written():
    t = parse_timestamp("2025-03-01T08:30:00+01:00")
    assert t.utcoffset() == timedelta(hours=1) and t.astimezone(UTC).hour == 7
    assert parse_timestamp("2025-03-01T07:30:00Z") == t


def test_a_time_without_a_zone_is_refused_unless_a_zone_is_given():
    with pytest.raises(ObservationError) as e:
        parse_timestamp("2025-03-01T08:30")
    assert e.value.field == "observed_at" and "has no time zone" in str(e.value)
    t = parse_timestamp("2025-03-01T08:30", zone="Europe/Berlin")
    assert t.astimezone(UTC) == datetime(2025, 3, 1, 7, 30, tzinfo=UTC)
    summer = parse_timestamp("2025-07-01T08:30", zone="Europe/Berlin")
    assert summer.astimezone(UTC).hour == 6


def test_skipped_and_repeated_local_times_are_refused():
    with pytest.raises(ObservationError) as e:
        parse_timestamp("2025-03-30T02:30", zone="Europe/Berlin")
    assert "does not exist in Europe/Berlin" in str(e.value) and "UTC offset" in str(e.value)
    with pytest.raises(ObservationError) as e:
        parse_timestamp("2025-10-26T02:30", zone="Europe/Berlin")
    assert "occurs twice in Europe/Berlin (+02:00 or +01:00" in str(e.value)
    # with the offset the repeated hour is unambiguous
    assert parse_timestamp("2025-10-26T02:30+01:00").utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("2025-03-01", "has no time of day"), ("yesterday", "is not an ISO-8601"), (17, "is not an ISO-8601")],
)
def test_unreadable_times(value, fragment):
    with pytest.raises(ObservationError) as e:
        parse_timestamp(value, zone="Europe/Berlin", field="effectiveDateTime")
    assert e.value.field == "effectiveDateTime" and fragment in str(e.value)
    assert e.value.allowed in str(e.value)


def test_unknown_zone_names_the_zone():
    with pytest.raises(ObservationError) as e:
        parse_timestamp("2025-03-01T08:30", zone="Europe/Atlantis")
    assert e.value.field == "time_zone" and "Europe/Atlantis" in str(e.value)


def test_naive_and_aware_datetimes_follow_the_same_rule():
    assert parse_timestamp(datetime(2025, 3, 1, 8, 30, tzinfo=UTC)).hour == 8
    with pytest.raises(ObservationError):
        parse_timestamp(datetime(2025, 3, 1, 8, 30))
    assert carttrack.hours_after(
        parse_timestamp("2025-03-01T08:00+01:00"), parse_timestamp("2025-03-02T09:30+01:00")
    ) == pytest.approx(25.5)
