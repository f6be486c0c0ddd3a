"""The order state machine: confirm, hold, release, cancel, channel progress, delivered."""

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from kernel import webhooks
from kernel.db import save_fields
from kernel.exceptions import InvalidTransition
from orders.exceptions import OrderInvalid
from orders.models import Order, OrderLine
from orders.services.payments import order_set_financial_status
from orders.services.timeline import EventKind, Status, _transition, order_add_event, order_lock

# --------------------------------------------------------------------------- state machine


def order_confirm(*, order: Order, actor=None, locked: bool = False) -> Order:
    """pending (or on hold) -> confirmed. Allocation is done by the caller
    (``fulfillment.services.order_confirm_and_allocate``). Locks the order unless
    ``locked`` (see ``order_lock``): then the caller's transaction holds the order and
    this takes no savepoint of its own (an error fails the caller's transaction)."""
    if locked:
        return _confirm(order, actor)
    with transaction.atomic():
        order_lock(order)
        return _confirm(order, actor)


def _confirm(order: Order, actor) -> Order:
    if order.status == Status.ON_HOLD:
        raise InvalidTransition(
            entity="Order",
            number=order.number,
            current=order.status,
            move="confirm",
            detail=f"release the hold first ({order.hold_reason})",
        )
    order.confirmed_at = timezone.now()
    _transition(order, Status.CONFIRMED, "confirm", extra_fields=["confirmed_at"])
    order_add_event(
        order=order, kind=EventKind.CONFIRMED, message="Order confirmed", actor=actor, public=True
    )
    webhooks.publish_order("order.confirmed", order)
    return order


@transaction.atomic
def order_hold(*, order: Order, reason: str, actor=None, data: dict | None = None) -> Order:
    """pending/confirmed -> on_hold with a reason. Reservations stay. Locks the order.
    ``data`` goes into the ``held`` event (e.g. the auto-confirm rules that failed)."""
    order_lock(order)
    reason = (reason or "").strip()
    if not reason:
        raise OrderInvalid("A hold needs a reason", field="reason")
    if order.status == Status.CONFIRMED and order.fulfillment_status != "unfulfilled":
        raise InvalidTransition(
            entity="Order",
            number=order.number,
            current=order.status,
            move="hold",
            detail="part of it has already shipped",
        )
    order.hold_reason = reason[:255]
    _transition(order, Status.ON_HOLD, "hold", extra_fields=["hold_reason"])
    order_add_event(
        order=order, kind=EventKind.HELD, message=f"On hold: {reason}", data=data, actor=actor
    )
    webhooks.publish_order("order.on_hold", order)
    return order


@transaction.atomic
def order_release(*, order: Order, actor=None) -> Order:
    """on_hold -> back where it was (confirmed if it had been confirmed, else pending)."""
    order_lock(order)
    if order.status != Status.ON_HOLD:
        raise InvalidTransition(
            entity="Order", number=order.number, current=order.status, move="release"
        )
    target = Status.CONFIRMED if order.confirmed_at else Status.PENDING
    previous_reason = order.hold_reason
    order.hold_reason = ""
    _transition(order, target, "release", extra_fields=["hold_reason"])
    order_add_event(
        order=order,
        kind=EventKind.RELEASED,
        message=f"Hold released ({previous_reason}); back to {target}",
        actor=actor,
    )
    return order


@transaction.atomic
def order_cancel(*, order: Order, reason: str, actor=None) -> Order:
    """Cancel an order with nothing shipped and nothing still reserved.

    ``fulfillment.services.order_cancel_and_release`` cancels the shipments (releasing
    their stock) first and then calls this. Locks the order.
    """
    order_lock(order)
    reason = (reason or "").strip() or "cancelled"
    lines = list(order.lines.select_for_update().order_by("pk"))
    if any(line.quantity_shipped for line in lines):
        raise InvalidTransition(
            entity="Order",
            number=order.number,
            current=order.status,
            move="cancel",
            detail="part of it has already shipped",
        )
    if any(line.quantity_allocated for line in lines):
        raise InvalidTransition(
            entity="Order",
            number=order.number,
            current=order.status,
            move="cancel",
            detail="stock is still allocated to open shipments",
        )
    order.cancel_reason = reason[:255]
    _transition(order, Status.CANCELLED, "cancel", extra_fields=["cancel_reason"])
    for line in lines:
        line.quantity_cancelled = line.quantity
    OrderLine.objects.bulk_update(lines, ["quantity_cancelled"])
    order_sync_progress(order=order, lines=lines)
    if order.financial_status == Order.FinancialStatus.AUTHORIZED:
        order_set_financial_status(
            order=order,
            status=Order.FinancialStatus.VOIDED,
            actor=actor,
            message="Authorization voided: order cancelled",
        )
    order_add_event(
        order=order,
        kind=EventKind.CANCELLED,
        message=f"Cancelled: {reason}",
        actor=actor,
        public=True,
    )
    webhooks.publish_order("order.cancelled", order)
    return order


def order_sync_progress(
    *, order: Order, lines: Sequence[OrderLine] | None = None, actor=None
) -> Order:
    """Recompute allocation and fulfillment status from the lines (caller holds the lock);
    a confirmed order whose every open unit has shipped becomes ``shipped``."""
    lines = list(lines if lines is not None else order.lines.all())
    wanted = sum(line.quantity - line.quantity_cancelled for line in lines)
    allocated = sum(line.quantity_allocated + line.quantity_shipped for line in lines)
    shipped = sum(line.quantity_shipped for line in lines)

    A, F = Order.AllocationStatus, Order.FulfillmentStatus
    if wanted and allocated >= wanted:
        allocation = A.ALLOCATED
    elif allocated:
        allocation = A.PARTIAL
    else:
        allocation = A.UNALLOCATED if wanted else order.allocation_status
    if wanted and shipped >= wanted:
        fulfillment = F.FULFILLED
    elif shipped:
        fulfillment = F.PARTIAL
    else:
        fulfillment = F.UNFULFILLED

    changed = []
    if allocation != order.allocation_status:
        order.allocation_status = allocation
        changed.append("allocation_status")
    if fulfillment != order.fulfillment_status:
        order.fulfillment_status = fulfillment
        changed.append("fulfillment_status")
    if changed:
        save_fields(order, [*changed, "updated_at"])
    if fulfillment == F.FULFILLED and order.status == Status.CONFIRMED:
        _transition(order, Status.SHIPPED, "mark shipped")
        order_add_event(
            order=order,
            kind=EventKind.SHIPPED,
            actor=actor,
            public=True,
            message="All items shipped",
        )
    return order


@transaction.atomic
def order_mark_delivered(*, order: Order, actor=None) -> Order:
    """shipped -> delivered (fulfillment calls it when every shipment is delivered)."""
    order_lock(order)
    _transition(order, Status.DELIVERED, "mark delivered")
    order_add_event(
        order=order, kind=EventKind.DELIVERED, message="Delivered", actor=actor, public=True
    )
    return order
