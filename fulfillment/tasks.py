"""django-q2 jobs of the fulfillment app; each loads rows by id and calls services."""

import logging

from fulfillment.services import allocate_backorders as _allocate_backorders

log = logging.getLogger(__name__)


def allocate_backorders(product_ids=None) -> int:
    """Queued after commit whenever stock arrives or is released (inventory names it by
    path): offer it to backordered lines, oldest order first. Returns the orders filled."""
    filled = _allocate_backorders(product_ids=product_ids)
    if filled:
        log.info("backorder fill for products %s: %s order(s) got stock", product_ids, filled)
    return filled


def poll_tracking(limit: int = 500) -> dict:
    """Scheduled (migration ``fulfillment.0003``, every 30 minutes): ask the carriers
    that report tracking about the shipments on their way; events move shipments as
    pushed ones do."""
    from fulfillment.services.tracking import tracking_poll

    counts = tracking_poll(limit=limit)
    if counts["events"] or counts["errors"]:
        log.info("tracking poll: %s", counts)
    return counts


def send_customer_notification(order_id: int, kind: str, reference: str = "", attempt: int = 1):
    """Queued after commit by ``orders.notifications.notify_customer``: send one customer
    e-mail and record it (a failure is recorded and retried by a one-off schedule)."""
    from orders.notifications import notification_send

    return notification_send(order_id=order_id, kind=kind, reference=reference, attempt=attempt)
