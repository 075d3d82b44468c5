from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "followup"
    verbose_name = "Follow-up after the first month"

    def ready(self) -> None:
        # Each saved observation re-evaluates its course's follow-up in the same transaction.
        from monitoring.signals import observation_saved

        from . import receivers

        observation_saved.connect(receivers.on_observation_saved, dispatch_uid="followup-evaluate")
