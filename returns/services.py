"""Returns (RMA) and refunds.

Locks: the order row first, then the return request, then stock levels (restock), the
same order as every other order-level service.
"""

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from inventory.models import StockMovement, Warehouse
from inventory.services import StockChange, stock_apply
from kernel import webhooks
from kernel.actors import actor_name
from kernel.exceptions import Conflict, InvalidTransition
from kernel.money import MoneyPlacesError, money_exact, quantize_money
from kernel.numbering import next_number
from orders import services as order_services
from orders.models import Order, OrderEvent, OrderLine
from orders.notifications import notify_customer
from returns import exchanges
from returns.exceptions import ReturnInvalid
from returns.models import RETURN_TRANSITIONS, Refund, ReturnLine, ReturnRequest

Status = ReturnRequest.Status


def _lock(rma: ReturnRequest) -> ReturnRequest:
    order_services.order_lock(rma.order)
    fresh = ReturnRequest.objects.select_for_update(of=("self",)).get(pk=rma.pk)
    for f in ReturnRequest._meta.concrete_fields:
        if f.attname != "order_id":
            setattr(rma, f.attname, getattr(fresh, f.attname))
    return rma


def _move(rma: ReturnRequest, new_status: str, move: str, extra_fields=()) -> None:
    if new_status not in RETURN_TRANSITIONS[rma.status]:
        raise InvalidTransition(entity="Return", number=rma.number, current=rma.status, move=move)
    rma.status = new_status
    rma.save(update_fields=["status", *extra_fields])


def _event(rma: ReturnRequest, kind: str, message: str, actor, public=True, data=None):
    order_services.order_add_event(
        order=rma.order,
        kind=kind,
        message=message,
        actor=actor,
        public=public,
        data={"return": rma.number, **(data or {})},
    )


def returnable_quantities(order: Order) -> dict[int, int]:
    """Order line id -> units that may still be requested back: shipped minus what open
    or received returns already cover."""
    claimed = dict(
        ReturnLine.objects.filter(return_request__order=order)
        .exclude(return_request__status=Status.REJECTED)
        .values_list("order_line_id")
        .annotate(total=Sum("quantity"))
    )
    return {line.pk: line.quantity_shipped - claimed.get(line.pk, 0) for line in order.lines.all()}


@transaction.atomic
def return_request(*, order: Order, lines: Sequence[dict], actor=None) -> ReturnRequest:
    """Open an RMA. ``lines``: dicts with ``order_line`` (or ``sku``), ``quantity``,
    ``reason``, ``customer_comment``, and for an exchange ``replacement_sku`` (or
    ``replacement_product``) and ``replacement_quantity`` (``returns.exchanges``).
    Never more than shipped minus already returned."""
    order_services.order_lock(order)
    if not lines:
        raise ReturnInvalid("A return needs at least one line", field="lines")
    returnable = returnable_quantities(order)
    order_lines = {ol.pk: ol for ol in order.lines.all()}
    by_sku = {ol.sku: ol for ol in order_lines.values()}
    rows = []
    for i, line in enumerate(lines):
        order_line = line.get("order_line") or by_sku.get(line.get("sku") or "")
        if order_line is None or order_line.pk not in order_lines:
            raise ReturnInvalid(
                f"Line {i + 1} is not on order {order.number}", field=f"lines[{i}].sku"
            )
        quantity = line.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise ReturnInvalid(
                "quantity must be a whole number greater than 0", field=f"lines[{i}].quantity"
            )
        if quantity > returnable[order_line.pk]:
            raise ReturnInvalid(
                f"{order_line.sku}: {quantity} requested but only {returnable[order_line.pk]} "
                "shipped and not yet returned",
                field=f"lines[{i}].quantity",
            )
        returnable[order_line.pk] -= quantity
        reason = line.get("reason") or ReturnLine.Reason.OTHER
        if reason not in ReturnLine.Reason.values:
            raise ReturnInvalid(f"Unknown reason {reason!r}", field=f"lines[{i}].reason")
        replacement, replacement_quantity = exchanges.exchange_parse(
            order=order, order_line=order_line, line=line, quantity=quantity, index=i
        )
        rows.append(
            ReturnLine(
                order_line=order_line,
                quantity=quantity,
                reason=reason,
                customer_comment=line.get("customer_comment", ""),
                replacement_product=replacement,
                replacement_quantity=replacement_quantity,
            )
        )
    rma = ReturnRequest.objects.create(number=next_number("return"), order=order)
    for row in rows:
        row.return_request = rma
    ReturnLine.objects.bulk_create(rows)
    _event(
        rma,
        OrderEvent.Kind.RETURN_REQUESTED,
        f"Return {rma.number} requested: "
        + ", ".join(
            f"{r.order_line.sku} x{r.quantity} ({r.reason})"
            + (
                f" for {r.replacement_product.sku} x{r.replacement_quantity}"
                if r.replacement_product
                else ""
            )
            for r in rows
        ),
        actor,
    )
    webhooks.publish_return("return.requested", rma)
    return rma


