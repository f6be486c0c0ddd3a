"""Delivering an attempt: the POST, its result, the retries, the sweep, redelivery."""

import http.client
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from kernel.actors import actor_name
from kernel.models import WebhookDelivery, WebhookSubscription
from kernel.webhooks.outbox import (
    ATTEMPT_HEADER,
    DELIVERY_HEADER,
    EVENT_HEADER,
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
)
from kernel.webhooks.signing import delivery_key, event_body, sign

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
