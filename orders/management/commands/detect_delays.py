"""``manage.py detect_delays``: run the delay detection once and print what changed."""

from django.core.management.base import BaseCommand

from orders.delays import detect_delays


class Command(BaseCommand):
    help = "Flag orders at risk of missing their ship-by date, and shipped orders that are late."

    def handle(self, *args, **options):
        result = detect_delays()
        self.stdout.write(
            f"At risk: {result['at_risk_total']} order(s), newly flagged "
            f"{len(result['at_risk'])}, cleared {result['at_risk_cleared']}"
        )
        for number in result["at_risk"]:
            self.stdout.write(f"  at risk  {number}")
        self.stdout.write(
            f"Late: {result['late_total']} order(s), newly flagged {len(result['late'])}, "
            f"cleared {result['late_cleared']}"
        )
        for number in result["late"]:
            self.stdout.write(f"  late     {number}")
