from django.apps import AppConfig
from django.core import checks

from . import handoff


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        checks.register(handoff.check_alerting_registered)
