"""Outgoing webhooks: an outbox written in the caller's transaction, delivered by django-q2.

``publish(event_type, payload)`` is called by the services, inside the transaction of
the change it reports. It writes one ``WebhookEvent`` (the outbox row) and one
``scheduled`` ``WebhookDelivery`` per active subscription that wants the type, and
queues the deliveries with ``transaction.on_commit``: a rolled-back change leaves no row
and queues nothing. With no subscriber for the type it writes nothing (one query).

Delivery (``deliver``, run by the task ``oms.tasks.webhook_deliver``):

* the attempt is claimed with ``UPDATE ... SET status='sending' WHERE status='scheduled'``;
  a task that runs again (a worker crash, a broker redelivery) claims nothing and records
  nothing, so each attempt is logged once;
* the body is JSON ``{"id", "type", "timestamp", "sequence", "data"}``, POSTed with
  ``X-OMS-Event``, ``X-OMS-Delivery`` (stable per event and subscription: receivers
  deduplicate by it or by ``id``) and ``X-OMS-Signature: sha256=<hex>``, the HMAC-SHA256
  of the raw body with the subscription's secret;
* a 2xx answer is a success; anything else (status, timeout, refused connection) is a
  failure and schedules the next attempt, ``OMS_WEBHOOK_BACKOFF_SECONDS * 2**(n-1)``
  later (capped), until ``OMS_WEBHOOK_MAX_ATTEMPTS``. The next attempt's row and its
  django-q2 ``Schedule`` are written in the transaction that records the failure.
* ``sweep`` (a schedule every few minutes) re-queues attempts whose task was lost and
  closes attempts left ``sending`` by a worker that died, scheduling their successor.

Delivery is at least once: a worker killed after the receiver answered but before the
result was recorded leads to one more attempt, which carries the same ``X-OMS-Delivery``.
Order between events is the order of their queueing, not a guarantee under several
workers: receivers order by ``sequence`` when it matters.
"""

import hashlib
import hmac
import http.client
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from oms.actors import actor_name
from oms.db import rows_where
from oms.exceptions import DomainError
from oms.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from oms.money import format_money

log = logging.getLogger(__name__)

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


# --------------------------------------------------------------------------- payloads
# Built from the instances the services hold (duck-typed: oms imports no domain app).


def _money(value, currency: str | None = None) -> str | None:
    """The amount with its currency's own decimals (``oms.money``)."""
    return format_money(value, currency) if currency else (None if value is None else str(value))


def order_data(order) -> dict:
    if order.get_deferred_fields():  # loaded with only(): one query instead of one a field
        order = type(order).objects.select_related("channel", "customer").get(pk=order.pk)
    lines = list(order.lines.all())
    return {
        "number": order.number,
        "channel": order.channel.code,
        "external_id": order.external_id,
        "status": order.status,
        "hold_reason": order.hold_reason,
        "cancel_reason": order.cancel_reason,
        "allocation_status": order.allocation_status,
        "fulfillment_status": order.fulfillment_status,
        "financial_status": order.financial_status,
        "currency": order.currency,
        "subtotal": _money(order.subtotal, order.currency),
        "discount_total": _money(order.discount_total, order.currency),
        "shipping_total": _money(order.shipping_total, order.currency),
        "tax_total": _money(order.tax_total, order.currency),
        "total": _money(order.total, order.currency),
        "refunded_total": _money(order.refunded_total, order.currency),
        "customer_email": order.customer.email if order.customer_id else None,
        "placed_at": order.placed_at,
        "ship_by": order.ship_by,
        "shipping_address": {
            "name": order.ship_name,
            "line1": order.ship_line1,
            "line2": order.ship_line2,
            "city": order.ship_city,
            "region": order.ship_region,
            "postcode": order.ship_postcode,
            "country": order.ship_country,
        },
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": _money(line.unit_price, order.currency),
                "discount_total": _money(line.discount_total, order.currency),
                "quantity_allocated": line.quantity_allocated,
                "quantity_shipped": line.quantity_shipped,
                "quantity_cancelled": line.quantity_cancelled,
                "quantity_returned": line.quantity_returned,
            }
            for line in lines
        ],
    }


