"""Moving allocated stock after routing: re-route a shipment, record a short pick.

Locks, in the same order as allocation, all taken before the first write: the order
row(s) (the shipment's order first, other affected orders in pk order), the shipment,
the order lines, then every stock level of the products involved, in pk order. Both
entry points are retried as a whole on a deadlock or serialization failure.
"""

from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from fulfillment.exceptions import FulfillmentError, RoutingError
from fulfillment.models import (
    OPEN_SHIPMENT_STATUSES,
    SHIPMENT_TRANSITIONS,
    Shipment,
    ShipmentLine,
)
from fulfillment.routing import Destination, Need, Plan, distance_km
from fulfillment.services.allocation import _apply_plan, _plan, order_allocate, strategy_for
from fulfillment.services.shipments import shipment_cancel
from inventory.models import StockMovement, Warehouse
from inventory.services import StockChange, stock_adjust, stock_apply, stock_lock_levels
from kernel.db import retry_on_conflict
from kernel.exceptions import InvalidTransition
from orders import services as order_services
from orders.models import Order, OrderEvent, OrderLine

Status = Shipment.Status


def _lock_shipment(shipment: Shipment) -> tuple[Order, Shipment]:
    order = order_services.order_lock(shipment.order)
    fresh = (
        Shipment.objects.select_for_update(of=("self",))
        .select_related("warehouse")
        .get(pk=shipment.pk)
    )
    fresh.order = order
    return order, fresh


def _lock_lines(order_ids) -> dict[int, OrderLine]:
    return {
        line.pk: line
        for line in OrderLine.objects.select_for_update(of=("self",))
        .filter(order_id__in=order_ids)
        .order_by("pk")
    }


def _km(km: float | None) -> str:
    return "" if km is None else f", {km:,.0f} km"


@retry_on_conflict
@transaction.atomic
def shipment_reroute(
    *, shipment: Shipment, warehouse: Warehouse | None = None, reason: str, actor=None
) -> list[Shipment]:
    """Move an allocated (not yet picked) shipment to another point: its reservation is
    released where it was (ledger ``release``, the shipment is cancelled) and taken at the
    target (ledger ``reserve``, a new shipment), in one transaction.

    ``warehouse``: the target, which must have every unit available, else RoutingError
    and nothing changes. Without it the channel's routing strategy picks among the other
    active points (possibly several); they must be able to take every unit.
    Returns the new shipment(s). The order event says from where, to where and why.
    """
    reason = (reason or "").strip()
    if not reason:
        raise FulfillmentError("Say why the shipment is re-routed", field="reason")
    order, current = _lock_shipment(shipment)
    if current.status != Status.ALLOCATED:
        raise InvalidTransition(
            entity="Shipment",
            number=current.number,
            current=current.status,
            move="re-route",
            detail="only a shipment whose picking has not started can move",
        )
    source = current.warehouse
    if warehouse is not None:
        if warehouse.pk == source.pk:
            raise FulfillmentError(
                f"{current.number} already ships from {source.code}", field="warehouse"
            )
        if not warehouse.active:
            raise FulfillmentError(f"Warehouse {warehouse.code} is inactive", field="warehouse")
    order_lines = _lock_lines([order.pk])
    lines = list(
        ShipmentLine.objects.select_for_update(of=("self",)).filter(shipment=current).order_by("pk")
    )
    needs = [Need(order_lines[sl.order_line_id], sl.quantity) for sl in lines]
    levels = stock_lock_levels(product_ids={n.line.product_id for n in needs})
    destination = Destination.of(order)

    if warehouse is not None:
        wanted: dict[int, int] = defaultdict(int)
        for need in needs:
            wanted[need.line.product_id] += need.quantity
        short = []
        for need in needs:
            level = levels.get((need.line.product_id, warehouse.pk))
            have = level.available if level else 0
            if have < wanted[need.line.product_id]:
                short.append(f"{need.line.sku} needs {need.quantity}, {have} available")
        if short:
            raise RoutingError(
                f"{warehouse.code} cannot take {current.number}: " + "; ".join(short),
                field="warehouse",
                warehouse=warehouse.code,
            )
        plan = Plan(
            strategy="manual",
            allocations=[(need, warehouse, need.quantity) for need in needs],
            reasons=[
                f"{warehouse.code} chosen by {_actor_label(actor)}: has all {len(needs)} "
                f"line(s){_km(distance_km(destination, warehouse))}; {source.code} was the "
                f"source{_km(distance_km(destination, source))}"
            ],
        )
    else:
        plan = _plan(order, needs, levels, strategy_for(order), exclude={source.pk})
        missing = plan.backordered(needs)
        if missing:
            raise RoutingError(
                f"No other active point can take all of {current.number}: "
                + ", ".join(f"{sku} x{q} short" for sku, q in missing.items()),
                field="warehouse",
            )

    shipment_cancel(shipment=current, reason=f"re-routed: {reason}", actor=actor)
    for line in OrderLine.objects.filter(pk__in=list(order_lines)):
        order_lines[line.pk].quantity_allocated = line.quantity_allocated  # after the release
    created = _apply_plan(order=order, plan=plan, levels=levels, actor=actor)
    targets = ", ".join(f"{s.number} at {s.warehouse.code}" for s in created)
    order_services.order_add_event(
        order=order,
        kind=OrderEvent.Kind.ALLOCATED,
        actor=actor,
        message=f"{current.number} re-routed from {source.code} to {targets}: {reason}. "
        + "; ".join(plan.reasons),
        data={
            "rerouted_from": current.number,
            "from_warehouse": source.code,
            "strategy": plan.strategy,
            "reason": reason,
            "shipments": [{"number": s.number, "warehouse": s.warehouse.code} for s in created],
            "reasons": plan.reasons,
        },
    )
    order_services.order_sync_progress(order=order, lines=list(order_lines.values()), actor=actor)
    shipment.refresh_from_db()
    return created


