"""Allocation: confirm an order and turn a routing plan into reservations and shipments.

Locks, always in this order: the order row, its lines, then every stock level of the
lines' products (pk order, ``inventory.services.stock_lock_levels``). Allocations of
different orders touching the same SKUs therefore queue on the stock rows in one global
order and cannot deadlock; ``retry_on_conflict`` retries if the database ever reports one.
"""

from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import F

from fulfillment.models import OPEN_SHIPMENT_STATUSES, Shipment, ShipmentLine
from fulfillment.routing import STRATEGIES, Need, Plan
from inventory.models import StockLevel, StockMovement, Warehouse
from inventory.services import StockChange, stock_apply, stock_lock_levels
from oms.db import retry_on_conflict
from oms.numbering import next_number
from orders import services as order_services
from orders.models import Order, OrderEvent, OrderLine


def strategy_for(order: Order) -> str:
    return order.channel.routing_strategy or settings.OMS_DEFAULT_ROUTING_STRATEGY


def _needs(lines) -> list[Need]:
    return [
        Need(line, line.quantity_backordered) for line in lines if line.quantity_backordered > 0
    ]


def _plan(order: Order, needs: list[Need], levels: dict, strategy: str) -> Plan:
    warehouses: dict[int, Warehouse] = {}
    available = {}
    for (product_id, warehouse_id), level in levels.items():
        if not level.warehouse.active or level.available <= 0:
            continue  # inactive points and points with nothing available are skipped
        warehouses[warehouse_id] = level.warehouse
        available[(product_id, warehouse_id)] = level.available
    planner = STRATEGIES.get(strategy, STRATEGIES["priority"])
    return planner(needs, list(warehouses.values()), available)


@transaction.atomic
def order_allocate(*, order: Order, actor=None, strategy: str | None = None) -> list[Shipment]:
    """Reserve stock for the order's backordered quantities and create one shipment per
    fulfillment point used. What cannot be reserved stays backordered. Only confirmed
    orders allocate. Returns the shipments created (possibly none)."""
    order_services.order_lock(order)
    if order.status != Order.Status.CONFIRMED:
        return []
    lines = list(
        OrderLine.objects.select_for_update(of=("self",)).filter(order=order).order_by("pk")
    )
    needs = _needs(lines)
    if not needs:
        order_services.order_sync_progress(order=order, lines=lines, actor=actor)
        return []
    levels = stock_lock_levels(product_ids={n.line.product_id for n in needs})
    strategy = strategy or strategy_for(order)
    plan = _plan(order, needs, levels, strategy)

    by_warehouse: dict[int, list[tuple[Need, int]]] = defaultdict(list)
    for need, warehouse, qty in plan.allocations:
        by_warehouse[warehouse.pk].append((need, qty))

    shipments = []
    shipment_lines = []
    changes = []
    for warehouse in plan.warehouses:
        shipment = Shipment.objects.create(
            number=next_number("shipment"), order=order, warehouse=warehouse
        )
        shipments.append(shipment)
        for need, qty in by_warehouse[warehouse.pk]:
            shipment_lines.append(
                ShipmentLine(shipment=shipment, order_line=need.line, quantity=qty)
            )
            need.line.quantity_allocated += qty
            changes.append(
                StockChange(
                    need.line.product_id,
                    warehouse.pk,
                    StockMovement.Kind.RESERVE,
                    0,
                    qty,
                    shipment.number,
                    f"order {order.number}",
                )
            )
    if changes:
        stock_apply(changes=changes, actor=actor, levels=levels)
        ShipmentLine.objects.bulk_create(shipment_lines)
        OrderLine.objects.bulk_update(lines, ["quantity_allocated"])

    backordered = {n.line.sku: n.quantity - plan.allocated_for(n) for n in needs}
    backordered = {sku: q for sku, q in backordered.items() if q > 0}
    events = []
    if shipments:
        events.append(
            OrderEvent(
                order=order,
                kind=OrderEvent.Kind.ALLOCATED,
                actor=_actor(actor),
                message=f"Routed by {plan.strategy}: "
                + ", ".join(f"{s.number} from {s.warehouse.code}" for s in shipments)
                + ". "
                + "; ".join(plan.reasons),
                data={
                    "strategy": plan.strategy,
                    "shipments": [
                        {"number": s.number, "warehouse": s.warehouse.code} for s in shipments
                    ],
                    "reasons": plan.reasons,
                },
            )
        )
    if backordered:
        events.append(
            OrderEvent(
                order=order,
                kind=OrderEvent.Kind.BACKORDERED,
                actor=_actor(actor),
                message="Backordered: "
                + ", ".join(f"{sku} x{q}" for sku, q in backordered.items()),
                data={"backordered": backordered},
            )
        )
    OrderEvent.objects.bulk_create(events)
    order_services.order_sync_progress(order=order, lines=lines, actor=actor)
    return shipments


