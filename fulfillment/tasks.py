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
