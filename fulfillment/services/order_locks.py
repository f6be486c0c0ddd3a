"""What edits and partial cancels share: the locks, which lines are locked by picking,
releasing reservations from shipments not yet picked, taking new ones, and the totals.

Locks, all taken before the first write and in the same order as allocation: the order
row, its lines (pk order), its shipments that are not cancelled and their lines (pk
order), then every stock level of the products involved (pk order,
``inventory.services.stock_lock_levels``). Two changes of one order queue on the order
row; a change and an allocation of another order touching the same SKUs queue on the
stock rows in one global order, so neither can deadlock.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from fulfillment.exceptions import Conflict
from fulfillment.models import Shipment, ShipmentLine
from fulfillment.routing import Need, Plan
from fulfillment.services.allocation import _apply_plan, _plan, strategy_for
from inventory.models import StockMovement
from inventory.services import StockChange, stock_apply, stock_lock_levels
from kernel.exceptions import InvalidTransition
from kernel.money import MAX_MONEY, MoneyPlacesError, money_exact, quantize_money
from orders import services as order_services
from orders.exceptions import OrderInvalid
from orders.models import FINANCIAL_TRANSITIONS, Order, OrderEvent, OrderLine
from orders.services import financial_status_for, payment_totals, refundable_amount

EDITABLE_ORDER_STATUSES = (Order.Status.PENDING, Order.Status.ON_HOLD, Order.Status.CONFIRMED)
SH = Shipment.Status
STARTED = (SH.PICKING, SH.PICKED, SH.PACKED)  # open shipments whose picking has started


class LineLocked(Conflict):
    """A line on a shipment whose picking has started (or that shipped): it cannot change."""

    code = "line_locked"


@dataclass
class Locked:
    """The order and everything a change may touch, locked."""

    order: Order
    lines: dict[int, OrderLine]
    shipments: dict[int, Shipment]
    shipment_lines: list[ShipmentLine]
    levels: dict = field(default_factory=dict)
    # what the tax follows, set by ``recompute_totals``, kept in the change's event
    tax_basis: dict | None = None

    def lines_of(self, shipment: Shipment) -> list[ShipmentLine]:
        return [sl for sl in self.shipment_lines if sl.shipment_id == shipment.pk]

    def line_lock(self, line: OrderLine) -> str:
        """Why the line cannot change ("" when it can): one of its open shipments is being
        picked, is picked or packed. (Units shipped are counted in ``quantity_shipped``;
        the line's other units stay editable.)"""
        started = sorted(
            {
                (self.shipments[sl.shipment_id].number, self.shipments[sl.shipment_id].status)
                for sl in self.shipment_lines
                if sl.order_line_id == line.pk and self.shipments[sl.shipment_id].status in STARTED
            }
        )
        if not started:
            return ""
        where = ", ".join(f"{number} is {status}" for number, status in started)
        return f"{line.sku} cannot change: picking has started ({where})"

    def require_unlocked(self, line: OrderLine, move: str) -> None:
        reason = self.line_lock(line)
        if reason:
            raise LineLocked(f"Cannot {move}: {reason}", field="lines", line=line.pk)

    @property
    def started_shipments(self) -> list[Shipment]:
        """Open shipments whose picking has started."""
        return [s for s in self.shipments.values() if s.status in STARTED]

    @property
    def allocated_shipments(self) -> list[Shipment]:
        return [s for s in self.shipments.values() if s.status == SH.ALLOCATED]


def lock_order_for_change(
    order: Order, *, move: str, product_ids: set[int] = frozenset()
) -> Locked:
    """Lock the order, its lines, its live shipments and their lines, then the stock
    levels of the lines' products and of ``product_ids`` (new lines). Refused (409) once
    the order shipped, was delivered or was cancelled."""
    order_services.order_lock(order)
    if order.status not in EDITABLE_ORDER_STATUSES:
        raise InvalidTransition(
            entity="Order", number=order.number, current=order.status, move=move
        )
    lines = {
        line.pk: line
        for line in OrderLine.objects.select_for_update(of=("self",))
        .filter(order=order)
        .select_related("product")
        .order_by("pk")
    }
    shipments = {
        s.pk: s
        for s in Shipment.objects.select_for_update(of=("self",))
        .filter(order=order)
        .exclude(status=SH.CANCELLED)
        .select_related("warehouse")
        .order_by("pk")
    }
    for shipment in shipments.values():
        shipment.order = order
    shipment_lines = list(
        ShipmentLine.objects.select_for_update(of=("self",))
        .filter(shipment_id__in=list(shipments))
        .order_by("pk")
    )
    products = {line.product_id for line in lines.values()} | set(product_ids)
    levels = stock_lock_levels(product_ids=products)
    return Locked(order, lines, shipments, shipment_lines, levels)


def release_units(locked: Locked, line: OrderLine, units: int, *, note: str, actor) -> list[str]:
    """Give up ``units`` of ``line``'s open quantity: backordered units first (nothing is
    reserved for them), then units reserved in shipments not yet picked, newest shipment
    first (ledger ``release``). A shipment left without lines is cancelled. The caller
    checked the line is not locked and saves the line. Returns what moved, for the event."""
    order = locked.order
    backordered = max(line.quantity_backordered, 0)
    units -= min(units, backordered)
    moved: list[str] = []
    changes: list[StockChange] = []
    emptied: list[Shipment] = []
    for shipment in sorted(locked.allocated_shipments, key=lambda s: s.pk, reverse=True):
        if units <= 0:
            break
        touched = False
        for sl in locked.lines_of(shipment):
            if sl.order_line_id != line.pk or units <= 0:
                continue
            touched = True
            take = min(sl.quantity, units)
            units -= take
            sl.quantity -= take
            line.quantity_allocated -= take
            changes.append(
                StockChange(
                    line.product_id,
                    shipment.warehouse_id,
                    StockMovement.Kind.RELEASE,
                    0,
                    -take,
                    shipment.number,
                    f"order {order.number}: {note}"[:255],
                )
            )
            moved.append(f"{take} released from {shipment.number} at {shipment.warehouse.code}")
        if touched and all(sl.quantity == 0 for sl in locked.lines_of(shipment)):
            emptied.append(shipment)
    if units > 0:  # the caller's arithmetic is wrong: never release what was not held
        raise AssertionError(f"{line.sku}: {units} unit(s) neither backordered nor reserved")
    stock_apply(changes=changes, actor=actor, levels=locked.levels)
    gone = [sl for sl in locked.shipment_lines if sl.quantity == 0]
    kept = [sl for sl in locked.shipment_lines if sl.quantity > 0 and sl.order_line_id == line.pk]
    if kept:
        ShipmentLine.objects.bulk_update(kept, ["quantity"])
    if gone:
        ShipmentLine.objects.filter(pk__in=[sl.pk for sl in gone]).delete()
        locked.shipment_lines = [sl for sl in locked.shipment_lines if sl.quantity > 0]
    for shipment in emptied:
        cancel_emptied(locked, shipment, note=note, actor=actor)
    return moved


def cancel_emptied(locked: Locked, shipment: Shipment, *, note: str, actor) -> None:
    """A shipment whose every unit was given back: cancelled (nothing left to release)."""
    shipment.status = SH.CANCELLED
    shipment.cancelled_at = timezone.now()
    shipment.save(update_fields=["status", "cancelled_at"])
    del locked.shipments[shipment.pk]
    order_services.order_add_event(
        order=locked.order,
        kind=OrderEvent.Kind.SHIPMENT_CANCELLED,
        actor=actor,
        message=f"{shipment.number} from {shipment.warehouse.code} cancelled: {note}",
        data={"shipment": shipment.number},
    )


def reserve_units(locked: Locked, needs: list[Need], *, actor, note: str) -> list[str]:
    """Reserve stock for new units (``needs``) of a confirmed order: first at the points
    of its shipments not yet picked (one parcel more rather than a new one), then where
    the channel's routing strategy sends them (new shipments). What no point has stays
    backordered. Returns what was reserved where, for the event."""
    order = locked.order
    if order.status != Order.Status.CONFIRMED or not needs:
        return []
    moved: list[str] = []
    changes: list[StockChange] = []
    rest: list[Need] = []
    new_lines: list[ShipmentLine] = []
    for need in needs:
        left = need.quantity
        for shipment in locked.allocated_shipments:
            level = locked.levels.get((need.line.product_id, shipment.warehouse_id))
            pending = sum(
                c.reserved_delta
                for c in changes
                if (c.product_id, c.warehouse_id) == (need.line.product_id, shipment.warehouse_id)
            )
            have = (level.available - pending) if level and level.warehouse.active else 0
            take = min(have, left)
            if take <= 0:
                continue
            left -= take
            _add_to_shipment(locked, shipment, need.line, take, new_lines)
            changes.append(
                StockChange(
                    need.line.product_id,
                    shipment.warehouse_id,
                    StockMovement.Kind.RESERVE,
                    0,
                    take,
                    shipment.number,
                    f"order {order.number}: {note}"[:255],
                )
            )
            moved.append(f"{need.line.sku} {take} added to {shipment.number}")
            if not left:
                break
        if left:
            rest.append(Need(need.line, left))
    stock_apply(changes=changes, actor=actor, levels=locked.levels)
    ShipmentLine.objects.bulk_update(
        [sl for sl in locked.shipment_lines if sl.pk and getattr(sl, "_grown", False)], ["quantity"]
    )
    if new_lines:
        ShipmentLine.objects.bulk_create(new_lines)
    if rest:
        plan = _plan(order, rest, locked.levels, strategy_for(order))
        if plan.allocations:
            created = _apply_plan(order=order, plan=plan, levels=locked.levels, actor=actor)
            adopt(locked, created)
            moved += [
                f"{s.number} from {s.warehouse.code} (routed by {plan.strategy})" for s in created
            ]
        short = plan.backordered(rest)
        moved += [f"{sku} {qty} backordered" for sku, qty in short.items()]
    return moved


def _add_to_shipment(locked, shipment, line, units, new_lines) -> None:
    line.quantity_allocated += units
    for sl in locked.lines_of(shipment):
        if sl.order_line_id == line.pk:
            sl.quantity += units
            sl._grown = True
            return
    sl = ShipmentLine(shipment=shipment, order_line=line, quantity=units)
    new_lines.append(sl)
    locked.shipment_lines.append(sl)


def adopt(locked: Locked, created: list[Shipment]) -> None:
    """Shipments this change created (``_apply_plan`` wrote them and their lines, in
    this transaction): held with the others, so later steps of the change see them."""
    if not created:
        return
    for shipment in created:
        shipment.order = locked.order
        locked.shipments[shipment.pk] = shipment
    locked.shipment_lines += list(ShipmentLine.objects.filter(shipment__in=created).order_by("pk"))


def reroute_for_address(locked: Locked, *, actor, note: str) -> list[str]:
    """After the address changed: route the units held by shipments not yet picked from
    scratch (their own reservations counted as available). When the strategy now sends
    them elsewhere and can place every unit, they move (released where they were, reserved
    at the new points, new shipments); otherwise they stay. Returns what moved."""
    order = locked.order
    shipments = locked.allocated_shipments
    if order.status != Order.Status.CONFIRMED or not shipments:
        return []
    held: dict[int, int] = defaultdict(int)
    own: dict[tuple[int, int], int] = defaultdict(int)
    current: dict[tuple[int, int], int] = defaultdict(int)
    for shipment in shipments:
        for sl in locked.lines_of(shipment):
            line = locked.lines[sl.order_line_id]
            held[line.pk] += sl.quantity
            own[(line.product_id, shipment.warehouse_id)] += sl.quantity
            current[(line.pk, shipment.warehouse_id)] += sl.quantity
    needs = [Need(locked.lines[pk], qty) for pk, qty in held.items() if qty > 0]
    plan = _plan(order, needs, locked.levels, strategy_for(order), extra=dict(own))
    proposed: dict[tuple[int, int], int] = defaultdict(int)
    for need, warehouse, qty in plan.allocations:
        proposed[(need.line.pk, warehouse.pk)] += qty
    if plan.backordered(needs) or proposed == current:
        return []
    before = ", ".join(f"{s.number} at {s.warehouse.code}" for s in shipments)
    changes = []
    for shipment in shipments:
        for sl in locked.lines_of(shipment):
            line = locked.lines[sl.order_line_id]
            line.quantity_allocated -= sl.quantity
            changes.append(
                StockChange(
                    line.product_id,
                    shipment.warehouse_id,
                    StockMovement.Kind.RELEASE,
                    0,
                    -sl.quantity,
                    shipment.number,
                    f"order {order.number}: {note}"[:255],
                )
            )
    stock_apply(changes=changes, actor=actor, levels=locked.levels)
    for shipment in shipments:
        cancel_emptied(locked, shipment, note=note, actor=actor)
    locked.shipment_lines = [
        sl for sl in locked.shipment_lines if sl.shipment_id in locked.shipments
    ]
    fresh = Plan(
        strategy=plan.strategy,
        allocations=[(Need(n.line, q), w, q) for n, w, q in plan.allocations],
        reasons=plan.reasons,
        distances=plan.distances,
    )
    created = _apply_plan(order=order, plan=fresh, levels=locked.levels, actor=actor)
    adopt(locked, created)
    after = ", ".join(f"{s.number} at {s.warehouse.code}" for s in created)
    return [f"re-routed by {plan.strategy}: {before} -> {after}. " + "; ".join(plan.reasons)]


# --------------------------------------------------------------------------- money


def open_units(line: OrderLine) -> int:
    """Ordered and not cancelled (shipped units included): what the customer pays for."""
    return line.quantity - line.quantity_cancelled


def parse_money(value, field: str, currency: str) -> Decimal:
    """A non-negative amount with no more decimals than the currency has (400 else)."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise OrderInvalid(f"{field} must be a decimal number", field=field) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_MONEY:
        raise OrderInvalid(f"{field} must be a decimal number from 0 to {MAX_MONEY}", field=field)
    try:
        return money_exact(amount, currency)
    except MoneyPlacesError as exc:
        raise OrderInvalid(f"{field}: {exc}", field=field) from None


def recompute_totals(locked: Locked, *, tax_total: Decimal | None = None) -> dict:
    """Subtotal and discounts of the units still wanted (cancelled units take their
    share of the line's discount with them), the tax at the order's rate
    (``tax_basis``) unless ``tax_total`` is given, and the total. Saved on the order; refused (409)
    below what was refunded already. Returns {field: (before, after)} of what changed."""
    order = locked.order
    cur = order.currency
    subtotal = Decimal("0")
    discount = Decimal("0")
    for line in locked.lines.values():
        units = open_units(line)
        subtotal += line.unit_price * units
        discount += line.discount_total * units / line.quantity
    subtotal, discount = quantize_money(subtotal, cur), quantize_money(discount, cur)
    goods_after = subtotal - discount
    basis_tax, basis_goods = tax_basis(order)
    if tax_total is None:
        tax_total = (
            quantize_money(basis_tax * goods_after / basis_goods, cur)
            if basis_goods > 0
            else order.tax_total
        )
    elif goods_after > 0:  # a tax given by hand sets the rate the next changes follow
        basis_tax, basis_goods = tax_total, goods_after
    locked.tax_basis = {"tax": str(basis_tax), "goods": str(basis_goods)}
    total = quantize_money(goods_after + order.shipping_total + tax_total, cur)
    if total < order.refunded_total:
        raise Conflict(
            f"The new total {total} {cur} would be below what was refunded already "
            f"({order.refunded_total} {cur})",
            field="lines",
        )
    after = {
        "subtotal": subtotal,
        "discount_total": discount,
        "tax_total": tax_total,
        "total": total,
    }
    diff = {k: (getattr(order, k), v) for k, v in after.items() if getattr(order, k) != v}
    for name, (_, value) in diff.items():
        setattr(order, name, value)
    if diff:
        order.save(update_fields=[*diff, "updated_at"])
    return diff


def tax_basis(order: Order) -> tuple[Decimal, Decimal]:
    """(tax, goods) whose ratio is the order's tax rate: as placed (or as last set by
    hand), kept in the ``edited`` events' data, so that edits and cancels in a row never
    let rounding drift the rate (2 -> 1 -> 2 units gives back the tax as placed)."""
    event = (
        OrderEvent.objects.filter(
            order=order, kind=OrderEvent.Kind.EDITED, data__has_key="tax_basis"
        )
        .order_by("-pk")
        .only("data")
        .first()
    )
    if event is not None:
        try:
            basis = event.data["tax_basis"]
            return Decimal(basis["tax"]), Decimal(basis["goods"])
        except (KeyError, TypeError, InvalidOperation):
            pass
    return order.tax_total, order.subtotal - order.discount_total


def order_balance(order: Order) -> dict[str, Decimal]:
    """What the customer paid (captured minus refunded), what the order is worth now
    (its total minus refunds given), the refund due when they paid more (never more
    than was paid) and the amount due when they paid less."""
    paid = refundable_amount(order)
    worth = (
        Decimal("0")
        if order.status == Order.Status.CANCELLED
        else max(order.total - order.refunded_total, Decimal("0"))
    )
    return {
        "paid": paid,
        "refund_due": min(max(paid - worth, Decimal("0")), paid),
        "amount_due": max(worth - paid, Decimal("0")) if paid else Decimal("0"),
    }


def follow_payment(order: Order) -> dict | None:
    """After the total changed: a paid order now worth more than was captured becomes
    partially paid, and a partially paid one whose total fell to what was captured
    becomes paid (``orders.services.financial_status_for``, along
    ``FINANCIAL_TRANSITIONS``). Refunded, authorised and pending orders keep their state.
    Saved on the order (locked by the caller); returns {"from", "to"} when it moved, for
    the caller's event, else None."""
    FS = Order.FinancialStatus
    current = order.financial_status
    if current not in (FS.PAID, FS.PARTIALLY_PAID):
        return None
    wanted = financial_status_for(order, payment_totals(order))
    if wanted == current or wanted not in FINANCIAL_TRANSITIONS[current]:
        return None
    order.financial_status = wanted
    order.save(update_fields=["financial_status", "updated_at"])
    return {"from": current, "to": wanted}


def payment_moved_text(moved: dict) -> str:
    """The payment's move in words, e.g. "payment paid -> partially paid"."""
    return "payment " + " -> ".join(moved[k].replace("_", " ") for k in ("from", "to"))


def payment_change_text(order: Order, moved: dict | None) -> str:
    """What the edit event says of the payment: its state when it moved, and the amount
    due from the customer or the refund due to them."""
    balance = order_balance(order)
    cur = order.currency
    parts = [payment_moved_text(moved)] if moved else []
    if balance["amount_due"]:
        parts.append(f"amount due {quantize_money(balance['amount_due'], cur)} {cur}")
    if balance["refund_due"]:
        parts.append(f"refund due {quantize_money(balance['refund_due'], cur)} {cur}")
    return ", ".join(parts)