def _actor(actor) -> str:
    from oms.actors import actor_name

    return actor_name(actor)


@retry_on_conflict
def order_confirm_and_allocate(*, order: Order, actor=None) -> Order:
    """Confirm a pending order and route it (the 'confirm' button/endpoint)."""
    order_services.order_confirm(order=order, actor=actor)
    order_allocate(order=order, actor=actor)
    return order


@retry_on_conflict
def order_release_and_allocate(*, order: Order, actor=None) -> Order:
    """Release a hold; a confirmed order then gets its backordered lines routed."""
    order_services.order_release(order=order, actor=actor)
    if order.status == Order.Status.CONFIRMED:
        order_allocate(order=order, actor=actor)
    return order


@retry_on_conflict
def order_cancel_and_release(*, order: Order, reason: str, actor=None) -> Order:
    """Cancel the order: cancel its open shipments (their stock is released), then the
    order itself. Refused once anything shipped."""
    from fulfillment.services.shipments import shipment_cancel

    order_services.order_lock(order)
    if order.status not in (Order.Status.PENDING, Order.Status.ON_HOLD, Order.Status.CONFIRMED):
        from oms.exceptions import InvalidTransition

        raise InvalidTransition(
            entity="Order", number=order.number, current=order.status, move="cancel"
        )
    if order.lines.filter(quantity_shipped__gt=0).exists():
        from oms.exceptions import InvalidTransition

        raise InvalidTransition(
            entity="Order",
            number=order.number,
            current=order.status,
            move="cancel",
            detail="part of it has already shipped",
        )
    for shipment in order.shipments.filter(status__in=OPEN_SHIPMENT_STATUSES).order_by("pk"):
        shipment_cancel(
            shipment=shipment, reason=f"order cancelled: {reason}", actor=actor, reallocate=False
        )
    return order_services.order_cancel(order=order, reason=reason, actor=actor)


def allocate_backorders(*, product_ids=None, limit: int | None = None, actor=None) -> int:
    """Offer available stock to confirmed orders with backordered lines, oldest
    ``placed_at`` first (first come, first served). Each order is allocated in its own
    transaction. Returns how many orders got new shipments."""
    lines = OrderLine.objects.filter(
        quantity__gt=F("quantity_allocated") + F("quantity_shipped") + F("quantity_cancelled"),
        order__status=Order.Status.CONFIRMED,
        order__allocation_status__in=[
            Order.AllocationStatus.UNALLOCATED,
            Order.AllocationStatus.PARTIAL,
        ],
    )
    if product_ids:
        lines = lines.filter(product_id__in=product_ids)
    order_ids = list(
        Order.objects.filter(pk__in=lines.values("order_id"))
        .order_by("placed_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    filled = 0
    stock_left = StockLevel.objects.filter(warehouse__active=True, on_hand__gt=F("reserved"))
    if product_ids:
        stock_left = stock_left.filter(product_id__in=product_ids)
    for order in (
        Order.objects.filter(pk__in=order_ids).select_related("channel").order_by("placed_at", "pk")
    ):
        if not stock_left.exists():
            break
        if _allocate_one(order=order, actor=actor):
            filled += 1
    return filled


@retry_on_conflict
def _allocate_one(*, order: Order, actor=None) -> bool:
    return bool(order_allocate(order=order, actor=actor))
