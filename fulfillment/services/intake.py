"""Order intake for every entry point (API, CSV, channel webhooks)."""

from oms.db import retry_on_conflict
from orders import services as order_services
from orders.models import Order


@retry_on_conflict
def order_place_and_confirm(*, actor=None, **placement) -> tuple[Order, bool]:
    """Place an order (``orders.services.order_place`` arguments) and, on a channel with
    ``auto_confirm``, confirm and route it in the same transaction. A replay of an
    existing order is returned as is (``created`` False)."""
    from fulfillment.services.allocation import order_confirm_and_allocate

    order, created = order_services.order_place(actor=actor, **placement)
    if created and order.channel.auto_confirm:
        order_confirm_and_allocate(order=order, actor=actor)
    return order, created
