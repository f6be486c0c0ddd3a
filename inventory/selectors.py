from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

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


# --------------------------------------------------------------------------- inbound


@dataclass(frozen=True)
class Incoming:
    """Units due at a point: an open purchase order line or a transfer in transit."""

    product_id: int
    warehouse_id: int
    quantity: int
    expected_date: date | None
    reference: str  # PO or transfer number
    kind: str  # "purchase_order" or "transfer"


def incoming(*, product_ids=None, include_drafts: bool = False) -> list[Incoming]:
    """Everything due, earliest first (undated last): the remaining units of purchase
    order lines sent (``include_drafts``: and drafted, what replenishment counts as on
    order) and the units of transfers in transit. Two queries."""
    from inventory.models import PurchaseOrder, PurchaseOrderLine, Transfer, TransferLine

    statuses = PurchaseOrder.OPEN_STATUSES if include_drafts else PurchaseOrder.DUE_STATUSES
    po_lines = PurchaseOrderLine.objects.filter(
        purchase_order__status__in=statuses, quantity__gt=F("quantity_received")
    )
    tr_lines = TransferLine.objects.filter(
        transfer__status__in=Transfer.IN_TRANSIT_STATUSES,
        quantity__gt=F("quantity_received") + F("quantity_lost"),
    )
    if product_ids is not None:
        po_lines = po_lines.filter(product_id__in=list(product_ids))
        tr_lines = tr_lines.filter(product_id__in=list(product_ids))
    rows = [
        Incoming(pid, wid, qty - got, day or po_day, number, "purchase_order")
        for pid, wid, qty, got, day, po_day, number in po_lines.values_list(
            "product_id",
            "purchase_order__warehouse_id",
            "quantity",
            "quantity_received",
            "expected_date",
            "purchase_order__expected_date",
            "purchase_order__number",
        )
    ]
    rows += [
        Incoming(pid, wid, qty - got - gone, day, number, "transfer")
        for pid, wid, qty, got, gone, day, number in tr_lines.values_list(
            "product_id",
            "transfer__destination_id",
            "quantity",
            "quantity_received",
            "quantity_lost",
            "transfer__expected_date",
            "transfer__number",
        )
    ]
    rows.sort(key=lambda r: (r.expected_date or date.max, r.reference, r.product_id))
    return rows


def on_order_by_level(*, product_ids=None) -> dict[tuple[int, int], int]:
    """(product_id, warehouse_id) -> units on order (purchase orders drafted or sent,
    not yet received) or in transit to that point: what replenishment must not order
    again."""
    totals: dict[tuple[int, int], int] = {}
    for row in incoming(product_ids=product_ids, include_drafts=True):
        key = (row.product_id, row.warehouse_id)
        totals[key] = totals.get(key, 0) + row.quantity
    return totals


def in_transit_by_level(*, product_ids=None) -> dict[tuple[int, int], int]:
    """(product_id, destination warehouse_id) -> units in transit to it."""
    totals: dict[tuple[int, int], int] = {}
    for row in incoming(product_ids=product_ids):
        if row.kind == "transfer":
            key = (row.product_id, row.warehouse_id)
            totals[key] = totals.get(key, 0) + row.quantity
    return totals


def next_expected(*, product_ids=None) -> dict[tuple[int, int], date]:
    """(product_id, warehouse_id) -> the earliest expected date of what is due there."""
    found: dict[tuple[int, int], date] = {}
    for row in incoming(product_ids=product_ids):
        key = (row.product_id, row.warehouse_id)
        if row.expected_date and key not in found:
            found[key] = row.expected_date
    return found


def expected_dates(demands: Sequence[tuple[object, int, int]]) -> dict[object, date | None]:
    """When each waiting demand can expect its stock. ``demands``: (key, product_id,
    units) in the order they are served (backordered lines, oldest order first, as
    routing fills them). Each product's incoming units (at any point, earliest first)
    are handed out first come, first served; a demand's date is the day its last unit
    is due, None when what is due does not cover it. Two queries."""
    product_ids = {pid for _, pid, _ in demands}
    if not product_ids:
        return {}
    queues: dict[int, list[list]] = {}
    for row in incoming(product_ids=product_ids):
        if row.expected_date is not None:
            queues.setdefault(row.product_id, []).append([row.expected_date, row.quantity])
    result: dict[object, date | None] = {}
    for key, pid, units in demands:
        queue = queues.get(pid, [])
        day = None
        while units > 0 and queue:
            take = min(units, queue[0][1])
            units -= take
            queue[0][1] -= take
            day = queue[0][0]
            if queue[0][1] == 0:
                queue.pop(0)
        result[key] = day if units <= 0 else None
    return result


def inbound_ledger_mismatches() -> list[dict]:
    """Transfer and purchase order lines whose quantities disagree with the ledger:

    - a dispatched transfer line's ``quantity`` must equal minus the sum of its
      ``transfer_out`` rows at the source, and its ``quantity_received`` the sum of its
      ``transfer_in`` rows at the destination (so ``in transit = out - in - lost``); a
      draft or cancelled transfer has no rows;
    - a purchase order line's ``quantity_received`` must equal the sum of its
      ``receipt`` rows at the order's point.
    """
    from inventory.models import PurchaseOrderLine, Transfer, TransferLine

    Kind = StockMovement.Kind
    transfer_lines = list(
        TransferLine.objects.select_related("transfer", "product").values_list(
            "transfer__number",
            "transfer__status",
            "transfer__source_id",
            "transfer__destination_id",
            "product_id",
            "product__sku",
            "quantity",
            "quantity_received",
            "quantity_lost",
        )
    )
    po_lines = list(
        PurchaseOrderLine.objects.values_list(
            "purchase_order__number",
            "purchase_order__warehouse_id",
            "product_id",
            "product__sku",
            "quantity_received",
        )
    )
    references = {row[0] for row in transfer_lines} | {row[0] for row in po_lines}
    sums: dict[tuple[str, str, int, int], int] = {}
    for start in range(0, len(references), 900):
        chunk = sorted(references)[start : start + 900]
        for row in (
            StockMovement.objects.filter(
                reference__in=chunk, kind__in=[Kind.TRANSFER_OUT, Kind.TRANSFER_IN, Kind.RECEIPT]
            )
            .values("reference", "kind", "product_id", "warehouse_id")
            .annotate(units=Sum("on_hand_delta"))
            .order_by()
        ):
            key = (row["reference"], row["kind"], row["product_id"], row["warehouse_id"])
            sums[key] = row["units"] or 0
    mismatches = []
    moved = {Transfer.Status.DRAFT: False, Transfer.Status.CANCELLED: False}
    for number, status, src, dst, pid, sku, qty, got, gone in transfer_lines:
        out = -sums.get((number, Kind.TRANSFER_OUT, pid, src), 0)
        arrived = sums.get((number, Kind.TRANSFER_IN, pid, dst), 0)
        dispatched = qty if moved.get(status, True) else 0
        if out != dispatched or arrived != got:
            mismatches.append(
                {
                    "reference": number,
                    "sku": sku,
                    "dispatched": dispatched,
                    "ledger_out": out,
                    "received": got,
                    "ledger_in": arrived,
                    "lost": gone,
                    "in_transit": dispatched - got - gone,
                }
            )
    for number, wid, pid, sku, got in po_lines:
        ledger = sums.get((number, Kind.RECEIPT, pid, wid), 0)
        if ledger != got:
            mismatches.append(
                {"reference": number, "sku": sku, "received": got, "ledger_in": ledger}
            )
    return mismatches
