from django.db.models import F, Q, Sum

from inventory.models import StockLevel, StockMovement


def stock_level_list(*, filters: dict | None = None):
    qs = StockLevel.objects.select_related("product", "warehouse").annotate(
        available_qty=F("on_hand") - F("reserved")
    )
    return qs.filter(**(filters or {}))


def stock_levels_out_of_bounds() -> int:
    """How many stock levels have on_hand or reserved below zero, or more reserved than
    on hand (what the race checks watch for; the CHECK constraints forbid it)."""
    return StockLevel.objects.filter(
        Q(on_hand__lt=0) | Q(reserved__lt=0) | Q(reserved__gt=F("on_hand"))
    ).count()


def stock_ledger_mismatches() -> list[dict]:
    """Stock levels whose on_hand/reserved differ from the sums of their movements,
    including levels with movements but no row and rows with quantities but no movements."""
    sums = {
        (row["product_id"], row["warehouse_id"]): (row["on_hand"] or 0, row["reserved"] or 0)
        for row in StockMovement.objects.values("product_id", "warehouse_id").annotate(
            on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta")
        )
    }
    mismatches = []
    seen = set()
    for level in StockLevel.objects.select_related("product", "warehouse").iterator():
        key = (level.product_id, level.warehouse_id)
        seen.add(key)
        ledger_on_hand, ledger_reserved = sums.get(key, (0, 0))
        if (level.on_hand, level.reserved) != (ledger_on_hand, ledger_reserved):
            mismatches.append(
                {
                    "sku": level.product.sku,
                    "warehouse": level.warehouse.code,
                    "on_hand": level.on_hand,
                    "reserved": level.reserved,
                    "ledger_on_hand": ledger_on_hand,
                    "ledger_reserved": ledger_reserved,
                }
            )
    for key, (on_hand, reserved) in sums.items():
        if key not in seen and (on_hand or reserved):
            mismatches.append(
                {
                    "sku": key[0],
                    "warehouse": key[1],
                    "on_hand": None,
                    "reserved": None,
                    "ledger_on_hand": on_hand,
                    "ledger_reserved": reserved,
                }
            )
    return mismatches


def product_by_code(code: str):
    """The product a scan names: its barcode first, else its SKU (any case); or None."""
    from inventory.models import Product

    code = (code or "").strip()
    if not code:
        return None
    return (
        Product.objects.filter(barcode=code).first()
        or Product.objects.filter(sku__iexact=code).first()
    )
