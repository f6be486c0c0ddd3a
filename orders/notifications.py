"""Customer e-mails: shipped (with the tracking link), delivered, return received, refund,
order changed (an edit or a partial cancellation).

Services call ``notify_customer`` inside their transaction; the e-mail is queued only
once that transaction commits (``transaction.on_commit`` + django-q2 ``async_task``), so
a rolled-back change sends nothing and a failing e-mail never undoes the change. The job
(``fulfillment.tasks.send_customer_notification`` -> ``notification_send``) renders
``templates/emails/<kind>_subject.txt``, ``<kind>.txt`` and ``<kind>.html``, sends them
through Django's e-mail backend and records the sending as an order event (kind
``note``, ``data.notification``). A failed send is recorded too and tried again later
(``OMS_NOTIFICATION_ATTEMPTS`` in all, ``OMS_NOTIFICATION_RETRY_MINUTES`` apart,
doubling); a repeated job for the same e-mail sends nothing.

Shipments, returns and refunds live in higher apps: their rows are looked up by name
(``apps.get_model``), never imported.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from functools import partial

from django.apps import apps
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, OrderEvent

log = logging.getLogger(__name__)

SHIPPED = "shipped"
DELIVERED = "delivered"
RETURN_RECEIVED = "return_received"
REFUNDED = "refunded"
ORDER_EDITED = "order_edited"  # reference: the ``edited`` event's id
KINDS = (SHIPPED, DELIVERED, RETURN_RECEIVED, REFUNDED, ORDER_EDITED)
TASK = "fulfillment.tasks.send_customer_notification"

_muted: contextvars.ContextVar[bool] = contextvars.ContextVar("oms_notify_muted", default=False)


@contextlib.contextmanager
def notifications_muted() -> Iterator[None]:
    """Queue no customer e-mail inside this block (the demo seed's invented history)."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def notify_customer(*, order: Order, kind: str, reference: str = "") -> None:
    """Queue e-mail ``kind`` about ``reference`` (a shipment, return or refund) to the
    order's customer, once the current transaction commits."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification {kind!r}")
    if _muted.get() or not order.customer_id:
        return
    transaction.on_commit(partial(_enqueue, order.pk, kind, reference))


def _enqueue(order_id: int, kind: str, reference: str, attempt: int = 1) -> None:
    """Hand the job to django-q2; a broker failure is logged, never raised to the
    request whose change already committed."""
    from django_q.tasks import async_task

    try:
        async_task(TASK, order_id, kind, reference, attempt, task_name=f"email {kind} {order_id}")
    except Exception:
        log.exception("could not queue e-mail %s for order %s", kind, order_id)


def tracking_url(order: Order) -> str:
    return settings.OMS_PUBLIC_URL + reverse("tracking-page", args=[order.tracking_token])


def _already_sent(order: Order, kind: str, reference: str) -> bool:
    return order.events.filter(
        kind=OrderEvent.Kind.NOTE,
        data__notification=kind,
        data__reference=reference,
        data__status="sent",
    ).exists()


def _context(order: Order, kind: str, reference: str) -> dict:
    context = {
        "order": order,
        "customer": order.customer,
        "company": settings.OMS_COMPANY_NAME,
        "tracking_url": tracking_url(order),
        "return_days": settings.OMS_RETURN_DAYS,
    }
    if kind in (SHIPPED, DELIVERED):
        Shipment = apps.get_model("fulfillment", "Shipment")
        Carrier = apps.get_model("fulfillment", "Carrier")
        shipment = Shipment.objects.filter(order=order, number=reference).first()
        carrier = Carrier.objects.filter(code=getattr(shipment, "carrier", "")).first()
        carrier_url = ""
        if carrier and carrier.tracking_url_template and shipment.tracking_number:
            carrier_url = carrier.tracking_url_template.replace(
                "{tracking}", shipment.tracking_number
            )
        context.update(
            shipment=shipment,
            carrier_name=carrier.name if carrier else getattr(shipment, "carrier", ""),
            carrier_url=carrier_url,
            items=list(shipment.lines.select_related("order_line").order_by("pk"))
            if shipment
            else [],
        )
    elif kind == RETURN_RECEIVED:
        ReturnRequest = apps.get_model("returns", "ReturnRequest")
        rma = ReturnRequest.objects.filter(order=order, number=reference).first()
        context.update(
            rma=rma,
            items=list(rma.lines.select_related("order_line").order_by("pk")) if rma else [],
        )
    elif kind == REFUNDED:
        Refund = apps.get_model("returns", "Refund")
        refund = (
            Refund.objects.filter(order=order, pk=int(reference))
            .select_related("return_request")
            .first()
            if reference.isdigit()
            else None
        )
        context.update(refund=refund)
    elif kind == ORDER_EDITED:
        lines = list(order.lines.order_by("pk"))
        event = (
            order.events.filter(pk=int(reference), kind=OrderEvent.Kind.EDITED).first()
            if reference.isdigit()
            else None
        )
        data = (event.data if event else None) or {}
        names = {line.pk: line.name for line in lines}
        cancelled = (
            [
                {"name": names.get(item.get("line"), item.get("sku")), "quantity": item["quantity"]}
                for item in data.get("lines", [])
                if isinstance(item, dict) and item.get("quantity")
            ]
            if data.get("change") == "cancel_lines"
            else []
        )
        refund_due = str(data.get("refund_due") or "0")
        context.update(
            items=[
                {"name": line.name, "quantity": line.quantity - line.quantity_cancelled}
                for line in lines
                if line.quantity > line.quantity_cancelled
            ],
            cancelled=cancelled,
            refund_due=refund_due if _positive(refund_due) else "",
        )
    return context


def _positive(amount: str) -> bool:
    try:
        return Decimal(amount) > 0
    except InvalidOperation:
        return False


def build_message(order: Order, kind: str, reference: str) -> EmailMultiAlternatives:
    context = _context(order, kind, reference)
    subject = " ".join(render_to_string(f"emails/{kind}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{kind}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.customer.email],
    )
    message.attach_alternative(render_to_string(f"emails/{kind}.html", context), "text/html")
    return message


def notification_send(*, order_id: int, kind: str, reference: str = "", attempt: int = 1) -> str:
    """Send one customer e-mail and record it on the order's timeline. Returns "sent",
    "duplicate" (already sent), "skipped" (no address) or "failed" (recorded, and tried
    again later while attempts remain)."""
    order = Order.objects.select_related("customer", "channel").filter(pk=order_id).first()
    if order is None or kind not in KINDS:
        return "skipped"
    if order.customer is None or not order.customer.email:
        return "skipped"
    if _already_sent(order, kind, reference):
        return "duplicate"
    to = order.customer.email
    data = {"notification": kind, "reference": reference, "to": to, "attempt": attempt}
    try:
        message = build_message(order, kind, reference)
        message.send()
    except Exception as exc:  # any backend failure: record it, try again later
        log.warning("e-mail %s to %s for %s failed: %s", kind, to, order.number, exc)
        retry = attempt < settings.OMS_NOTIFICATION_ATTEMPTS
        when = timezone.now() + timedelta(
            minutes=settings.OMS_NOTIFICATION_RETRY_MINUTES * 2 ** (attempt - 1)
        )
        OrderEvent.objects.create(
            order=order,
            kind=OrderEvent.Kind.NOTE,
            actor="system",
            message=f"E-mail '{kind}' to {to} failed (attempt {attempt} of "
            f"{settings.OMS_NOTIFICATION_ATTEMPTS}): {exc}"
            + (f"; retrying at {when:%Y-%m-%d %H:%M}" if retry else "; giving up"),
            data={**data, "status": "failed", "error": str(exc)[:500]},
        )
        if retry:
            _schedule_retry(order.pk, kind, reference, attempt + 1, when)
        return "failed"
    OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.NOTE,
        actor="system",
        message=f"E-mail sent to {to}: {message.subject}",
        data={**data, "status": "sent"},
    )
    return "sent"


def _schedule_retry(order_id: int, kind: str, reference: str, attempt: int, when) -> None:
    from django_q.models import Schedule
    from django_q.tasks import schedule

    schedule(
        TASK,
        order_id,
        kind,
        reference,
        attempt,
        name=f"email {kind} {order_id} {reference} attempt {attempt}"[:100],
        schedule_type=Schedule.ONCE,
        repeats=1,
        next_run=when,
    )
