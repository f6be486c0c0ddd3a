from django.core.management.base import BaseCommand, CommandError

from inventory.models import StockLevel, TransferLine
from inventory.selectors import inbound_ledger_mismatches, stock_ledger_mismatches


class Command(BaseCommand):
    help = (
        "Verify that every stock level's on_hand and reserved equal the sums of its ledger, "
        "and that stock in transit and received on purchase orders equal their movements."
    )

    def handle(self, *args, **options):
        mismatches = stock_ledger_mismatches()
        for m in mismatches:
            self.stdout.write(
                f"MISMATCH {m['sku']}@{m['warehouse']}: on_hand {m['on_hand']} "
                f"(ledger {m['ledger_on_hand']}), reserved {m['reserved']} "
                f"(ledger {m['ledger_reserved']})"
            )
        inbound = inbound_ledger_mismatches()
        for m in inbound:
            if "dispatched" in m:
                self.stdout.write(
                    f"MISMATCH {m['reference']} {m['sku']}: dispatched {m['dispatched']} "
                    f"(ledger {m['ledger_out']}), received {m['received']} "
                    f"(ledger {m['ledger_in']}), lost {m['lost']}, in transit {m['in_transit']}"
                )
            else:
                self.stdout.write(
                    f"MISMATCH {m['reference']} {m['sku']}: received {m['received']} "
                    f"(ledger {m['ledger_in']})"
                )
        if mismatches or inbound:
            raise CommandError(
                f"{len(mismatches)} stock level(s) and {len(inbound)} transfer/purchase order "
                "line(s) disagree with the ledger"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Stock ledger clean: {StockLevel.objects.count()} stock levels, "
                f"{TransferLine.objects.count()} transfer lines"
            )
        )
