"""django-q2 jobs of the fulfillment app; each loads rows by id and calls services."""

from fulfillment.services import allocate_backorders as _allocate_backorders


def allocate_backorders(product_ids=None) -> int:
    """Queued after commit whenever stock arrives (inventory names it by path)."""
    return _allocate_backorders(product_ids=product_ids)
