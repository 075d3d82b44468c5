"""The followup app's hook into every observation save (``monitoring.signals.observation_saved``)."""

from __future__ import annotations

import carttrack
from carttrack.followup.course import IVIG_DRUG, has_followup_data
from monitoring.models import FOLLOWUP_KINDS, Observation, ObservationKind

from . import services


def on_observation_saved(sender, *, infusion, observation, parsed, evaluation, **kwargs) -> None:
    """Re-evaluate the course's follow-up in the saving transaction when the row can change it."""
    if is_followup_relevant(observation, parsed):
        services.course_evaluate(infusion=infusion, triggered_by=observation, now=observation.recorded_at)


def is_followup_relevant(observation: Observation, parsed: carttrack.Observation | None) -> bool:
    """Whether a saved row can change the course's follow-up result, decided without a query (the
    toxicity weeks' saves stay as fast as before): a follow-up kind, or a row holding follow-up data
    (VISIT-7), or an IVIG dose (it changes when the next IgG check is due, BCELL-9); for an
    entered-in-error marker, the voided row's payload decides."""
    if observation.kind in FOLLOWUP_KINDS:
        return True
    if observation.kind == ObservationKind.MEDICATION and observation.payload.get("drug") == IVIG_DRUG:
        return True
    if parsed is None:
        try:
            parsed = carttrack.parse_observation(
                {
                    **observation.payload,
                    "kind": observation.kind,
                    "t_hours": observation.infusion.hours_after(observation.observed_at),
                }
            )
        except carttrack.ObservationError:
            return False
    return has_followup_data([parsed])
