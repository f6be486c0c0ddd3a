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

from fulfillment.models import OPEN_SHIPMENT_STATUSES, Shipment, ShipmentLine, ShippingRate
from fulfillment.routing import (
    STRATEGIES,
    Available,
    Destination,
    Need,
    Plan,
    Rate,
    RoutingContext,
    plan_cost,
)
from inventory.models import StockLevel, StockMovement, Warehouse
from inventory.selectors import incoming
from inventory.services import StockChange, stock_apply, stock_lock_levels
from kernel.actors import actor_name
from kernel.db import insert_new, primed, retry_on_conflict, save_fields
from kernel.numbering import next_numbers
from orders import services as order_services
from orders.models import Order, OrderEvent, OrderLine, RoutingStrategy


def strategy_for(order: Order) -> str:
    return order.channel.routing_strategy or settings.OMS_DEFAULT_ROUTING_STRATEGY


def _needs(lines) -> list[Need]:
    return [
        Need(line, line.quantity_backordered) for line in lines if line.quantity_backordered > 0
    ]


def _candidates(
    levels: dict, extra: dict | None = None
) -> tuple[list[Warehouse], Available, dict[int, int]]:
    """Active points with something available, the units available there (plus ``extra``
    units per level, e.g. the order's own reservations in a preview), product weights."""
    warehouses: dict[int, Warehouse] = {}
    available: Available = {}
    weights: dict[int, int] = {}
    for (product_id, warehouse_id), level in levels.items():
        weights[product_id] = level.product.weight_grams
        units = level.available + (extra or {}).get((product_id, warehouse_id), 0)
        if not level.warehouse.active or units <= 0:
            continue  # inactive points and points with nothing available are skipped
        warehouses[warehouse_id] = level.warehouse
        available[(product_id, warehouse_id)] = units
    return list(warehouses.values()), available, weights


def routing_context(order: Order, weights: dict[int, int], *, with_rates: bool) -> RoutingContext:
    """Destination of the order, product weights and (for ``cost``) the rate rows that
    can apply to the destination country: one query."""
    destination = Destination.of(order)
    rates = None
    if with_rates and destination.country:
        rows = ShippingRate.objects.filter(
            country=destination.country, service__active=True, service__carrier__active=True
        ).select_related("service__carrier")
        rates = [
            Rate(
                service=f"{r.service.carrier.code}/{r.service.code}",
                region=r.region,
                min_weight_grams=r.min_weight_grams,
                max_weight_grams=r.max_weight_grams,
                price=r.price,
                currency=r.currency,
                transit_days=r.transit_days,
            )
            for r in rows
        ]
    return RoutingContext(
        destination=destination, weights=weights, rates=rates, currency=order.currency
    )


def _plan(
    order: Order,
    needs: list[Need],
    levels: dict,
    strategy: str,
    *,
    exclude: set[int] = frozenset(),
    extra: dict | None = None,
) -> Plan:
    warehouses, available, weights = _candidates(levels, extra)
    warehouses = [w for w in warehouses if w.pk not in exclude]
    planner = STRATEGIES.get(strategy)
    if planner is None:
        plan = _plan(order, needs, levels, "priority", exclude=exclude, extra=extra)
        plan.reasons.insert(0, f"Unknown routing strategy {strategy!r}; used priority")
        return plan
    context = routing_context(order, weights, with_rates=planner is plan_cost)
    return planner(needs, warehouses, available, context)


def allocation_events(
    *, order: Order, plan: Plan, needs: list[Need], shipments: list[Shipment], actor, note=""
) -> list[OrderEvent]:
    """The ``allocated`` event (what was routed where, and why) and the ``backordered``
    event (what is still waiting, and why). Not saved."""
    events = []
    prefix = f"{note}: " if note else ""
    if shipments:
        routed = ", ".join(f"{s.number} from {s.warehouse.code}" for s in shipments)
        events.append(
            OrderEvent(
                order=order,
                kind=OrderEvent.Kind.ALLOCATED,
                actor=actor_name(actor),
                message=f"{prefix}Routed by {plan.strategy}: {routed}. " + "; ".join(plan.reasons),
                data={
                    "strategy": plan.strategy,
                    "fallback": plan.fallback or None,
                    "shipments": [
                        {"number": s.number, "warehouse": s.warehouse.code} for s in shipments
                    ],
                    "reasons": plan.reasons,
                    "distances_km": {
                        s.warehouse.code: round(km, 1)
                        for s in shipments
                        if (km := plan.distances.get(s.warehouse_id)) is not None
                    },
                },
            )
        )
    backordered = plan.backordered(needs)
    if backordered:
        due = _next_due(needs, backordered)
        events.append(
            OrderEvent(
                order=order,
                kind=OrderEvent.Kind.BACKORDERED,
                actor=actor_name(actor),
                message="Backordered: "
                + ", ".join(f"{sku} x{q}" for sku, q in backordered.items())
                + (". " + "; ".join(plan.shortfalls) if plan.shortfalls else "")
                + (
                    ". Next due: "
                    + ", ".join(
                        f"{sku} {d['quantity']} on {d['reference']} expected {d['day']}"
                        for sku, d in due.items()
                    )
                    if due
                    else ""
                ),
                data={"backordered": backordered, "reasons": plan.shortfalls, "due": due},
            )
        )
    return events


