"""Publishing an event: the outbox rows, one delivery per subscription, queued after commit."""

import json
import logging
import threading
from collections.abc import Callable
from contextlib import contextmanager
from datetime import timedelta
from functools import partial

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from kernel.db import rows_where
from kernel.exceptions import DomainError
from kernel.models import WebhookDelivery, WebhookEvent, WebhookSubscription

log = logging.getLogger("kernel.webhooks")  # one logger for the package

EVENT_TYPES = (
    "order.created",
    "order.updated",
    "order.confirmed",
    "order.on_hold",
    "order.cancelled",
    "order.at_risk",
    "shipment.shipped",
    "shipment.delivered",
    "return.requested",
    "return.received",
    "refund.created",
    "stock.low",
)
ALL_EVENTS = "*"
SIGNATURE_HEADER = "X-OMS-Signature"
EVENT_HEADER = "X-OMS-Event"
DELIVERY_HEADER = "X-OMS-Delivery"
ATTEMPT_HEADER = "X-OMS-Attempt"
USER_AGENT = "OMS-Webhooks/1.0"
TASK = "oms.tasks.webhook_deliver"
RESPONSE_KEEP = 1000  # characters of the receiver's answer kept in the log
STALE_MARGIN = timedelta(seconds=60)  # beyond the HTTP timeout: a 'sending' row is orphaned
LOST_TASK_GRACE = timedelta(minutes=2)  # a scheduled attempt this overdue lost its task

Status = WebhookDelivery.Status


class WebhookError(DomainError):
    code = "webhook_error"


# --------------------------------------------------------------------------- publish


def publish(event_type: str, payload: dict | Callable[[], dict]) -> WebhookEvent | None:
    """Record ``event_type`` in the outbox for every active subscription that wants it and
    queue its delivery once the caller's transaction commits. ``payload`` may be a
    callable, evaluated only when someone subscribed. Returns the event (None: nobody
    listens)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown webhook event type {event_type!r}")
    subscriptions = [s for s in _active_subscriptions() if s.wants(event_type)]
    if not subscriptions:
        return None
    data = payload() if callable(payload) else payload
    # Store exactly what will be sent (decimals and dates as JSON strings).
    data = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    with transaction.atomic():
        event = WebhookEvent.objects.create(event_type=event_type, payload=data)
        deliveries = WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(event=event, subscription=s, url=s.url, due_at=event.created_at)
                for s in subscriptions
            ]
        )
    for delivery in deliveries:
        transaction.on_commit(partial(enqueue, delivery.pk), robust=True)
    return event


_read_once = threading.local()


@contextmanager
def subscriptions_read_once():
    """Within this block, ``publish`` reads the active subscriptions from the database
    once, not once per event: for one service call that publishes several events (an
    intake publishes order.created and order.confirmed), during which nobody edits a
    subscription. Nested blocks share the outer one's read."""
    if getattr(_read_once, "active", False):
        yield
        return
    _read_once.active, _read_once.subscriptions = True, None
    try:
        yield
    finally:
        _read_once.active, _read_once.subscriptions = False, None


def _active_subscriptions() -> list[WebhookSubscription]:
    if not getattr(_read_once, "active", False):
        return _read_active_subscriptions()
    if _read_once.subscriptions is None:
        _read_once.subscriptions = _read_active_subscriptions()
    return _read_once.subscriptions


def _read_active_subscriptions() -> list[WebhookSubscription]:
    return rows_where(WebhookSubscription, "active", [True])


def enqueue(delivery_id: int) -> None:
    """Queue one attempt now (the caller's transaction has committed)."""
    from django_q.tasks import async_task

    async_task(TASK, delivery_id, group="webhooks")
