from django.core.management.base import BaseCommand, CommandError

from inventory.models import StockLevel
from inventory.selectors import stock_ledger_mismatches


class Command(BaseCommand):
    help = "Verify that every stock level's on_hand and reserved equal the sums of its ledger."

    def handle(self, *args, **options):
        mismatches = stock_ledger_mismatches()
        for m in mismatches:
            self.stdout.write(
                f"MISMATCH {m['sku']}@{m['warehouse']}: on_hand {m['on_hand']} "
                f"(ledger {m['ledger_on_hand']}), reserved {m['reserved']} "
                f"(ledger {m['ledger_reserved']})"
            )
        if mismatches:
            raise CommandError(f"{len(mismatches)} stock level(s) disagree with the ledger")
        self.stdout.write(
            self.style.SUCCESS(f"Stock ledger clean: {StockLevel.objects.count()} stock levels")
        )
