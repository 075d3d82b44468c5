"""Writes of the alerts app (keyword-only, one transaction each)."""


def alert_process_evaluation(*, evaluation_id: int) -> None:
    raise NotImplementedError("being built: alerts.services.alert_process_evaluation")
