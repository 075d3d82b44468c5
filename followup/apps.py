from django.apps import AppConfig

from monitoring.signals import observation_saved


class FollowupConfig(AppConfig):
    name = "followup"
    verbose_name = "Follow-up after the first month"

    def ready(self) -> None:
        # Each saved observation re-evaluates its course's follow-up in the same transaction.  The
        # receivers import the services and models, which exist only once the app registry is ready.
        from . import receivers

        observation_saved.connect(receivers.on_observation_saved, dispatch_uid="followup-evaluate")
