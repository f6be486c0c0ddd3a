"""Shipment lifecycle: pick, pack, ship, deliver, cancel.

Locks: the order row first (``orders.services.order_lock``), then the shipment, then
its stock levels in pk order, the same order as allocation, so shipment actions and
allocations never deadlock each other.
"""

from decimal import InvalidOperation

from django.db import transaction
from django.utils import timezone

from fulfillment.exceptions import FulfillmentError
from fulfillment.models import (
    OPEN_SHIPMENT_STATUSES,
    SHIPMENT_TRANSITIONS,
    Shipment,
    ShipmentLine,
)
from fulfillment.services.allocation import order_allocate
from inventory.models import StockMovement
from inventory.services import StockChange, stock_apply, stock_lock_levels
from kernel import webhooks
from kernel.exceptions import InvalidTransition
from kernel.money import quantize_money
from orders import services as order_services
from orders.models import Order, OrderEvent, OrderLine
from orders.notifications import notify_customer

Status = Shipment.Status


def _lock(shipment: Shipment) -> Shipment:
    """Lock the order, then the shipment; refresh ``shipment`` in place."""
    order_services.order_lock(shipment.order)
    fresh = Shipment.objects.select_for_update(of=("self",)).get(pk=shipment.pk)
    for f in Shipment._meta.concrete_fields:
        if f.attname != "order_id":
            setattr(shipment, f.attname, getattr(fresh, f.attname))
    return shipment


def _move(shipment: Shipment, new_status: str, move: str, extra_fields=()) -> None:
    if new_status not in SHIPMENT_TRANSITIONS[shipment.status]:
        raise InvalidTransition(
            entity="Shipment", number=shipment.number, current=shipment.status, move=move
        )
    shipment.status = new_status
    shipment.save(update_fields=["status", *extra_fields])


def _require_order_active(shipment: Shipment, move: str) -> None:
    order = shipment.order
    if order.status == Order.Status.ON_HOLD:
        raise InvalidTransition(
            entity="Shipment",
            number=shipment.number,
            current=shipment.status,
            move=move,
            detail=f"order {order.number} is on hold ({order.hold_reason})",
        )
    if order.status == Order.Status.CANCELLED:
        raise InvalidTransition(
            entity="Shipment",
            number=shipment.number,
            current=shipment.status,
            move=move,
            detail=f"order {order.number} is cancelled",
        )


def _lines(shipment: Shipment) -> list[ShipmentLine]:
    return list(
        ShipmentLine.objects.select_for_update(of=("self",))
        .select_related("order_line")
        .filter(shipment=shipment)
        .order_by("pk")
    )


def _event(shipment: Shipment, kind: str, message: str, actor, public=False, data=None):
    order_services.order_add_event(
        order=shipment.order,
        kind=kind,
        message=message,
        actor=actor,
        public=public,
        data={"shipment": shipment.number, **(data or {})},
    )


@transaction.atomic
def shipment_start_picking(*, shipment: Shipment, actor=None) -> Shipment:
    _lock(shipment)
    _require_order_active(shipment, "start picking")
    _move(shipment, Status.PICKING, "start picking")
    return shipment


@transaction.atomic
def shipment_pick(
    *, shipment: Shipment, quantities: dict[int, int] | None = None, actor=None
) -> Shipment:
    """Record picked units (``quantities``: shipment line id -> units picked now; all
    remaining units when omitted). When every line is fully picked: ``picked``."""
    _lock(shipment)
    _require_order_active(shipment, "pick")
    if shipment.status not in (Status.ALLOCATED, Status.PICKING):
        raise InvalidTransition(
            entity="Shipment", number=shipment.number, current=shipment.status, move="pick"
        )
    lines = _lines(shipment)
    by_id = {line.pk: line for line in lines}
    if quantities is None:
        quantities = {line.pk: line.quantity - line.quantity_picked for line in lines}
    for line_id, qty in quantities.items():
        line = by_id.get(line_id)
        if line is None:
            raise FulfillmentError(f"Line {line_id} is not on {shipment.number}", field="lines")
        if qty < 0 or line.quantity_picked + qty > line.quantity:
            raise FulfillmentError(
                f"Cannot pick {qty} more of {line.order_line.sku} on {shipment.number}: "
                f"{line.quantity_picked} of {line.quantity} already picked",
                field="quantity",
            )
        line.quantity_picked += qty
    ShipmentLine.objects.bulk_update(lines, ["quantity_picked"])
    if all(line.quantity_picked == line.quantity for line in lines):
        _move(shipment, Status.PICKED, "pick")
        _event(
            shipment,
            OrderEvent.Kind.PICKED,
            f"{shipment.number} picked at {shipment.warehouse.code}",
            actor,
        )
    elif shipment.status == Status.ALLOCATED:
        _move(shipment, Status.PICKING, "pick")
    return shipment


