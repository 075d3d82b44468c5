from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.two_factor import confirmed_device, current_code


class Command(BaseCommand):
    help = "Print the current two-factor code of a demo user (enrolled with enrol_demo_totp)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        device = confirmed_device(user)
        if device is None:
            raise CommandError(f"{username} has no confirmed authenticator; run the demo seeder first.")
        self.stdout.write(current_code(device))
