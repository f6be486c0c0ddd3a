"""What follows every stock change, in its transaction: the channels' change marks
(``StockChangeMark``), the registered listeners, and the offer of arrived stock to
backordered lines after commit. Used by ``inventory.services`` and the count writers."""

from collections.abc import Callable
from functools import partial

from django.db import connection, transaction

# Called (inside the transaction) after every stock change with the changed product
# ids: higher layers register here (``intake`` queues its channel stock push after
# commit) instead of inventory importing them.
STOCK_CHANGE_LISTENERS: list[Callable[[set[int]], None]] = []


def on_stock_change(listener: Callable[[set[int]], None]) -> Callable[[set[int]], None]:
    """Register ``listener(product_ids)``, called in the transaction of each stock change."""
    if listener not in STOCK_CHANGE_LISTENERS:
        STOCK_CHANGE_LISTENERS.append(listener)
    return listener


# The marks' upsert: one row per level, its time moved forward when already marked. Its
# rows come from VALUES here, or from the levels' own UPDATE (inventory.services).
MARKS_INSERT = "INSERT INTO inventory_stockchangemark (level_id, product_id, marked_at) "
MARKS_ON_CONFLICT = " ON CONFLICT (level_id) DO UPDATE SET marked_at = EXCLUDED.marked_at"


def mark_changed(marks: list[tuple[int, int]], now) -> None:
    """Mark (level id, product id) pairs changed (``StockChangeMark``): one row per
    level, its time moved forward when already marked."""
    values = ", ".join(["(%s, %s, %s)"] * len(marks))
    now = connection.ops.adapt_datetimefield_value(now)  # as the ORM stores it
    with connection.cursor() as cursor:
        cursor.execute(
            f"{MARKS_INSERT}VALUES {values}{MARKS_ON_CONFLICT}",
            [x for level_id, product_id in marks for x in (level_id, product_id, now)],
        )


def tell_listeners(product_ids: set[int]) -> None:
    for listener in STOCK_CHANGE_LISTENERS:
        listener(product_ids)


def offer_to_backorders(product_ids: set[int]) -> None:
    """After commit, let waiting backordered lines take the stock that just arrived.

    The task is named by its dotted path: inventory does not import fulfillment.
    """
    if not product_ids:
        return
    from django_q.tasks import async_task

    transaction.on_commit(
        partial(async_task, "fulfillment.tasks.allocate_backorders", sorted(product_ids))
    )
