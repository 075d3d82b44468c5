from django.apps import AppConfig

from monitoring import handoff


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts and escalation"

    def ready(self) -> None:
        # Imported here, not at the top: the services import models, which exist only once the app
        # registry is ready (Django's documented place for start-up wiring).
        from .handoff import AlertingForMonitoring

        handoff.register(AlertingForMonitoring())
