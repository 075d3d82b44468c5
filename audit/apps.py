from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from . import admin_scoping, history

        history.register_models()
        admin_scoping.enforce()