def _next_due(needs: list[Need], backordered: dict[str, int]) -> dict[str, dict]:
    """SKU -> the next delivery due for it (a purchase order sent or a transfer in
    transit, at any point), for the event of a backorder. Two queries."""
    product_of = {n.line.sku: n.line.product_id for n in needs if n.line.sku in backordered}
    wanted = {pid for pid in product_of.values() if pid is not None}
    if not wanted:
        return {}
    first: dict[int, object] = {}
    for row in incoming(product_ids=wanted):
        if row.expected_date and row.product_id not in first:
            first[row.product_id] = row
    due = {}
    for sku, pid in product_of.items():
        row = first.get(pid)
        if row is not None:
            due[sku] = {
                "reference": row.reference,
                "quantity": row.quantity,
                "date": row.expected_date.isoformat(),
                "day": f"{row.expected_date.day} {row.expected_date:%b}",
            }
    return due


@retry_on_conflict
@transaction.atomic(savepoint=False)
def order_allocate(
    *,
    order: Order,
    actor=None,
    strategy: str | None = None,
    quiet: bool = False,
    note: str = "",
    locked: bool = False,
) -> list[Shipment]:
    """Reserve stock for the order's backordered quantities and create one shipment per
    fulfillment point used. What cannot be reserved stays backordered. Only confirmed
    orders allocate. Returns the shipments created (possibly none).

    Locks the order, its lines, then every stock level of the products still needed
    (pk order). ``quiet``: when nothing could be allocated, write no event (backorder
    fills retry often). ``note`` prefixes the ``allocated`` event message ("Stock arrived").
    ``locked``: the caller holds the order's row and lines (see
    ``orders.services.order_lock``): no order or line lock; the lines are read through
    the order (from memory right after ``order_place``).
    Retried as a whole on a deadlock or serialization failure when called outside a
    transaction; inside one it takes no savepoint (an error fails the caller's
    transaction, which its own outermost entry point retries).
    """
    if not locked:
        order_services.order_lock(order)
    if order.status != Order.Status.CONFIRMED:
        return []
    if locked:
        lines = sorted(order.lines.all(), key=lambda line: line.pk)
    else:
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
    shipments = _apply_plan(order=order, plan=plan, levels=levels, actor=actor)
    if shipments or not quiet:
        order_services.order_add_events(
            order=order,
            events=allocation_events(
                order=order, plan=plan, needs=needs, shipments=shipments, actor=actor, note=note
            ),
        )
    order_services.order_sync_progress(order=order, lines=lines, actor=actor)
    return shipments


def _apply_plan(*, order: Order, plan: Plan, levels: dict, actor) -> list[Shipment]:
    """Create one shipment per point of the plan with its lines, reserve the stock
    (ledger ``reserve``) and count the units allocated on the order lines (the caller
    holds the order, line and level locks and saves nothing else)."""
    by_warehouse: dict[int, list[tuple[Need, int]]] = defaultdict(list)
    for need, warehouse, qty in plan.allocations:
        by_warehouse[warehouse.pk].append((need, qty))

    points = plan.warehouses
    numbers = next_numbers("shipment", len(points))
    shipments = insert_new(
        [
            Shipment(number=number, order=order, warehouse=warehouse)
            for number, warehouse in zip(numbers, points, strict=True)
        ]
    )
    known = primed(order, "shipments")
    if known is not None:
        known.extend(shipments)  # keep a primed list complete (see order_place)
    shipment_lines = []
    changes = []
    touched: dict[int, OrderLine] = {}
    for shipment, warehouse in zip(shipments, points, strict=True):
        for need, qty in by_warehouse[warehouse.pk]:
            shipment_lines.append(
                ShipmentLine(shipment=shipment, order_line=need.line, quantity=qty)
            )
            need.line.quantity_allocated += qty
            touched[need.line.pk] = need.line
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
        insert_new(shipment_lines)
        save_fields(list(touched.values()), ["quantity_allocated"])
    return shipments


@retry_on_conflict
def order_confirm_and_allocate(*, order: Order, actor=None, locked: bool = False) -> Order:
    """Confirm a pending order and route it (the 'confirm' button/endpoint).
    ``locked``: the order was placed in this transaction (see ``order_allocate``)."""
    order_services.order_confirm(order=order, actor=actor, locked=locked)
    order_allocate(order=order, actor=actor, locked=locked)
    return order


