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

Split by step: ``outbox`` (publish), ``payloads`` (and the local listeners),
``signing``, ``delivery`` (attempts, retries, the sweep, redelivery); import from here.
"""

from kernel.webhooks.delivery import (  # noqa: F401
    HttpResult,
    backoff,
    deliver,
    http_post,
    redeliver,
    schedule_next,
    sweep,
)
from kernel.webhooks.outbox import (  # noqa: F401
    ALL_EVENTS,
    ATTEMPT_HEADER,
    DELIVERY_HEADER,
    EVENT_HEADER,
    EVENT_TYPES,
    LOST_TASK_GRACE,
    RESPONSE_KEEP,
    SIGNATURE_HEADER,
    STALE_MARGIN,
    TASK,
    USER_AGENT,
    Status,
    WebhookError,
    enqueue,
    log,
    publish,
    subscriptions_read_once,
)
from kernel.webhooks.payloads import (  # noqa: F401
    listen,
    order_data,
    publish_order,
    publish_refund,
    publish_return,
    publish_shipment,
    publish_stock_low,
    refund_data,
    return_data,
    shipment_data,
    stock_low_data,
)
from kernel.webhooks.signing import delivery_key, event_body, sign, signature_valid  # noqa: F401
