from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "followup"
    verbose_name = "Follow-up after the first month"

    def ready(self) -> None:
        # Each saved observation re-evaluates its course's follow-up in the same transaction.
        from monitoring.signals import demo_seeded, observation_saved

        from . import demo, receivers

        observation_saved.connect(receivers.on_observation_saved, dispatch_uid="followup-evaluate")
        demo_seeded.connect(demo.on_demo_seeded, dispatch_uid="followup-demo")
