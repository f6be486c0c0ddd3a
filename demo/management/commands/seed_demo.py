from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.data import DEMO_USERS, MARKER_SKU
from demo.seeder import seed_demo


class Command(BaseCommand):
    help = (
        "Load deterministic demo data (points, products, stock, channels, ~160 orders in "
        "every state, returns, refunds) through the services, and create or reset the demo "
        "users. Safe to run again: an existing demo is left as it is."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even with DEBUG off. The demo users have published passwords: "
            "never use this on a database that matters.",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo creates users with published passwords and runs only with "
                "DEBUG on; pass --force to seed a throwaway database anyway."
            )
        result = seed_demo()
        counts = result["counts"]
        if result["created"]:
            self.stdout.write(self.style.SUCCESS("Demo data created."))
        else:
            self.stdout.write(
                f"Demo data already present (product {MARKER_SKU} exists): nothing added. "
                "Delete db.sqlite3 (or use a fresh database) to start over."
            )
        for label, value in counts.items():
            if isinstance(value, dict):
                value = ", ".join(f"{k} {v}" for k, v in sorted(value.items())) or "-"
            self.stdout.write(f"  {label:<20} {value}")
        self.stdout.write("")
        self.stdout.write("Demo logins (users reset on every run):")
        for username, _, _, _, purpose in DEMO_USERS:
            _, password, token = result["users"][username]
            self.stdout.write(f"  {username:<12} / {password:<22} {purpose}")
            if token:
                self.stdout.write(f"  {'':<12}   API token: {token}")
