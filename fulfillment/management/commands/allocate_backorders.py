from django.core.management.base import BaseCommand, CommandError

from fulfillment.services import allocate_backorders
from inventory.models import Product


class Command(BaseCommand):
    help = (
        "Offer available stock to confirmed orders with backordered lines, oldest placed "
        "first (what the queued job does when stock arrives)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--sku", action="append", default=[], help="Only lines of this SKU (repeatable)"
        )
        parser.add_argument("--limit", type=int, default=None, help="At most this many orders")

    def handle(self, *args, sku, limit, **options):
        product_ids = None
        if sku:
            products = dict(Product.objects.filter(sku__in=sku).values_list("sku", "pk"))
            unknown = sorted(set(sku) - products.keys())
            if unknown:
                raise CommandError(f"Unknown SKU: {', '.join(unknown)}")
            product_ids = sorted(products.values())
        if limit is not None and limit <= 0:
            raise CommandError("--limit must be greater than 0")
        filled = allocate_backorders(product_ids=product_ids, limit=limit, actor="command")
        scope = f" ({', '.join(sku)})" if sku else ""
        self.stdout.write(
            self.style.SUCCESS(f"Allocated stock to {filled} backordered order(s){scope}")
        )
