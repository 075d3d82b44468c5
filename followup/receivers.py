"""The followup app's hook into every observation save (``monitoring.signals.observation_saved``)."""

from __future__ import annotations

from . import services


def on_observation_saved(sender, *, infusion, observation, parsed, evaluation, **kwargs) -> None:
    """Re-evaluate the course's follow-up in the saving transaction when the row can change it."""
    if services.is_followup_relevant(observation, parsed):
        services.course_evaluate(infusion=infusion, triggered_by=observation, now=observation.recorded_at)
