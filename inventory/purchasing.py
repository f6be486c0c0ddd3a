"""Purchase orders: create, send, receive (partly, fully or more than ordered), close
short, cancel; and draft purchase orders from replenishment suggestions.

States (``PurchaseOrder.Status``, moves in ``PO_TRANSITIONS``)::

    draft -> sent -> partially_received -> received
    draft, sent -> cancelled            partially_received -> received (closed short)

A completely received order still takes extra units (recorded as an over-receipt); one
closed short or cancelled takes nothing more.

Receiving writes ``receipt`` movements with the PO number as reference through
``inventory.services.stock_apply`` (the one path that writes stock), so backordered
orders waiting for those SKUs get the stock after commit, oldest first. Each move
writes a ``PurchaseOrderEvent`` in the same transaction.

Locking: the purchase order row first (``SELECT ... FOR UPDATE``), then the stock
levels it touches in primary-key order (``stock_apply``).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inventory.exceptions import StockError
from inventory.models import (
    Product,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    Supplier,
    SupplierProduct,
    Warehouse,
)
from inventory.services import StockChange, _check_quantity, stock_apply
from kernel.actors import actor_name
from kernel.exceptions import InvalidTransition
from kernel.numbering import next_number

Status = PurchaseOrder.Status
PO_TRANSITIONS = {
    Status.DRAFT: {Status.SENT, Status.CANCELLED},
    Status.SENT: {Status.PARTIALLY_RECEIVED, Status.RECEIVED, Status.CANCELLED},
    Status.PARTIALLY_RECEIVED: {Status.PARTIALLY_RECEIVED, Status.RECEIVED},
    Status.RECEIVED: {Status.RECEIVED},  # extra units after a complete receipt
    Status.CANCELLED: set(),
}
MAX_LINES = 500


def _event(po: PurchaseOrder, kind: str, message: str, actor=None, **data) -> PurchaseOrderEvent:
    return PurchaseOrderEvent.objects.create(
        purchase_order=po, kind=kind, message=message[:500], data=data, actor=actor_name(actor)
    )


def _transition(po: PurchaseOrder, new: str, move: str, *, fields=()) -> None:
    if new not in PO_TRANSITIONS[po.status]:
        raise InvalidTransition(
            entity="Purchase order", number=po.number, current=po.status, move=move
        )
    po.status = new
    po.save(update_fields=["status", "updated_at", *fields])


def _lock(po: PurchaseOrder) -> PurchaseOrder:
    return (
        PurchaseOrder.objects.select_for_update(of=("self",))
        .select_related("supplier", "warehouse")
        .get(pk=po.pk)
    )


def _cost(value, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise StockError(f"{field} must be a decimal number", field=field) from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e10"):
        raise StockError(f"{field} must be between 0 and 9999999999.99", field=field)
    return amount.quantize(Decimal("0.01"))


def supplier_for(product: Product) -> SupplierProduct | None:
    """The preferred active supplier of ``product`` (lowest priority), or None."""
    return (
        SupplierProduct.objects.filter(product=product, supplier__active=True)
        .select_related("supplier")
        .order_by("priority", "supplier__code")
        .first()
    )


@transaction.atomic
def purchase_order_create(
    *,
    supplier: Supplier,
    warehouse: Warehouse,
    lines: Sequence[dict],
    expected_date: date | None = None,
    currency: str = "",
    notes: str = "",
    actor=None,
) -> PurchaseOrder:
    """A draft purchase order. ``lines``: dicts with ``product``, ``quantity`` and
    optional ``unit_cost`` (default: the supplier's price for the product, else 0) and
    ``expected_date`` (default: the order's, which defaults to today plus the supplier's
    lead time). A product appears once per order. Takes no locks."""
    if not supplier.active:
        raise StockError(f"Supplier {supplier.code} is inactive", field="supplier")
    if not warehouse.active:
        raise StockError(f"Warehouse {warehouse.code} is inactive", field="warehouse")
    if not lines:
        raise StockError("A purchase order needs at least one line", field="lines")
    if len(lines) > MAX_LINES:
        raise StockError(f"At most {MAX_LINES} lines", field="lines")
    expected_date = expected_date or timezone.localdate() + timedelta(days=supplier.lead_time_days)
    products = [line["product"] for line in lines]
    if len({p.pk for p in products}) != len(products):
        raise StockError("Each product may appear once on a purchase order", field="lines")
    prices = dict(
        SupplierProduct.objects.filter(supplier=supplier, product__in=products).values_list(
            "product_id", "unit_cost"
        )
    )
    rows = []
    for line in lines:
        _check_quantity(line.get("quantity"))
        cost = line.get("unit_cost")
        rows.append(
            PurchaseOrderLine(
                product=line["product"],
                quantity=line["quantity"],
                unit_cost=_cost(cost, "unit_cost")
                if cost is not None
                else prices.get(line["product"].pk, Decimal("0.00")),
                expected_date=line.get("expected_date") or expected_date,
            )
        )
    po = PurchaseOrder.objects.create(
        number=next_number("purchaseorder"),
        supplier=supplier,
        warehouse=warehouse,
        currency=(currency or supplier.currency).upper()[:3],
        expected_date=expected_date,
        notes=notes,
    )
    for row in rows:
        row.purchase_order = po
    PurchaseOrderLine.objects.bulk_create(rows)
    units = sum(r.quantity for r in rows)
    _event(
        po,
        "created",
        f"Draft for {supplier.code}: {len(rows)} line(s), {units} unit(s) to {warehouse.code}, "
        f"expected {expected_date:%d %b %Y}",
        actor,
        lines=[{"sku": r.product.sku, "quantity": r.quantity} for r in rows],
    )
    return po


@transaction.atomic
def purchase_order_send(*, purchase_order: PurchaseOrder, actor=None) -> PurchaseOrder:
    """draft -> sent: the goods are now due (incoming counts, expected dates)."""
    po = _lock(purchase_order)
    po.sent_at = timezone.now()
    _transition(po, Status.SENT, "send", fields=["sent_at"])
    _event(po, "sent", f"Sent to {po.supplier.name}", actor)
    return po


@transaction.atomic
def purchase_order_cancel(
    *, purchase_order: PurchaseOrder, reason: str = "", actor=None
) -> PurchaseOrder:
    """draft or sent (nothing received) -> cancelled."""
    po = _lock(purchase_order)
    po.closed_at = timezone.now()
    _transition(po, Status.CANCELLED, "cancel", fields=["closed_at"])
    _event(po, "cancelled", "Cancelled" + (f": {reason}" if reason else ""), actor, reason=reason)
    return po


@dataclass
class ReceiptLine:
    sku: str
    quantity: int
    ordered: int
    received: int  # in all, this receipt included

    @property
    def over(self) -> int:
        return max(self.received - self.ordered, 0)

    @property
    def remaining(self) -> int:
        return max(self.ordered - self.received, 0)


@dataclass
class Receipt:
    purchase_order: PurchaseOrder
    lines: list[ReceiptLine] = field(default_factory=list)

    @property
    def over(self) -> list[ReceiptLine]:
        return [line for line in self.lines if line.over]


@transaction.atomic
def purchase_order_receive(
    *,
    purchase_order: PurchaseOrder,
    quantities: Iterable[tuple[Product, int]],
    note: str = "",
    actor=None,
) -> Receipt:
    """Goods in against a sent purchase order: ``quantities`` of its products arrive at
    its point (``receipt`` movements, reference = the PO number). More than ordered is
    accepted and recorded as an over-receipt (also after the order was completely
    received: the last carton's extras); less leaves the order partially received
    (``purchase_order_close`` closes it short). A product not on the order is refused.
    Locks the order, then the stock levels in pk order."""
    po = _lock(purchase_order)
    lines = {line.product_id: line for line in po.lines.select_related("product")}
    # Extra units after a complete receipt are an over-receipt, recorded like any other;
    # a PO closed short or cancelled takes nothing more.
    complete_before = po.status == Status.RECEIVED and all(
        line.quantity_received >= line.quantity for line in lines.values()
    )
    if po.status not in (Status.SENT, Status.PARTIALLY_RECEIVED) and not complete_before:
        detail = {
            Status.DRAFT: "send it to the supplier first",
            Status.RECEIVED: "it was closed short",
        }.get(po.status, "")
        raise InvalidTransition(
            entity="Purchase order",
            number=po.number,
            current=po.status,
            move="receive",
            detail=detail,
        )
    wanted: dict[int, int] = {}
    for product, quantity in quantities:
        _check_quantity(quantity)
        wanted[product.pk] = wanted.get(product.pk, 0) + quantity
    if not wanted:
        raise StockError("Nothing to receive", field="quantity")
    unknown = [pid for pid in wanted if pid not in lines]
    if unknown:
        skus = ", ".join(Product.objects.filter(pk__in=unknown).values_list("sku", flat=True))
        raise StockError(f"Not on {po.number}: {skus}", field="sku")
    stock_apply(
        changes=[
            StockChange(pid, po.warehouse_id, "receipt", qty, 0, po.number, note)
            for pid, qty in sorted(wanted.items())
        ],
        actor=actor,
        create_missing=True,
    )
    receipt = Receipt(purchase_order=po)
    for pid, qty in sorted(wanted.items()):
        line = lines[pid]
        PurchaseOrderLine.objects.filter(pk=line.pk).update(
            quantity_received=F("quantity_received") + qty
        )
        line.quantity_received += qty
        receipt.lines.append(
            ReceiptLine(line.product.sku, qty, line.quantity, line.quantity_received)
        )
    complete = all(line.quantity_received >= line.quantity for line in lines.values())
    fields = []
    if complete and not complete_before:
        po.closed_at = timezone.now()
        fields.append("closed_at")
    _transition(
        po, Status.RECEIVED if complete else Status.PARTIALLY_RECEIVED, "receive", fields=fields
    )
    parts = []
    for r in receipt.lines:
        text = f"{r.sku} x{r.quantity}"
        if r.over:
            text += f" (over-received by {r.over}: {r.received} of {r.ordered})"
        elif r.remaining:
            text += f" ({r.remaining} still due)"
        parts.append(text)
    _event(
        po,
        "received",
        f"Received at {po.warehouse.code}: " + ", ".join(parts),
        actor,
        lines=[
            {
                "sku": r.sku,
                "quantity": r.quantity,
                "received": r.received,
                "ordered": r.ordered,
                "over": r.over,
            }
            for r in receipt.lines
        ],
    )
    if receipt.over:
        _event(
            po,
            "over_received",
            "Over-receipt: "
            + ", ".join(f"{r.sku} +{r.over} over the {r.ordered} ordered" for r in receipt.over),
            actor,
            lines=[{"sku": r.sku, "over": r.over} for r in receipt.over],
        )
    return receipt


@transaction.atomic
def purchase_order_close(
    *, purchase_order: PurchaseOrder, reason: str = "", actor=None
) -> PurchaseOrder:
    """partially_received -> received: the supplier will not send the rest. What was not
    delivered is recorded (an under-receipt) and no longer counts as on order."""
    po = _lock(purchase_order)
    short = [
        {"sku": line.product.sku, "ordered": line.quantity, "short": line.remaining}
        for line in po.lines.select_related("product")
        if line.remaining
    ]
    if po.status != Status.PARTIALLY_RECEIVED:
        raise InvalidTransition(
            entity="Purchase order",
            number=po.number,
            current=po.status,
            move="close short",
            detail="cancel it instead" if po.status in (Status.DRAFT, Status.SENT) else "",
        )
    po.closed_at = timezone.now()
    _transition(po, Status.RECEIVED, "close", fields=["closed_at"])
    _event(
        po,
        "closed_short",
        "Closed short: "
        + ", ".join(f"{s['sku']} {s['short']} of {s['ordered']} not delivered" for s in short)
        + (f" ({reason})" if reason else ""),
        actor,
        short=short,
        reason=reason,
    )
    return po


# --------------------------------------------------------------------------- suggestions


@dataclass
class DraftResult:
    purchase_orders: list[PurchaseOrder]
    without_supplier: list[str]  # SKUs left out: no supplier to order them from


def purchase_orders_from_suggestions(
    *, items: Sequence[tuple[Product, Warehouse | None, int]], actor=None
) -> DraftResult:
    """Draft purchase orders for the chosen replenishment suggestions, one per
    (preferred supplier, destination point); a row over all points goes to the first
    active point by priority. SKUs without an active supplier are left out and named.
    All drafts in one transaction."""
    first_point = Warehouse.objects.filter(active=True).order_by("priority", "code").first()
    groups: dict[tuple[int, int], list[dict]] = {}
    suppliers: dict[int, Supplier] = {}
    points: dict[int, Warehouse] = {}
    missing = []
    for product, warehouse, quantity in items:
        if quantity <= 0:
            continue
        source = supplier_for(product)
        point = warehouse or first_point
        if source is None or point is None:
            missing.append(product.sku)
            continue
        suppliers[source.supplier_id] = source.supplier
        points[point.pk] = point
        group = groups.setdefault((source.supplier_id, point.pk), [])
        existing = next((g for g in group if g["product"].pk == product.pk), None)
        if existing:
            existing["quantity"] += quantity
        else:
            group.append({"product": product, "quantity": quantity})
    created = []
    with transaction.atomic():
        for (supplier_id, point_id), lines in sorted(groups.items()):
            created.append(
                purchase_order_create(
                    supplier=suppliers[supplier_id],
                    warehouse=points[point_id],
                    lines=sorted(lines, key=lambda line: line["product"].sku),
                    notes="From replenishment suggestions",
                    actor=actor,
                )
            )
    return DraftResult(created, sorted(set(missing)))
