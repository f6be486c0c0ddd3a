"""Cancelling an order: its open shipments first (their stock released), then the order.

Above both ``allocation`` and ``shipments``: a shipment cancelled with ``reallocate``
routes the order again (``shipments`` -> ``allocation``), and an order cancel cancels its
shipments (this module -> ``shipments``), so neither of those two imports the other back.
"""

from fulfillment.models import OPEN_SHIPMENT_STATUSES
from fulfillment.services.shipments import shipment_cancel
from inventory.services import stock_lock_levels
from kernel.db import retry_on_conflict
from kernel.exceptions import InvalidTransition
from orders import services as order_services
from orders.models import Order


@retry_on_conflict
def order_cancel_and_release(*, order: Order, reason: str, actor=None) -> Order:
    """Cancel the order: cancel its open shipments (their stock is released), then the
    order itself. Refused once anything shipped."""
    order_services.order_lock(order)
    if order.status not in (Order.Status.PENDING, Order.Status.ON_HOLD, Order.Status.CONFIRMED):
        raise InvalidTransition(
            entity="Order", number=order.number, current=order.status, move="cancel"
        )
    if order.lines.filter(quantity_shipped__gt=0).exists():
        raise InvalidTransition(
            entity="Order",
            number=order.number,
            current=order.status,
            move="cancel",
            detail="part of it has already shipped",
        )
    open_shipments = list(order.shipments.filter(status__in=OPEN_SHIPMENT_STATUSES).order_by("pk"))
    if open_shipments:
        # Lock every stock level the cancellations release, at once and in pk order:
        # shipment by shipment they would be taken out of pk order and deadlock with
        # concurrent allocations of the same SKUs.
        stock_lock_levels(product_ids=set(order.lines.values_list("product_id", flat=True)))
    for shipment in open_shipments:
        shipment_cancel(
            shipment=shipment, reason=f"order cancelled: {reason}", actor=actor, reallocate=False
        )
    return order_services.order_cancel(order=order, reason=reason, actor=actor)
