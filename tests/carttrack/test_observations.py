"""Typed inputs, unit conversion at the boundary, validation errors."""

from __future__ import annotations

import pytest

import carttrack
from carttrack import ObservationError, parse_observation
from carttrack.limits import HARD_LIMITS, soft_warnings
from carttrack.units import c_to_f, creatinine_umol_l_to_mg_dl, crp_mg_l_to_mg_dl, f_to_c


def test_fahrenheit_converts_exactly():
    obs = parse_observation({"kind": "vitals", "t_hours": 1, "temp_f": 100.4})
    assert obs.temp_c == pytest.approx(38.0, abs=1e-12)
    assert obs.temp_entered_f == 100.4
    assert f_to_c(100.3) == pytest.approx(37.9444444, abs=1e-6)
    assert c_to_f(f_to_c(101.3)) == pytest.approx(101.3)


def test_lab_units_converted():
    obs = parse_observation({"kind": "lab", "t_hours": 1, "crp_mg_L": 30, "creatinine_umol_L": 88.4})
    assert obs.crp_mg_dL == pytest.approx(3.0)
    assert obs.creatinine_mg_dL == pytest.approx(1.0)
    assert crp_mg_l_to_mg_dl(4) == pytest.approx(0.4)
    assert creatinine_umol_l_to_mg_dl(176.8) == pytest.approx(2.0)


def test_fio2_percent_accepted():
    hfnc = {"kind": "vitals", "t_hours": 1, "o2_device": "hfnc", "o2_flow_l_min": 40}
    assert parse_observation({**hfnc, "fio2": 40}).fio2 == pytest.approx(0.4)
    assert parse_observation({**hfnc, "fio2": 0.4}).fio2 == pytest.approx(0.4)
    with pytest.raises(ObservationError) as e:
        parse_observation({**hfnc, "fio2": 5})
    assert e.value.field == "fio2"


def test_error_message_names_case_index_field_value_range():
    with pytest.raises(ObservationError) as e:
        parse_observation({"kind": "vitals", "t_hours": 1, "temp_c": 60}, index=3, case_id="V01")
    err = e.value
    assert isinstance(err, ValueError)
    assert (err.field, err.value, err.case_id, err.index) == ("temp_c", 60.0, "V01", 3)
    assert err.allowed == "25–45 °C"
    assert str(err) == "case V01, observation 3, field temp_c: 60 is outside 25–45 °C"


def test_temp_c_in_fahrenheit_range_says_so():
    with pytest.raises(ObservationError) as e:
        parse_observation({"kind": "vitals", "t_hours": 1, "temp_c": 100.4})
    assert "looks like °F = 38.0 °C" in str(e.value)


def test_temp_decimal_slip_hint():
    with pytest.raises(ObservationError) as e:
        parse_observation({"kind": "vitals", "t_hours": 1, "temp_c": 3.8})
    assert "did you mean 38" in str(e.value)


def test_temp_f_in_celsius_range_says_so():
    with pytest.raises(ObservationError) as e:
        parse_observation({"kind": "vitals", "t_hours": 1, "temp_f": 38.5})
    assert "looks like °C" in str(e.value)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "bogus", "t_hours": 1}, "kind"),
        ({"kind": "vitals", "t_hours": 1, "pulse": 80}, "pulse"),
        ({"kind": "vitals", "t_hours": 1, "hr": "80"}, "hr"),
        ({"kind": "vitals", "t_hours": 1, "hr": True}, "hr"),
        ({"kind": "vitals", "t_hours": 1, "o2_device": "tent"}, "o2_device"),
        ({"kind": "vitals", "t_hours": 1, "vasopressors": ["norepi"]}, "vasopressors"),
        ({"kind": "vitals", "t_hours": 1, "vasopressors": "norepinephrine"}, "vasopressors"),
        ({"kind": "vitals", "t_hours": 1, "spo2": 101}, "spo2"),
        ({"kind": "vitals", "t_hours": 1, "o2_for_comfort_only": "yes"}, "o2_for_comfort_only"),
        ({"kind": "vitals", "t_hours": 1, "temp_c": 38, "temp_f": 100.4}, "temp_f"),
        ({"kind": "vitals"}, "t_hours"),
        ({"kind": "neuro", "t_hours": 1, "ice": {"orientation": 5}}, "ice.orientation"),
        ({"kind": "neuro", "t_hours": 1, "ice": {"naming": 1.5}}, "ice.naming"),
        ({"kind": "neuro", "t_hours": 1, "ice": {"spelling": 1}}, "ice.spelling"),
        ({"kind": "neuro", "t_hours": 1, "capd_items": [1, 2, 3]}, "capd_items"),
        ({"kind": "neuro", "t_hours": 1, "capd_items": [0, 0, 0, 0, 0, 0, 0, 5]}, "capd_items[7]"),
        ({"kind": "neuro", "t_hours": 1, "consciousness": "drowsy"}, "consciousness"),
        ({"kind": "neuro", "t_hours": 1, "seizure": "yes"}, "seizure"),
        ({"kind": "lab", "t_hours": 1}, "lab"),
        ({"kind": "lab", "t_hours": 1, "anc_per_uL": -1}, "anc_per_uL"),
        ({"kind": "lab", "t_hours": 1, "crp_mg_L": 10, "crp_mg_dL": 1}, "crp_mg_dL"),
        ({"kind": "lab", "t_hours": 1, "troponin": 1}, "troponin"),
        ({"kind": "medication", "t_hours": 1, "drug": "tocilizumb"}, "drug"),
        ({"kind": "medication", "t_hours": 1}, "drug"),
        ({"kind": "medication", "t_hours": 1, "drug": "tocilizumab", "dose_mg": -5}, "dose_mg"),
        ({"kind": "event", "t_hours": 1, "event": "party"}, "event"),
        ({"kind": "clinical_flag", "t_hours": 1, "serious_infection": 1}, "serious_infection"),
        ({"kind": "clinical_flag", "t_hours": 1, "bad_luck": True}, "bad_luck"),
    ],
)
def test_invalid_inputs_name_the_field(data, field):
    with pytest.raises(ObservationError) as e:
        parse_observation(data, index=7, case_id="X")
    assert e.value.field == field
    assert e.value.index == 7 and e.value.case_id == "X"
    msg = str(e.value)
    assert msg.startswith("case X, observation 7, field ")
    assert field in msg