@transaction.atomic
def return_approve(*, return_request: ReturnRequest, actor=None) -> ReturnRequest:
    """requested -> approved; an exchange places its replacement order in the same
    transaction (``returns.exchanges.exchange_place``)."""
    rma = _lock(return_request)
    rma.approved_at = timezone.now()
    _move(rma, Status.APPROVED, "approve", extra_fields=["approved_at"])
    _event(rma, OrderEvent.Kind.RETURN_APPROVED, f"Return {rma.number} approved", actor)
    exchanges.exchange_place(rma=rma, actor=actor)
    return rma


@transaction.atomic
def return_reject(*, return_request: ReturnRequest, reason: str, actor=None) -> ReturnRequest:
    rma = _lock(return_request)
    reason = (reason or "").strip()
    if not reason:
        raise ReturnInvalid("A rejection needs a reason", field="reason")
    rma.reject_reason = reason[:255]
    rma.closed_at = timezone.now()
    _move(rma, Status.REJECTED, "reject", extra_fields=["reject_reason", "closed_at"])
    _event(rma, OrderEvent.Kind.RETURN_REJECTED, f"Return {rma.number} rejected: {reason}", actor)
    return rma


@transaction.atomic
def return_receive(
    *, return_request: ReturnRequest, lines: Sequence[dict] | None = None, actor=None
) -> ReturnRequest:
    """Record what came back. ``lines``: dicts with ``return_line`` (or ``sku``),
    ``quantity_received``, ``condition``, ``disposition`` (``restock``/``scrap``) and
    ``restock_warehouse`` (default: the warehouse that shipped it). Restocked units write
    ``return_restock`` movements; scrapped units touch no stock. Omitted lines are
    received in full, as new, restocked. A replacement held for the return is released
    and routed (``returns.exchanges.exchange_release``); its order row is locked here,
    after the RMA and before any stock level, like every order-level service."""
    rma = _lock(return_request)
    if rma.replacement_order_id:
        order_services.order_lock(rma.replacement_order)
    if rma.status != Status.APPROVED:
        raise InvalidTransition(
            entity="Return", number=rma.number, current=rma.status, move="receive"
        )
    rlines = list(rma.lines.select_related("order_line__product").order_by("pk"))
    by_id = {rl.pk: rl for rl in rlines}
    by_sku = {rl.order_line.sku: rl for rl in rlines}
    given = {}
    for i, entry in enumerate(lines or []):
        rl = (
            entry.get("return_line")
            or by_id.get(entry.get("id"))
            or by_sku.get(entry.get("sku") or "")
        )
        if rl is None or rl.pk not in by_id:
            raise ReturnInvalid(f"Line {i + 1} is not on return {rma.number}", field=f"lines[{i}]")
        given[rl.pk] = (i, entry)

    changes = []
    order_lines = {
        ol.pk: ol
        for ol in OrderLine.objects.select_for_update(of=("self",))
        .filter(order=rma.order)
        .order_by("pk")
    }
    default_wh = _shipping_warehouses(rma.order)
    for rl in rlines:
        i, entry = given.get(rl.pk, (None, {}))
        field = f"lines[{i}]" if i is not None else "lines"
        qty = entry.get("quantity_received", rl.quantity)
        if isinstance(qty, bool) or not isinstance(qty, int) or qty < 0 or qty > rl.quantity:
            raise ReturnInvalid(
                f"{rl.order_line.sku}: received quantity must be 0..{rl.quantity}",
                field=f"{field}.quantity_received",
            )
        condition = entry.get("condition") or ReturnLine.Condition.NEW
        if condition not in ReturnLine.Condition.values:
            raise ReturnInvalid(f"Unknown condition {condition!r}", field=f"{field}.condition")
        disposition = entry.get("disposition") or ReturnLine.Disposition.RESTOCK
        if disposition not in ReturnLine.Disposition.values:
            raise ReturnInvalid(
                f"Unknown disposition {disposition!r}", field=f"{field}.disposition"
            )
        warehouse = entry.get("restock_warehouse") or default_wh.get(rl.order_line_id)
        if disposition == ReturnLine.Disposition.RESTOCK and qty:
            if warehouse is None or not isinstance(warehouse, Warehouse):
                raise ReturnInvalid(
                    f"{rl.order_line.sku}: choose a warehouse to restock to",
                    field=f"{field}.restock_warehouse",
                )
            changes.append(
                StockChange(
                    rl.order_line.product_id,
                    warehouse.pk,
                    StockMovement.Kind.RETURN_RESTOCK,
                    qty,
                    0,
                    rma.number,
                    f"{condition} return of {rma.order.number}",
                )
            )
        rl.quantity_received = qty
        rl.condition = condition
        rl.disposition = disposition
        rl.restock_warehouse = warehouse if disposition == ReturnLine.Disposition.RESTOCK else None
        order_lines[rl.order_line_id].quantity_returned += qty
    if changes:
        stock_apply(changes=changes, actor=actor, create_missing=True)
    ReturnLine.objects.bulk_update(
        rlines, ["quantity_received", "condition", "disposition", "restock_warehouse"]
    )
    OrderLine.objects.bulk_update(order_lines.values(), ["quantity_returned"])
    rma.received_at = timezone.now()
    _move(rma, Status.RECEIVED, "receive", extra_fields=["received_at"])
    _event(
        rma,
        OrderEvent.Kind.RETURN_RECEIVED,
        f"Return {rma.number} received: "
        + ", ".join(
            f"{rl.order_line.sku} x{rl.quantity_received} {rl.disposition}" for rl in rlines
        ),
        actor,
    )
    exchanges.exchange_release(rma=rma, actor=actor)
    webhooks.publish_return("return.received", rma)
    notify_customer(order=rma.order, kind="return_received", reference=rma.number)
    return rma