def shipment_data(shipment) -> dict:
    order = shipment.order
    return {
        "number": shipment.number,
        "order": order.number,
        "order_external_id": order.external_id,
        "channel": order.channel.code,
        "warehouse": shipment.warehouse.code,
        "status": shipment.status,
        "carrier": shipment.carrier,
        "service": shipment.service,
        "tracking_number": shipment.tracking_number,
        "shipped_at": shipment.shipped_at,
        "delivered_at": shipment.delivered_at,
        "lines": [
            {"sku": sl.order_line.sku, "quantity": sl.quantity}
            for sl in shipment.lines.select_related("order_line").order_by("pk")
        ],
    }


def return_data(rma) -> dict:
    return {
        "number": rma.number,
        "order": rma.order.number,
        "order_external_id": rma.order.external_id,
        "status": rma.status,
        "lines": [
            {
                "sku": rl.order_line.sku,
                "quantity": rl.quantity,
                "reason": rl.reason,
                "quantity_received": rl.quantity_received,
                "condition": rl.condition,
                "disposition": rl.disposition,
            }
            for rl in rma.lines.select_related("order_line").order_by("pk")
        ],
    }


def refund_data(refund) -> dict:
    return {
        "id": refund.pk,
        "order": refund.order.number,
        "order_external_id": refund.order.external_id,
        "return": refund.return_request.number if refund.return_request_id else None,
        "amount": _money(refund.amount, refund.currency),
        "currency": refund.currency,
        "reference": refund.reference,
        "financial_status": refund.order.financial_status,
        "created_at": refund.created_at,
    }


def stock_low_data(row, alert=None) -> dict:
    """From an ``inventory.replenishment.Suggestion`` row (sku, warehouse code or "" for
    all points, quantities, reorder point, suggested order)."""
    return {
        "sku": row.sku,
        "name": getattr(row, "name", ""),
        "warehouse": getattr(row, "warehouse", "") or None,
        "on_hand": getattr(row, "on_hand", None),
        "reserved": getattr(row, "reserved", None),
        "available": row.available,
        "backordered": getattr(row, "backordered", None),
        "reorder_point": row.reorder_point,
        "suggested_quantity": getattr(row, "order_quantity", None),
        "order_by": getattr(row, "order_by", None),
        "days_of_cover": getattr(row, "days_of_cover", None),
        "alert": getattr(alert, "pk", None),
    }


# In-process listeners: ``listener(subject)`` is called with the order, shipment,
# return or refund, inside the transaction of the change, before the outbox row is
# written (so what they write commits or rolls back with it). The ``intake`` app
# registers here to tell the sales channels; lower apps know nothing of it.
_LOCAL_LISTENERS: dict[str, list[Callable]] = {}


def listen(event_type: str, listener: Callable) -> None:
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown webhook event type {event_type!r}")
    listeners = _LOCAL_LISTENERS.setdefault(event_type, [])
    if listener not in listeners:
        listeners.append(listener)


def _tell_local(event_type: str, subject) -> None:
    for listener in _LOCAL_LISTENERS.get(event_type, ()):
        listener(subject)


def publish_order(event_type: str, order, **extra) -> WebhookEvent | None:
    _tell_local(event_type, order)
    return publish(event_type, lambda: {**order_data(order), **extra})


def publish_shipment(event_type: str, shipment) -> WebhookEvent | None:
    _tell_local(event_type, shipment)
    return publish(event_type, partial(shipment_data, shipment))


def publish_return(event_type: str, rma) -> WebhookEvent | None:
    _tell_local(event_type, rma)
    return publish(event_type, partial(return_data, rma))


def publish_refund(refund) -> WebhookEvent | None:
    _tell_local("refund.created", refund)
    return publish("refund.created", partial(refund_data, refund))


def publish_stock_low(row, alert=None) -> WebhookEvent | None:
    return publish("stock.low", partial(stock_low_data, row, alert))


# --------------------------------------------------------------------------- signing