def _actor_label(actor) -> str:
    from kernel.actors import actor_name

    return actor_name(actor)


@retry_on_conflict
@transaction.atomic
def shipment_short_pick(
    *,
    shipment: Shipment,
    found: int,
    sku: str | None = None,
    order_line: OrderLine | None = None,
    actor=None,
) -> Shipment:
    """The bin held fewer units than the system thought.

    ``found`` is what the picker counted in the bin for that SKU (``sku`` or
    ``order_line`` names the line of this shipment). The stock level's on_hand becomes
    ``found`` plus the units already picked there for open shipments (picked units are
    off the shelf but on hand until shipped): ledger ``count``. This shipment keeps what
    the bin still holds, up to the line's unpicked quantity; the rest of the line is
    released (ledger ``release``) and routed again (``order_allocate``). If other open
    shipments at the point still count on more units than remain, the newest orders give
    theirs back and are routed again too. Returns the shipment (cancelled when nothing is
    left on it).
    """
    if isinstance(found, bool) or not isinstance(found, int) or found < 0:
        raise FulfillmentError("found must be a whole number, 0 or more", field="found")
    if (sku is None) == (order_line is None):
        raise FulfillmentError("Name the line by sku or by order_line", field="sku")
    order, current = _lock_shipment(shipment)
    if current.status not in (Status.ALLOCATED, Status.PICKING):
        raise InvalidTransition(
            entity="Shipment", number=current.number, current=current.status, move="short pick"
        )
    match = ShipmentLine.objects.filter(shipment=current).select_related("order_line")
    match = match.filter(order_line=order_line) if order_line else match.filter(order_line__sku=sku)
    candidates = list(match)
    if not candidates:
        raise FulfillmentError(
            f"{sku or order_line.sku} is not on {current.number}",
            field="sku" if sku else "order_line",
        )
    if len(candidates) > 1:
        raise FulfillmentError(
            f"{sku} is on {current.number} more than once; name the order_line", field="sku"
        )
    product_id = candidates[0].order_line.product_id
    sku = candidates[0].order_line.sku
    warehouse = current.warehouse
    here = Q(
        shipment__warehouse_id=warehouse.pk,
        shipment__status__in=OPEN_SHIPMENT_STATUSES,
        order_line__product_id=product_id,
    )

    # Lock every order that may have to give units back, in pk order, before any stock row.
    other_ids = set(
        ShipmentLine.objects.filter(here)
        .exclude(shipment__order=order)
        .values_list("shipment__order_id", flat=True)
    )
    others = {
        o.pk: o
        for o in Order.objects.select_for_update(of=("self",))
        .filter(pk__in=other_ids)
        .order_by("pk")
    }
    orders = {order.pk: order, **others}
    order_lines = _lock_lines(list(orders))
    products = {product_id} | {
        line.product_id for line in order_lines.values() if line.quantity_backordered > 0
    }
    levels = stock_lock_levels(product_ids=products)
    level = levels.get((product_id, warehouse.pk))
    open_here = list(
        ShipmentLine.objects.select_for_update(of=("self",))
        .filter(here)
        .select_related("shipment")
        .order_by("pk")
    )
    if level is None:
        raise FulfillmentError(f"No stock level of {sku} at {warehouse.code}", field="sku")
    picked_here = sum(sl.quantity_picked for sl in open_here)
    expected = level.on_hand - picked_here
    if found >= expected:
        raise FulfillmentError(
            f"The bin at {warehouse.code} should hold {expected} of {sku}; finding {found} "
            "is not short",
            field="found",
        )
    counted = found + picked_here

    target = next(sl for sl in open_here if sl.pk == candidates[0].pk)
    cuts: dict[int, int] = defaultdict(int)
    keep = min(target.quantity - target.quantity_picked, found)
    cuts[target.pk] = target.quantity - target.quantity_picked - keep
    excess = level.reserved - cuts[target.pk] - counted
    newest_first = sorted(
        (sl for sl in open_here if sl.pk != target.pk),
        key=lambda sl: (orders[sl.shipment.order_id].placed_at, sl.shipment_id),
        reverse=True,
    )
    for sl in newest_first:
        if excess <= 0:
            break
        take = min(sl.quantity - sl.quantity_picked, excess)
        if take > 0:
            cuts[sl.pk] += take
            excess -= take

    by_id = {sl.pk: sl for sl in open_here}
    changes = []
    emptied: dict[int, Shipment] = {}
    touched_shipments: dict[int, list[tuple[ShipmentLine, int]]] = defaultdict(list)
    for line_id, qty in cuts.items():
        if qty <= 0:
            continue
        sl = by_id[line_id]
        sl.quantity -= qty
        order_lines[sl.order_line_id].quantity_allocated -= qty
        touched_shipments[sl.shipment_id].append((sl, qty))
        changes.append(
            StockChange(
                product_id,
                warehouse.pk,
                StockMovement.Kind.RELEASE,
                0,
                -qty,
                sl.shipment.number,
                f"short pick of {sku} at {warehouse.code}",
            )
        )
    stock_apply(changes=changes, actor=actor, levels=levels)
    ShipmentLine.objects.bulk_update(
        [sl for sl in open_here if sl.quantity > 0 and cuts.get(sl.pk)], ["quantity"]
    )
    ShipmentLine.objects.filter(pk__in=[sl.pk for sl in open_here if sl.quantity == 0]).delete()
    OrderLine.objects.bulk_update(list(order_lines.values()), ["quantity_allocated"])
    for shipment_id in touched_shipments:
        if not ShipmentLine.objects.filter(shipment_id=shipment_id).exists():
            emptied[shipment_id] = touched_shipments[shipment_id][0][0].shipment
    for empty in emptied.values():
        _cancel_empty(empty)

    before = level.on_hand
    stock_adjust(
        product=level.product,
        warehouse=warehouse,
        reason=f"short pick on {current.number}: {found} found in the bin, {expected} expected",
        counted=counted,
        reference=current.number,
        reason_code=StockMovement.ReasonCode.LOST,
        actor=actor,
    )

    for cut in touched_shipments.values():
        sh = cut[0][0].shipment
        units = sum(q for _, q in cut)
        own = sh.pk == current.pk
        message = (
            f"Short pick on {current.number} at {warehouse.code}: the bin held {found} of "
            f"{sku}, {expected} expected; count recorded (on hand {before} -> {counted}). "
            if own
            else f"{warehouse.code} counted short of {sku} while picking {current.number}: "
        ) + (
            f"{sh.number} gives back {units}"
            + (" and is cancelled" if sh.pk in emptied else f", keeps {_units_of(sh, sku)}")
            + "; the shortfall goes back to routing"
        )
        order_services.order_add_event(
            order=orders[sh.order_id],
            kind=OrderEvent.Kind.NOTE,
            actor=actor,
            message=message,
            data={
                "short_pick": current.number,
                "shipment": sh.number,
                "sku": sku,
                "warehouse": warehouse.code,
                "found": found,
                "expected": expected,
                "released": units,
            },
        )
    if current.pk not in touched_shipments:
        order_services.order_add_event(
            order=order,
            kind=OrderEvent.Kind.NOTE,
            actor=actor,
            message=f"Short pick on {current.number} at {warehouse.code}: the bin held {found} "
            f"of {sku}, {expected} expected; count recorded (on hand {before} -> {counted}); "
            f"{current.number} keeps all it needs",
            data={"short_pick": current.number, "sku": sku, "found": found},
        )

    affected = sorted(
        (orders[sid_order] for sid_order in {by_id[i].shipment.order_id for i in cuts if cuts[i]}),
        key=lambda o: (o.placed_at, o.pk),
    )
    for affected_order in affected:
        if affected_order.status == Order.Status.CONFIRMED:
            order_allocate(order=affected_order, actor=actor, note="After short pick")
        else:
            order_services.order_sync_progress(
                order=affected_order,
                lines=[ol for ol in order_lines.values() if ol.order_id == affected_order.pk],
                actor=actor,
            )
    shipment.refresh_from_db()
    return shipment


def _units_of(shipment: Shipment, sku: str) -> int:
    return sum(
        ShipmentLine.objects.filter(shipment=shipment, order_line__sku=sku).values_list(
            "quantity", flat=True
        )
    )


def _cancel_empty(shipment: Shipment) -> None:
    """A shipment whose every line was given back: cancelled (its stock is released)."""
    if Status.CANCELLED not in SHIPMENT_TRANSITIONS[shipment.status]:
        raise InvalidTransition(
            entity="Shipment", number=shipment.number, current=shipment.status, move="cancel"
        )
    shipment.status = Status.CANCELLED
    shipment.cancelled_at = timezone.now()
    shipment.save(update_fields=["status", "cancelled_at"])
