"""Order intake for every entry point (API, CSV, channel webhooks, staff placement):
placement, then the one acceptance policy, ``order_accept``."""

from kernel import webhooks
from kernel.db import forget_primed, retry_on_conflict
from orders import autoconfirm
from orders import services as order_services
from orders.models import Order


@retry_on_conflict
def order_place_and_confirm(
    *, actor=None, keep_primed: bool = False, **placement
) -> tuple[Order, bool]:
    """Place an order (``orders.services.order_place`` arguments) and, on a channel with
    ``auto_confirm``, check the channel's auto-confirm rules (``orders.autoconfirm``):
    all pass, confirm and route it in the same transaction; any fails, put it on hold
    naming the failed rules (the review queue lists it). A replay of an existing order
    is returned as is (``created`` False).

    The steps read the new order's lines from memory (``order_place(prime=True)``).
    ``keep_primed``: leave them (and its events and shipments) on the returned order for
    a caller that only serialises it next, like the API's answer; otherwise they are
    dropped, so later reads of a long-lived order object query the database."""
    # On an error the order object never reaches the caller, so there is nothing to undo.
    # order.created and order.confirmed: one read of the subscriptions.
    with webhooks.subscriptions_read_once():
        order, created = order_services.order_place(actor=actor, prime=True, **placement)
        if created:
            # Placed just now in this transaction: nobody else can see it to lock it.
            order_accept(order=order, actor=actor, locked=True)
    if not keep_primed:
        forget_primed(order, "lines", "events", "shipments", "payments")
    return order, created


def order_accept(*, order: Order, actor=None, locked: bool = False) -> Order:
    """The one acceptance policy of a new (or newly released) pending order, for every
    entry point (API, CSV, channel webhooks, staff placement): on a channel with
    ``auto_confirm``, check the channel's auto-confirm rules (``orders.autoconfirm``);
    all pass, confirm and route it; any fails, put it on hold naming the failed rules
    (the reason, and every rule's verdict in the ``held`` event's data: the review
    queue shows them). Elsewhere, and for an order no longer pending, nothing happens.
    ``locked``: the caller holds the order's row and lines (see
    ``orders.services.order_lock``)."""
    from fulfillment.services.allocation import order_confirm_and_allocate

    if order.status != Order.Status.PENDING or not order.channel.auto_confirm:
        return order
    results = autoconfirm.evaluate(order)
    failures = autoconfirm.failed(results)
    if failures:
        order_services.order_hold(
            order=order,
            reason=autoconfirm.hold_reason(failures),
            actor="auto-confirm",
            data={"auto_confirm": [r.as_dict() for r in results]},
        )
    else:
        order_confirm_and_allocate(order=order, actor=actor, locked=locked)
    return order


@retry_on_conflict
def order_approve_held(*, order: Order, actor=None) -> Order:
    """The review queue's 'approve': release the hold and confirm and route the order
    (an order held after its confirmation is routed again for what is backordered)."""
    from fulfillment.services.allocation import order_allocate, order_confirm_and_allocate

    order_services.order_release(order=order, actor=actor)
    if order.status == Order.Status.PENDING:
        order_confirm_and_allocate(order=order, actor=actor)
    else:
        order_allocate(order=order, actor=actor)
    return order