def event_body(event: WebhookEvent) -> bytes:
    """The exact bytes POSTed for ``event`` (the same on every attempt)."""
    body = {
        "id": str(event.uuid),
        "type": event.event_type,
        "timestamp": event.created_at.isoformat(),
        "sequence": event.pk,
        "data": event.payload,
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def sign(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of body>``, the ``X-OMS-Signature`` value."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """What a receiver checks (constant-time)."""
    return bool(header) and hmac.compare_digest(sign(secret, body), header.strip())


def delivery_key(event: WebhookEvent, subscription_id: int | None) -> str:
    """``X-OMS-Delivery``: one id per (event, subscription), the same on every attempt."""
    return str(uuid.uuid5(event.uuid, str(subscription_id)))


# --------------------------------------------------------------------------- delivery


@dataclass
class HttpResult:
    status_code: int | None
    latency_ms: int
    error: str = ""
    body: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def http_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> HttpResult:
    """POST with the standard library; redirects are not followed (a 3xx is a failure)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return HttpResult(None, 0, f"unsupported URL {url!r}")
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read(RESPONSE_KEEP * 4).decode("utf-8", errors="replace")
        return HttpResult(response.status, _elapsed(started), body=text[:RESPONSE_KEEP])
    except TimeoutError:
        return HttpResult(None, _elapsed(started), f"timed out after {timeout:g} s")
    except (OSError, http.client.HTTPException) as exc:
        return HttpResult(None, _elapsed(started), f"{type(exc).__name__}: {exc}"[:500])
    finally:
        connection.close()


def _elapsed(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def backoff(attempt: int) -> timedelta:
    """How long after failed attempt ``attempt`` the next one runs."""
    base = float(settings.OMS_WEBHOOK_BACKOFF_SECONDS)
    seconds = min(base * 2 ** (attempt - 1), float(settings.OMS_WEBHOOK_BACKOFF_MAX_SECONDS))
    return timedelta(seconds=max(seconds, 0))


def deliver(delivery_id: int) -> str:
    """Make one attempt (the body of the ``oms.tasks.webhook_deliver`` task). Returns the
    attempt's status. Safe to run twice: only the run that claims the attempt sends."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(pk=delivery_id, status=Status.SCHEDULED).update(
        status=Status.SENDING, started_at=now
    )
    if not claimed:
        current = WebhookDelivery.objects.filter(pk=delivery_id).first()
        if current is None:
            return "missing"
        if current.status == Status.SENDING and _is_orphaned(current, now):
            _close_orphan(current)
            current.refresh_from_db(fields=["status"])
        return current.status
    delivery = WebhookDelivery.objects.select_related("event", "subscription").get(pk=delivery_id)
    subscription = delivery.subscription
    if subscription is None or not subscription.active:
        reason = "subscription deleted" if subscription is None else "subscription inactive"
        _finish(delivery, HttpResult(None, 0, reason), retry=False)
        return Status.FAILED
    body = event_body(delivery.event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: delivery.event.event_type,
        DELIVERY_HEADER: delivery_key(delivery.event, subscription.pk),
        ATTEMPT_HEADER: str(delivery.attempt),
        SIGNATURE_HEADER: sign(subscription.secret, body),
    }
    result = http_post(subscription.url, body, headers, float(settings.OMS_WEBHOOK_TIMEOUT_SECONDS))
    return _finish(delivery, result, retry=not delivery.manual)


def _finish(delivery: WebhookDelivery, result: HttpResult, *, retry: bool) -> str:
    """Record the attempt's outcome and, after a failure, schedule the next attempt, in
    one transaction. Records nothing if the attempt was closed meanwhile (orphan sweep)."""
    status = Status.SUCCEEDED if result.ok else Status.FAILED
    error = result.error or ("" if result.ok else f"HTTP {result.status_code}")
    with transaction.atomic():
        recorded = WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
            status=status,
            finished_at=timezone.now(),
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            error=error,
            response_body=result.body,
        )
        if recorded and status == Status.FAILED and retry:
            schedule_next(delivery)
    if not recorded:
        return Status.FAILED
    log.info("webhook %s attempt %s: %s %s", delivery.pk, delivery.attempt, status, error)
    return status


def schedule_next(delivery: WebhookDelivery) -> WebhookDelivery | None:
    """Create the attempt after ``delivery`` (unless the attempts are used up) and make
    sure a task runs it when due. Call inside the transaction that records the failure."""
    if delivery.attempt >= int(settings.OMS_WEBHOOK_MAX_ATTEMPTS):
        return None
    due_at = timezone.now() + backoff(delivery.attempt)
    try:
        with transaction.atomic():
            following = WebhookDelivery.objects.create(
                event_id=delivery.event_id,
                subscription_id=delivery.subscription_id,
                url=delivery.url,
                attempt=delivery.attempt + 1,
                due_at=due_at,
            )
    except IntegrityError:
        return None  # already scheduled (a sweep got there first)
    _queue_at(following)
    return following


def _queue_at(delivery: WebhookDelivery) -> None:
    if delivery.due_at <= timezone.now():
        transaction.on_commit(partial(enqueue, delivery.pk), robust=True)
        return
    from django_q.models import Schedule

    Schedule.objects.create(
        name=f"webhook delivery {delivery.pk}",
        func=TASK,
        args=repr(delivery.pk),
        schedule_type=Schedule.ONCE,
        repeats=-1,  # a ONCE schedule with negative repeats is deleted after it ran
        next_run=delivery.due_at,
    )


def _is_orphaned(delivery: WebhookDelivery, now) -> bool:
    timeout = timedelta(seconds=float(settings.OMS_WEBHOOK_TIMEOUT_SECONDS))
    return delivery.started_at is not None and delivery.started_at < now - timeout - STALE_MARGIN


def _close_orphan(delivery: WebhookDelivery) -> bool:
    """A worker died while sending: record the attempt as failed (once) and schedule the
    next. The receiver may have got it; the next attempt has the same X-OMS-Delivery."""
    with transaction.atomic():
        closed = WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
            status=Status.FAILED,
            finished_at=timezone.now(),
            error="interrupted: the worker stopped while sending",
        )
        if closed and not delivery.manual:
            schedule_next(delivery)
    return bool(closed)


def sweep() -> dict[str, int]:
    """Safety net run by a schedule: re-queue attempts whose task was lost (a crash
    between commit and queueing, a purged queue) and close orphaned ``sending`` ones."""
    now = timezone.now()
    timeout = timedelta(seconds=float(settings.OMS_WEBHOOK_TIMEOUT_SECONDS))
    orphans = WebhookDelivery.objects.filter(
        status=Status.SENDING, started_at__lt=now - timeout - STALE_MARGIN
    ).order_by("pk")
    closed = sum(_close_orphan(d) for d in orphans[:500])
    lost = list(
        WebhookDelivery.objects.filter(status=Status.SCHEDULED, due_at__lt=now - LOST_TASK_GRACE)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:500]
    )
    for delivery_id in lost:
        enqueue(delivery_id)
    return {"closed": closed, "requeued": len(lost)}


# --------------------------------------------------------------------------- redelivery


def redeliver(*, delivery: WebhookDelivery, actor=None) -> WebhookDelivery:
    """Send the event of ``delivery`` to its subscription again, now: a new attempt
    marked ``manual`` (it is not retried automatically)."""
    if delivery.subscription_id is None:
        raise WebhookError(f"Delivery {delivery.pk}: its subscription was deleted")
    log.info("redelivery of %s requested by %s", delivery.pk, actor_name(actor))
    with transaction.atomic():
        WebhookSubscription.objects.select_for_update().get(pk=delivery.subscription_id)
        last = WebhookDelivery.objects.filter(
            event_id=delivery.event_id, subscription_id=delivery.subscription_id
        ).aggregate(last=Max("attempt"))["last"]
        subscription = delivery.subscription
        attempt = WebhookDelivery.objects.create(
            event_id=delivery.event_id,
            subscription=subscription,
            url=subscription.url,
            attempt=(last or 0) + 1,
            manual=True,
        )
        transaction.on_commit(partial(enqueue, attempt.pk), robust=True)
    return attempt
