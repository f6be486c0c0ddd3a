"""How the lower apps' changes reach the channel sync without importing it.

* ``inventory.services.on_stock_change``: a stock change (in its transaction) queues
  ``intake.tasks.push_channel_stock`` after commit if some channel pushes stock and no
  run is queued and not started yet;
* ``kernel.webhooks.listen``: a shipment shipped, an order cancelled or a refund created
  writes a ``ChannelOutbox`` row in the same transaction (``intake.sync.outbound``),
  delivered by ``intake.tasks.deliver_channel_outbox`` after commit; so does a staff
  edit or partial line cancel (``order.updated`` after its ``edited`` event,
  ``intake.sync.order_edits``).
"""

import time

from django.db import transaction

# Queueing a written outbox row lives below ``outbound`` (which imports it); the names
# stay importable from here.
from intake.sync.outbox_queue import after_commit_deliver, queue_outbox  # noqa: F401

PUSH_TASK = "intake.tasks.push_channel_stock"
_cache = {"until": 0.0, "pushing": False}
CACHE_SECONDS = 5.0


def connect() -> None:
    from intake.sync import order_edits, outbound
    from inventory.services import on_stock_change
    from kernel import webhooks

    on_stock_change(stock_changed)
    webhooks.listen("shipment.shipped", outbound.shipment_shipped)
    webhooks.listen("order.cancelled", outbound.order_cancelled)
    webhooks.listen("refund.created", outbound.refund_created)
    webhooks.listen("order.updated", order_edits.order_edited)


def some_channel_pushes_stock() -> bool:
    """Cached a few seconds per process: asked on every stock change."""
    now = time.monotonic()
    if now >= _cache["until"]:
        from intake.sync.stock import pushing_channels

        _cache["pushing"] = pushing_channels().exists()
        _cache["until"] = now + CACHE_SECONDS
    return _cache["pushing"]


def forget_cache() -> None:
    _cache["until"] = 0.0


def stock_changed(product_ids: set[int]) -> None:
    if not some_channel_pushes_stock():
        return
    # After commit (at once outside a transaction); a rolled-back change queues nothing.
    # A burst of changes queues one task while it waits (``queue_push``).
    transaction.on_commit(queue_push, robust=True)


def queue_push() -> None:
    """Queue a push unless one is queued and not started yet (``PushRequest``)."""
    from django_q.tasks import async_task

    from intake.models import PushRequest

    if not PushRequest.objects.filter(pk=1, requested=False).update(requested=True):
        if PushRequest.objects.filter(pk=1).exists():
            return  # a queued task will see this change's marks
        PushRequest.objects.get_or_create(pk=1, defaults={"requested": True})
    async_task(PUSH_TASK, group="channel-sync")


def push_started() -> None:
    """Called by the push task before it reads the marks."""
    from intake.models import PushRequest

    PushRequest.objects.filter(pk=1, requested=True).update(requested=False)