@transaction.atomic
def shipment_pack(*, shipment: Shipment, weight_grams: int | None = None, actor=None) -> Shipment:
    """picked (or allocated/picking: picks everything first) -> packed."""
    _lock(shipment)
    _require_order_active(shipment, "pack")
    if shipment.status in (Status.ALLOCATED, Status.PICKING):
        shipment_pick(shipment=shipment, actor=actor)
    if shipment.status != Status.PICKED:
        raise InvalidTransition(
            entity="Shipment", number=shipment.number, current=shipment.status, move="pack"
        )
    if weight_grams is not None and (weight_grams <= 0 or weight_grams > 1_000_000):
        raise FulfillmentError("weight_grams must be between 1 and 1,000,000", field="weight_grams")
    lines = _lines(shipment)
    for line in lines:
        line.quantity_packed = line.quantity_picked
    ShipmentLine.objects.bulk_update(lines, ["quantity_packed"])
    if weight_grams is None:
        weight_grams = (
            sum(
                line.order_line.product.weight_grams * line.quantity
                for line in ShipmentLine.objects.filter(shipment=shipment).select_related(
                    "order_line__product"
                )
            )
            or None
        )
    shipment.weight_grams = weight_grams
    _move(shipment, Status.PACKED, "pack", extra_fields=["weight_grams"])
    _event(
        shipment,
        OrderEvent.Kind.PACKED,
        f"{shipment.number} packed" + (f", {weight_grams} g" if weight_grams else ""),
        actor,
    )
    return shipment


@transaction.atomic
def shipment_ship(
    *,
    shipment: Shipment,
    carrier: str = "",
    service: str = "",
    tracking_number: str = "",
    shipping_cost=None,
    estimated_delivery=None,
    actor=None,
) -> Shipment:
    """Hand the parcel to the carrier: on_hand and reserved drop together (ledger
    ``ship``), the order lines count it shipped, the order follows. Accepted from
    allocated/picking/picked too, for points that pick and pack outside our pages."""
    _lock(shipment)
    _require_order_active(shipment, "ship")
    if shipment.status not in OPEN_SHIPMENT_STATUSES:
        raise InvalidTransition(
            entity="Shipment", number=shipment.number, current=shipment.status, move="ship"
        )
    lines = _lines(shipment)
    order_lines = {
        ol.pk: ol
        for ol in OrderLine.objects.select_for_update(of=("self",))
        .filter(order=shipment.order)
        .order_by("pk")
    }
    changes = []
    for line in lines:
        line.quantity_picked = line.quantity_packed = line.quantity
        order_line = order_lines[line.order_line_id]
        order_line.quantity_allocated -= line.quantity
        order_line.quantity_shipped += line.quantity
        changes.append(
            StockChange(
                order_line.product_id,
                shipment.warehouse_id,
                StockMovement.Kind.SHIP,
                -line.quantity,
                -line.quantity,
                shipment.number,
                f"order {shipment.order.number}",
            )
        )
    stock_apply(changes=changes, actor=actor)
    ShipmentLine.objects.bulk_update(lines, ["quantity_picked", "quantity_packed"])
    OrderLine.objects.bulk_update(order_lines.values(), ["quantity_allocated", "quantity_shipped"])
    shipment.carrier = (carrier or shipment.carrier)[:64]
    shipment.service = (service or shipment.service)[:64]
    shipment.tracking_number = (tracking_number or shipment.tracking_number)[:64]
    if shipping_cost is not None:
        try:
            shipping_cost = quantize_money(shipping_cost)
        except (InvalidOperation, TypeError, ValueError):
            raise FulfillmentError(
                "shipping_cost must be a decimal number", field="shipping_cost"
            ) from None
        if shipping_cost < 0:
            raise FulfillmentError("shipping_cost must not be negative", field="shipping_cost")
        shipment.shipping_cost = shipping_cost
    if estimated_delivery is not None:
        shipment.estimated_delivery = estimated_delivery
    shipment.shipped_at = timezone.now()
    _move(
        shipment,
        Status.SHIPPED,
        "ship",
        extra_fields=[
            "carrier",
            "service",
            "tracking_number",
            "shipping_cost",
            "estimated_delivery",
            "shipped_at",
        ],
    )
    _event(
        shipment,
        OrderEvent.Kind.SHIPPED,
        f"{shipment.number} shipped from {shipment.warehouse.code}"
        + (f" with {shipment.carrier}" if shipment.carrier else "")
        + (f", tracking {shipment.tracking_number}" if shipment.tracking_number else ""),
        actor,
        public=True,
        data={"carrier": shipment.carrier, "tracking_number": shipment.tracking_number},
    )
    order_services.order_sync_progress(
        order=shipment.order, lines=list(order_lines.values()), actor=actor
    )
    webhooks.publish_shipment("shipment.shipped", shipment)
    notify_customer(order=shipment.order, kind="shipped", reference=shipment.number)
    return shipment


