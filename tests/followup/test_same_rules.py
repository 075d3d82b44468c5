"""Every entry path refuses the same follow-up input with the same message: the observation service
(tablet form, API) accepts exactly what the clinical core's parser (case files) accepts, and names the
same field and allowed range (hypothesis)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

import carttrack
from carttrack.followup.sledai import SLEDAI_CODES
from carttrack.followup.ssc import MRSS_SITES
from monitoring.services import validate_payload

T_HOURS = 2160.0
numbers = st.one_of(
    st.integers(min_value=-5, max_value=60),
    st.floats(min_value=-5, max_value=60, allow_nan=False),
    st.sampled_from(["1", None, True]),
)


def _both(kind: str, payload: dict) -> tuple[carttrack.ObservationError | None, ValidationError | None]:
    core = service = None
    try:
        carttrack.parse_observation({**payload, "kind": kind, "t_hours": T_HOURS})
    except carttrack.ObservationError as exc:
        core = exc
    try:
        validate_payload(kind=kind, payload=payload, t_hours=T_HOURS)
    except ValidationError as exc:
        service = exc
    return core, service


def _same(core, service) -> None:
    assert (core is None) == (service is None)
    if core is not None:
        messages = service.message_dict[core.field]
        assert core.allowed and str(core.allowed) in messages[0]


@settings(max_examples=150, deadline=None)
@given(pga=numbers, window=st.sampled_from([None, 10, 30, 7, "10"]), code=st.sampled_from(SLEDAI_CODES))
def test_sledai_input_is_refused_alike(pga, window, code) -> None:
    payload = {"items": {code: True}, "pga": pga, "window_days": window}
    _same(*_both("sledai", payload))


@settings(max_examples=150, deadline=None)
@given(site=st.sampled_from(MRSS_SITES), score=numbers, fvc=numbers)
def test_ssc_input_is_refused_alike(site, score, fvc) -> None:
    sites = dict.fromkeys(MRSS_SITES, 1)
    sites[site] = score
    _same(*_both("ssc_assessment", {"mrss_sites": sites, "fvc_pct_predicted": fvc}))


@settings(max_examples=100, deadline=None)
@given(dose=numbers, drug=st.sampled_from(["prednisolone", "MMF", "aspirin-x", ""]))
def test_medication_input_is_refused_alike(dose, drug) -> None:
    _same(*_both("medication_status", {"drugs": [{"drug": drug, "mg_per_day": dose}]}))


def test_a_refusal_names_the_field_and_the_allowed_range() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_payload(kind="sledai", payload={"items": {}, "pga": 3.5}, t_hours=T_HOURS)
    assert "0–3" in exc.value.message_dict["pga"][0]