def _shipping_warehouses(order: Order) -> dict[int, Warehouse]:
    """Order line id -> the warehouse that shipped it (first shipment)."""
    from django.apps import apps

    ShipmentLine = apps.get_model("fulfillment", "ShipmentLine")
    result = {}
    for sl in (
        ShipmentLine.objects.filter(
            shipment__order=order, shipment__status__in=["shipped", "delivered"]
        )
        .select_related("shipment__warehouse")
        .order_by("pk")
    ):
        result.setdefault(sl.order_line_id, sl.shipment.warehouse)
    return result


def return_value(rma: ReturnRequest) -> Decimal:
    """What the customer paid for what was received back: the lines' prices after their
    discounts (tax and shipping are not in it: they are refunded only when chosen),
    less what went to the replacements of an exchange (``exchanges.exchange_credit``)."""
    currency = rma.order.currency
    return quantize_money(
        sum(
            (
                rl.order_line.paid_for(rl.quantity_received, currency=currency)
                for rl in rma.lines.select_related("order_line")
            ),
            Decimal("0"),
        )
        - exchanges.exchange_credit(rma),
        currency,
    )


def refund_parts_left(order: Order) -> dict[str, Decimal]:
    """What may still be refunded on the order: in all (captured minus refunded), and of
    its tax and its shipping (their totals minus what refunds gave back of them)."""
    given = Refund.objects.filter(order=order).aggregate(
        tax=Sum("tax_amount"), shipping=Sum("shipping_amount")
    )
    return {
        "total": order_services.refundable_amount(order),
        "tax": max(order.tax_total - (given["tax"] or 0), Decimal("0")),
        "shipping": max(order.shipping_total - (given["shipping"] or 0), Decimal("0")),
    }


def return_refund_proposal(rma: ReturnRequest) -> dict[str, Decimal]:
    """What the refund form shows: the returned lines' paid amount (the default), the
    tax and shipping that could be given back with it (not included unless chosen), and
    what is left to refund on the order."""
    left = refund_parts_left(rma.order)
    return {
        "items": return_value(rma),
        "tax_available": left["tax"],
        "shipping_available": left["shipping"],
        "refundable": left["total"],
    }