@transaction.atomic
def shipment_deliver(*, shipment: Shipment, actor=None) -> Shipment:
    """shipped -> delivered; the order is delivered once all its shipments are."""
    _lock(shipment)
    if shipment.status == Status.DELIVERED:
        raise InvalidTransition(
            entity="Shipment", number=shipment.number, current=shipment.status, move="deliver"
        )
    shipment.delivered_at = timezone.now()
    _move(shipment, Status.DELIVERED, "deliver", extra_fields=["delivered_at"])
    _event(shipment, OrderEvent.Kind.DELIVERED, f"{shipment.number} delivered", actor, public=True)
    order = shipment.order
    others_open = order.shipments.exclude(status__in=[Status.DELIVERED, Status.CANCELLED]).exists()
    if order.status == Order.Status.SHIPPED and not others_open:
        order_services.order_mark_delivered(order=order, actor=actor)
    webhooks.publish_shipment("shipment.delivered", shipment)
    notify_customer(order=shipment.order, kind="delivered", reference=shipment.number)
    return shipment


@transaction.atomic
def shipment_cancel(
    *, shipment: Shipment, reason: str = "", actor=None, reallocate: bool = False
) -> Shipment:
    """Cancel an unshipped shipment: its reservations are released (ledger ``release``)
    and its units go back to backordered on the order. With ``reallocate`` the order is
    routed again at once."""
    _lock(shipment)
    if shipment.status not in OPEN_SHIPMENT_STATUSES:
        raise InvalidTransition(
            entity="Shipment", number=shipment.number, current=shipment.status, move="cancel"
        )
    if reallocate:
        # Re-routing locks every level of the order's products in pk order; take them now,
        # before the release locks this shipment's levels out of that order (deadlock).
        stock_lock_levels(
            product_ids=set(shipment.order.lines.values_list("product_id", flat=True))
        )
    lines = _lines(shipment)
    order_lines = {
        ol.pk: ol
        for ol in OrderLine.objects.select_for_update(of=("self",))
        .filter(order=shipment.order)
        .order_by("pk")
    }
    changes = []
    for line in lines:
        order_line = order_lines[line.order_line_id]
        order_line.quantity_allocated -= line.quantity
        changes.append(
            StockChange(
                order_line.product_id,
                shipment.warehouse_id,
                StockMovement.Kind.RELEASE,
                0,
                -line.quantity,
                shipment.number,
                reason[:255],
            )
        )
    stock_apply(changes=changes, actor=actor)
    OrderLine.objects.bulk_update(order_lines.values(), ["quantity_allocated"])
    shipment.cancelled_at = timezone.now()
    _move(shipment, Status.CANCELLED, "cancel", extra_fields=["cancelled_at"])
    _event(
        shipment,
        OrderEvent.Kind.SHIPMENT_CANCELLED,
        f"{shipment.number} from {shipment.warehouse.code} cancelled"
        + (f": {reason}" if reason else ""),
        actor,
    )
    order_services.order_sync_progress(
        order=shipment.order, lines=list(order_lines.values()), actor=actor
    )
    if reallocate:
        order_allocate(order=shipment.order, actor=actor)
    return shipment