def test_vocabulary_error_lists_allowed_values():
    with pytest.raises(ObservationError) as e:
        parse_observation({"kind": "vitals", "t_hours": 1, "o2_device": "tent"})
    assert e.value.allowed.startswith("one of: room_air, blow_by")


def test_parse_case_and_patient_errors():
    good = {"id": "C", "patient": {"age_years": 5, "weight_kg": 18}, "observations": []}
    c = carttrack.parse_case(good)
    assert c.patient.age_years == 5 and c.observations == () and c.follow_up is None
    with pytest.raises(ObservationError) as e:
        carttrack.parse_case(
            {"id": "C", "patient": {"age_years": 5, "weight_kg": 18, "height": 1}, "observations": []}
        )
    assert e.value.field == "patient.height" and e.value.case_id == "C"
    with pytest.raises(ObservationError) as e:
        carttrack.parse_case({"id": "C", "patient": {"age_years": 5}, "observations": []})
    assert e.value.field == "patient.weight_kg"
    with pytest.raises(ObservationError) as e:
        carttrack.parse_case({**good, "follow_up": {"death_day": 3}})
    assert e.value.field == "follow_up.death_day"


def test_attribution_fields():
    obs = parse_observation({"kind": "vitals", "t_hours": 1, "temp_c": 38.4, "attributed_to": "pneumonia"})
    assert (
        obs.fever_attributed_to == obs.hypotension_attributed_to == obs.hypoxia_attributed_to == "pneumonia"
    )
    obs = parse_observation(
        {
            "kind": "vitals",
            "t_hours": 1,
            "temp_c": 38.4,
            "attributed_to": "CRS",
            "hypoxia_attributed_to": "PE",
        }
    )
    assert obs.fever_attributed_to is None and obs.hypoxia_attributed_to == "PE"


def test_hard_and_soft_limits_exposed():
    assert HARD_LIMITS["temp_c"].low == 25 and HARD_LIMITS["temp_c"].high == 45
    assert HARD_LIMITS["temp_f"].low == 77 and HARD_LIMITS["temp_f"].high == 113
    assert HARD_LIMITS["sbp"].text == "30–300 mmHg"
    obs = parse_observation(
        {"kind": "vitals", "t_hours": 1, "temp_c": 33.0, "o2_device": "hfnc", "o2_flow_l_min": 4}
    )
    fields = {w.field for w in soft_warnings(obs)}
    assert {"temp_c", "o2_flow_l_min"} <= fields
    labobs = parse_observation({"kind": "lab", "t_hours": 1, "anc_per_uL": 0.3})
    assert any("×10⁹/L" in w.message for w in soft_warnings(labobs))


def test_vocabulary_exports():
    v = carttrack.vocabulary
    assert "hfnc" in v.O2_DEVICES and "alert" in v.CONSCIOUSNESS
    assert v.VASOPRESSORS["dobutamine"] is False and v.VASOPRESSORS["vasopressin"] is True
    assert "tocilizumab" in v.SUGGESTION_CODES and len(set(v.SUGGESTION_CODES)) == 34
    assert v.LAB_FIELDS["crp_mg_L"] == "mg/L"


def test_il6_is_recorded_in_pg_per_ml_and_bounded():
    lab = carttrack.parse_observation({"kind": "lab", "t_hours": 30, "il6_pg_mL": 1250})
    assert lab.il6_pg_mL == 1250.0
    with pytest.raises(carttrack.ObservationError) as err:
        carttrack.parse_observation({"kind": "lab", "t_hours": 30, "il6_pg_mL": -1})
    assert err.value.field == "il6_pg_mL"


def test_a_number_beyond_float_range_is_a_validation_error_not_a_crash():
    with pytest.raises(carttrack.ObservationError) as err:
        carttrack.parse_observation({"kind": "vitals", "t_hours": 1, "temp_c": 10**400})
    assert err.value.field == "temp_c"


def test_free_text_with_control_characters_is_refused():
    with pytest.raises(carttrack.ObservationError) as err:
        carttrack.parse_observation(
            {"kind": "vitals", "t_hours": 1, "temp_c": 38.2, "attributed_to": "se\x00psis"}
        )
    assert err.value.field == "attributed_to"