@transaction.atomic
def refund_create(
    *,
    order: Order,
    amount: Decimal,
    return_request: ReturnRequest | None = None,
    reference: str = "",
    actor=None,
    tax_amount: Decimal = Decimal("0"),
    shipping_amount: Decimal = Decimal("0"),
) -> Refund:
    """Refund money on an order (never more than captured minus refunded: a conflict
    otherwise); the financial status follows. ``tax_amount`` and ``shipping_amount``
    say how much of ``amount`` gives back tax and shipping (never more of either than
    the order had, less what refunds gave back of it). With a received
    ``return_request`` the return becomes ``refunded``."""
    if return_request is not None:
        rma = _lock(return_request)
        if rma.order_id != order.pk:
            raise ReturnInvalid(
                f"Return {rma.number} is not on order {order.number}", field="return_request"
            )
        if rma.status != Status.RECEIVED:
            raise InvalidTransition(
                entity="Return", number=rma.number, current=rma.status, move="refund"
            )
    order_services.order_lock(order)
    tax_amount = _part(tax_amount, "tax_amount", order.currency)
    shipping_amount = _part(shipping_amount, "shipping_amount", order.currency)
    left = refund_parts_left(order)
    for name, part in (("tax", tax_amount), ("shipping", shipping_amount)):
        if part > left[name]:
            raise Conflict(
                f"{name}_amount {part} {order.currency} is more than the order's {name} left "
                f"to refund ({left[name]} {order.currency})",
                field=f"{name}_amount",
            )
    order_services.order_record_refund(order=order, amount=amount, actor=actor, reference=reference)
    amount = quantize_money(Decimal(str(amount)), order.currency)
    if tax_amount + shipping_amount > amount:
        raise ReturnInvalid(
            "tax_amount and shipping_amount together are more than the refund", field="amount"
        )
    refund = Refund.objects.create(
        order=order,
        return_request=return_request,
        amount=amount,
        items_amount=amount - tax_amount - shipping_amount,
        tax_amount=tax_amount,
        shipping_amount=shipping_amount,
        currency=order.currency,
        reference=reference[:128],
        actor=actor_name(actor),
    )
    refund.refresh_from_db(fields=["amount"])
    if return_request is not None:
        _move(return_request, Status.REFUNDED, "refund")
    order_services.order_add_event(
        order=order,
        kind=OrderEvent.Kind.REFUNDED,
        actor=actor,
        public=True,
        message=f"Refunded {refund.amount} {refund.currency}"
        + (f" for return {return_request.number}" if return_request else ""),
        data={"amount": str(refund.amount), "return": getattr(return_request, "number", None)},
    )
    webhooks.publish_refund(refund)
    notify_customer(order=order, kind="refunded", reference=str(refund.pk))
    return refund


def _part(value, field: str, currency: str) -> Decimal:
    if value in (None, ""):
        return Decimal("0")
    try:
        amount = money_exact(Decimal(str(value)), currency)
    except (InvalidOperation, MoneyPlacesError) as exc:
        raise ReturnInvalid(f"{field}: {exc or 'not an amount'}", field=field) from None
    if amount < 0:
        raise ReturnInvalid(f"{field} must not be negative", field=field)
    return amount


@transaction.atomic
def return_refund(
    *,
    return_request: ReturnRequest,
    amount: Decimal | None = None,
    tax_amount: Decimal | None = None,
    shipping_amount: Decimal | None = None,
    reference: str = "",
    actor=None,
) -> Refund:
    """Refund a received return: by default what the customer paid for what came back
    (the lines after their discounts), plus the ``tax_amount`` and ``shipping_amount``
    chosen (none unless given). An explicit ``amount`` replaces the whole sum."""
    currency = return_request.order.currency
    tax = _part(tax_amount, "tax_amount", currency)
    shipping = _part(shipping_amount, "shipping_amount", currency)
    if amount is None:
        amount = return_value(return_request) + tax + shipping
    return refund_create(
        order=return_request.order,
        amount=amount,
        return_request=return_request,
        reference=reference,
        actor=actor,
        tax_amount=tax,
        shipping_amount=shipping,
    )


@transaction.atomic
def return_close(*, return_request: ReturnRequest, actor=None) -> ReturnRequest:
    rma = _lock(return_request)
    rma.closed_at = timezone.now()
    _move(rma, Status.CLOSED, "close", extra_fields=["closed_at"])
    return rma