@retry_on_conflict
def order_release_and_allocate(*, order: Order, actor=None) -> Order:
    """Release a hold; a confirmed order then gets its backordered lines routed."""
    order_services.order_release(order=order, actor=actor)
    if order.status == Order.Status.CONFIRMED:
        order_allocate(order=order, actor=actor)
    return order


def allocate_backorders(*, product_ids=None, limit: int | None = None, actor=None) -> int:
    """Offer available stock to confirmed orders with backordered lines, oldest
    ``placed_at`` first (first come, first served). Each order is allocated in its own
    transaction (``order_allocate``, retried on conflict). Orders waiting only for
    products with nothing available are skipped without locking anything; the run stops
    once none of the waiting products has stock left. Returns how many orders got new
    shipments."""
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
    waiting: dict[int, set[int]] = defaultdict(set)
    for order_id, product_id in lines.values_list("order_id", "product_id"):
        waiting[order_id].add(product_id)
    if not waiting:
        return 0
    wanted = set().union(*waiting.values())
    in_stock = _products_in_stock(wanted)
    order_ids = list(
        Order.objects.filter(pk__in=list(waiting))
        .order_by("placed_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    filled = 0
    for start in range(0, len(order_ids), 200):
        if not in_stock:
            break
        chunk = order_ids[start : start + 200]
        orders = Order.objects.filter(pk__in=chunk).select_related("channel")
        for order in sorted(orders, key=lambda o: (o.placed_at, o.pk)):
            hoped = waiting[order.pk] & in_stock
            if not hoped:
                continue
            if order_allocate(order=order, actor=actor, quiet=True, note="Stock arrived"):
                filled += 1
            in_stock -= hoped - _products_in_stock(hoped)
            if not in_stock:
                break
    return filled


def _products_in_stock(product_ids: set[int]) -> set[int]:
    return set(
        StockLevel.objects.filter(
            product_id__in=product_ids, warehouse__active=True, on_hand__gt=F("reserved")
        )
        .values_list("product_id", flat=True)
        .distinct()
    )


# --------------------------------------------------------------------------- preview


def route_preview(order: Order, *, whole_order: bool | None = None) -> dict:
    """What every routing strategy would do for ``order`` now, without reserving
    anything: no locks, no writes (a handful of plain reads). JSON-serialisable.

    Scope ``backordered``: the quantities the next allocation would route. Scope
    ``open`` (``whole_order=True``): every unit not shipped and not already being picked,
    with this order's own unpicked reservations counted as available again, i.e. what
    routing from scratch would do. By default: ``backordered`` when something is
    backordered, else ``open``.
    """
    lines = list(OrderLine.objects.filter(order=order).order_by("pk"))
    backordered = _needs(lines)
    if whole_order is None:
        whole_order = not backordered
    extra: dict[tuple[int, int], int] = defaultdict(int)
    if whole_order:
        held: dict[int, int] = defaultdict(int)
        open_lines = ShipmentLine.objects.filter(
            shipment__order=order, shipment__status__in=OPEN_SHIPMENT_STATUSES
        ).values_list(
            "order_line_id",
            "order_line__product_id",
            "shipment__warehouse_id",
            "shipment__status",
            "quantity",
        )
        for line_id, product_id, warehouse_id, status, qty in open_lines:
            if status == Shipment.Status.ALLOCATED:
                extra[(product_id, warehouse_id)] += qty
            else:
                held[line_id] += qty  # being picked: it stays where it is
        needs = []
        for line in lines:
            qty = line.quantity - line.quantity_cancelled - line.quantity_shipped - held[line.pk]
            if qty > 0:
                needs.append(Need(line, qty))
    else:
        needs = backordered
    levels = {
        (lv.product_id, lv.warehouse_id): lv
        for lv in StockLevel.objects.filter(
            product_id__in={n.line.product_id for n in needs}
        ).select_related("product", "warehouse")
    }
    warehouses, available, weights = _candidates(levels, extra)
    context = routing_context(order, weights, with_rates=True)
    chosen = strategy_for(order)
    labels = dict(RoutingStrategy.choices)
    strategies = {}
    for name, planner in STRATEGIES.items():
        plan = planner(needs, warehouses, dict(available), context)
        strategies[name] = {
            "label": labels.get(name, name),
            "selected": name == chosen,
            **plan.as_dict(needs),
        }
    return {
        "order": order.number,
        "status": order.status,
        "scope": "open" if whole_order else "backordered",
        "strategy": chosen,
        "destination": context.destination.as_dict(),
        "lines": [{"sku": n.line.sku, "quantity": n.quantity} for n in needs],
        "strategies": strategies,
    }
