"""Orders back to the channel: shipments shipped, cancellations, refunds (and staff
edits of the order, ``intake.sync.order_edits``).

The listeners (``intake.sync.wiring``) run inside the transaction of the change and
write one ``ChannelOutbox`` row (unique per channel, kind and reference: a repeated
event writes nothing); ``channel_outbox_deliver`` sends it after commit:

* **fulfillment** -- Shopify: the order's ``fulfillmentOrders`` are read and
  ``fulfillmentCreate`` fulfils only the shipped quantities of the shipped SKUs
  (``lineItemsByFulfillmentOrder``, one call per assigned location), with
  ``trackingInfo {company, number, url}``: a split order shows as partially fulfilled.
  WooCommerce: an order note with the carrier, tracking number and URL
  (``POST /orders/<id>/notes``, ``customer_note``), and status ``completed``
  (``PUT /orders/<id>``) once every line has shipped.
* **cancel** -- Shopify ``orderCancel`` (unless the order is already cancelled there);
  WooCommerce status ``cancelled``. Cancellations that came from the platform
  (``cancel_reason`` "cancelled on ...") are not sent back.
* **refund** -- Shopify ``refundCreate`` of the amount against the order's successful
  sale or capture transaction; WooCommerce ``POST /orders/<id>/refunds`` with
  ``api_refund: false`` (recorded; the money already moved through our refund).

A platform that is down (timeouts, 5xx, throttling past the retries) leaves the row
pending, retried with backoff (``OMS_CHANNEL_RETRY_SECONDS``), until
``MAX_ATTEMPTS``; a refusal (4xx, ``userErrors``) marks it failed with the platform's
message, shown on the sync page.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from intake.models import ChannelOutbox
from intake.sync.http import (
    ChannelRefused,
    ChannelUnavailable,
    ShopifyClient,
    Transport,
    WooClient,
    client_for,
)
from intake.sync.order_edits import SENDERS as EDIT_SENDERS
from intake.sync.outbox_queue import after_commit_deliver, write_outbox
from orders.models import Order

MAX_ATTEMPTS = 8
Kind = ChannelOutbox.Kind
Status = ChannelOutbox.Status


# --------------------------------------------------------------------------- listeners


def _wants(order: Order) -> bool:
    channel = order.channel
    return bool(channel.push_fulfillments and channel.connected and order.external_id)


def tracking_url(shipment) -> str:
    from fulfillment.models import Carrier

    carrier = Carrier.objects.filter(code=shipment.carrier).first() if shipment.carrier else None
    if carrier and carrier.tracking_url_template and shipment.tracking_number:
        return carrier.tracking_url_template.replace("{tracking}", shipment.tracking_number)
    base = getattr(settings, "OMS_PUBLIC_URL", "").rstrip("/")
    return f"{base}/track/{shipment.order.tracking_token}/" if base else ""


def shipment_shipped(shipment) -> None:
    order = shipment.order
    if not _wants(order):
        return
    from fulfillment.models import Carrier

    carrier = Carrier.objects.filter(code=shipment.carrier).first() if shipment.carrier else None
    lines = defaultdict(int)
    for line in shipment.lines.select_related("order_line").order_by("pk"):
        lines[line.order_line.sku] += line.quantity
    payload = {
        "shipment": shipment.number,
        "lines": [{"sku": sku, "quantity": qty} for sku, qty in lines.items()],
        "company": carrier.name if carrier else shipment.carrier,
        "number": shipment.tracking_number,
        "url": tracking_url(shipment),
    }
    write_outbox(order, Kind.FULFILLMENT, shipment.number, payload)


def order_cancelled(order) -> None:
    if not _wants(order) or order.cancel_reason.startswith("cancelled on "):
        return
    write_outbox(order, Kind.CANCEL, order.number, {"reason": order.cancel_reason})


def refund_created(refund) -> None:
    order = refund.order
    if not _wants(order):
        return
    payload = {
        "amount": str(refund.amount),
        "currency": refund.currency,
        "reference": refund.reference,
        "return": refund.return_request.number if refund.return_request_id else None,
    }
    write_outbox(order, Kind.REFUND, f"refund-{refund.pk}", payload)


# --------------------------------------------------------------------------- delivery


def channel_outbox_deliver(*, outbox_id: int, transport: Transport | None = None) -> str | None:
    """Send one pending outbox row if due; returns its status afterwards (None: not
    found or not due). The row is locked while it is sent, so two workers never send
    it twice."""
    with transaction.atomic():
        row = (
            ChannelOutbox.objects.select_for_update(skip_locked=True)
            .select_related("channel", "order")
            .filter(pk=outbox_id, status=Status.PENDING, next_attempt_at__lte=timezone.now())
            .first()
        )
        if row is None:
            return None
        row.attempts += 1
        try:
            client = client_for(row.channel, transport)
            remote = SENDERS[(type(client), row.kind)](client, row)
        except ChannelUnavailable as exc:
            row.last_error = exc.message[:2000]
            if row.attempts >= MAX_ATTEMPTS:
                row.status = Status.FAILED
            else:
                delay = min(
                    settings.OMS_CHANNEL_RETRY_MAX_SECONDS,
                    settings.OMS_CHANNEL_RETRY_SECONDS * 2 ** (row.attempts - 1),
                )
                row.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        except ChannelRefused as exc:
            row.status = Status.FAILED
            row.last_error = exc.message[:2000]
        else:
            row.status = Status.SENT
            row.sent_at = timezone.now()
            row.remote_id = (remote or "")[:128]
            row.last_error = ""
        row.save(
            update_fields=[
                "attempts",
                "status",
                "last_error",
                "next_attempt_at",
                "sent_at",
                "remote_id",
                "note",
            ]
        )
        return row.status


def channel_outbox_deliver_due(*, transport: Transport | None = None) -> int:
    ids = list(
        ChannelOutbox.objects.filter(
            status=Status.PENDING, next_attempt_at__lte=timezone.now()
        ).values_list("pk", flat=True)[:500]
    )
    for pk in ids:
        channel_outbox_deliver(outbox_id=pk, transport=transport)
    return len(ids)


def channel_outbox_retry(*, outbox: ChannelOutbox) -> ChannelOutbox:
    """Send a failed row again (staff, after fixing what the platform refused)."""
    ChannelOutbox.objects.filter(pk=outbox.pk, status=Status.FAILED).update(
        status=Status.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    after_commit_deliver(outbox.pk)
    outbox.refresh_from_db()
    return outbox


# --------------------------------------------------------------------------- Shopify


def order_gid(order: Order) -> str:
    return f"gid://shopify/Order/{order.external_id}"


FULFILLMENT_ORDERS = """
query OrderFulfillmentOrders($id: ID!) {
  order(id: $id) {
    id
    cancelledAt
    fulfillmentOrders(first: 50) {
      nodes {
        id
        status
        assignedLocation { location { id } }
        lineItems(first: 250) { nodes { id sku remainingQuantity } }
      }
    }
  }
}
"""
FULFILLMENT_CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}
"""
ORDER_CANCEL = """
mutation OrderCancel($orderId: ID!, $reason: OrderCancelReason!, $restock: Boolean!,
                     $refundMethod: OrderCancelRefundMethodInput, $notifyCustomer: Boolean,
                     $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, restock: $restock,
              refundMethod: $refundMethod, notifyCustomer: $notifyCustomer,
              staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { code field message }
  }
}
"""
ORDER_TRANSACTIONS = """
query OrderTransactions($id: ID!) {
  order(id: $id) {
    id
    transactions(first: 50) { id kind status gateway }
  }
}
"""
REFUND_CREATE = """
mutation RefundCreate($input: RefundInput!) {
  refundCreate(input: $input) @idempotent(key: "%s") {
    refund { id }
    userErrors { field message }
  }
}
"""
FULFILLABLE = {"OPEN", "IN_PROGRESS"}


def _user_errors(result: dict, key: str = "userErrors") -> None:
    errors = (result or {}).get(key) or []
    if errors:
        raise ChannelRefused(
            "Shopify: " + "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict))
        )


def shopify_fulfil(client: ShopifyClient, row: ChannelOutbox) -> str:
    data = client.graphql(FULFILLMENT_ORDERS, {"id": order_gid(row.order)})
    order = data.get("order")
    if not order:
        raise ChannelRefused(f"Shopify: order {row.order.external_id} not found")
    wanted = {line["sku"]: int(line["quantity"]) for line in row.payload.get("lines", [])}
    by_location: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for fo in (order.get("fulfillmentOrders") or {}).get("nodes") or []:
        if fo.get("status") not in FULFILLABLE:
            continue
        location = ((fo.get("assignedLocation") or {}).get("location") or {}).get("id", "")
        for item in (fo.get("lineItems") or {}).get("nodes") or []:
            sku = item.get("sku") or ""
            take = min(wanted.get(sku, 0), int(item.get("remainingQuantity") or 0))
            if take > 0:
                by_location[location][fo["id"]].append({"id": item["id"], "quantity": take})
                wanted[sku] -= take
    if not by_location:
        return "nothing left to fulfil on Shopify"
    tracking = {
        k: v
        for k, v in (
            ("company", row.payload.get("company")),
            ("number", row.payload.get("number")),
            ("url", row.payload.get("url")),
        )
        if v
    }
    ids = []
    for _location, orders in sorted(by_location.items()):
        fulfillment = {
            "lineItemsByFulfillmentOrder": [
                {"fulfillmentOrderId": fo_id, "fulfillmentOrderLineItems": items}
                for fo_id, items in orders.items()
            ],
            "notifyCustomer": True,
        }
        if tracking:
            fulfillment["trackingInfo"] = tracking
        result = client.graphql(FULFILLMENT_CREATE, {"fulfillment": fulfillment})
        payload = result.get("fulfillmentCreate") or {}
        _user_errors(payload)
        ids.append(((payload.get("fulfillment") or {}).get("id")) or "")
    return ",".join(ids)


def shopify_cancel(client: ShopifyClient, row: ChannelOutbox) -> str:
    data = client.graphql(FULFILLMENT_ORDERS, {"id": order_gid(row.order)})
    order = data.get("order")
    if not order:
        raise ChannelRefused(f"Shopify: order {row.order.external_id} not found")
    if order.get("cancelledAt"):
        return "already cancelled on Shopify"
    result = client.graphql(
        ORDER_CANCEL,
        {
            "orderId": order_gid(row.order),
            "reason": "OTHER",
            "restock": True,
            "refundMethod": {"originalPaymentMethodsRefund": False},
            "notifyCustomer": True,
            "staffNote": (row.payload.get("reason") or "")[:255],
        },
    )
    payload = result.get("orderCancel") or {}
    _user_errors(payload, "orderCancelUserErrors")
    return ((payload.get("job") or {}).get("id")) or ""


def shopify_refund(client: ShopifyClient, row: ChannelOutbox) -> str:
    data = client.graphql(ORDER_TRANSACTIONS, {"id": order_gid(row.order)})
    order = data.get("order")
    if not order:
        raise ChannelRefused(f"Shopify: order {row.order.external_id} not found")
    parents = [
        t
        for t in order.get("transactions") or []
        if t.get("kind") in ("SALE", "CAPTURE") and t.get("status") == "SUCCESS"
    ]
    if not parents:
        raise ChannelRefused("Shopify: the order has no successful payment to refund against")
    parent = parents[0]
    refund_input = {
        "orderId": order_gid(row.order),
        "note": f"OMS refund {row.payload.get('reference') or row.reference}",
        "notify": False,
        "transactions": [
            {
                "orderId": order_gid(row.order),
                "parentId": parent["id"],
                "gateway": parent.get("gateway") or "manual",
                "kind": "REFUND",
                "amount": row.payload["amount"],
            }
        ],
    }
    result = client.graphql(
        REFUND_CREATE % uuid.uuid5(uuid.NAMESPACE_URL, str(row.pk)), {"input": refund_input}
    )
    payload = result.get("refundCreate") or {}
    _user_errors(payload)
    return ((payload.get("refund") or {}).get("id")) or ""


# --------------------------------------------------------------------------- WooCommerce


def woo_fulfil(client: WooClient, row: ChannelOutbox) -> str:
    order = Order.objects.get(pk=row.order_id)
    p = row.payload
    parts = [f"Shipped {p.get('shipment')}"]
    if p.get("company"):
        parts.append(f"with {p['company']}")
    if p.get("number"):
        parts.append(f"tracking number {p['number']}")
    note = " ".join(parts) + (f": {p['url']}" if p.get("url") else "")
    answer = client.send(
        "POST", f"/orders/{order.external_id}/notes", {"note": note, "customer_note": True}
    )
    if order.fulfillment_status == Order.FulfillmentStatus.FULFILLED:
        client.send("PUT", f"/orders/{order.external_id}", {"status": "completed"})
    return str((answer or {}).get("id", "")) if isinstance(answer, dict) else ""


def woo_cancel(client: WooClient, row: ChannelOutbox) -> str:
    client.send("PUT", f"/orders/{row.order.external_id}", {"status": "cancelled"})
    return row.order.external_id


def woo_refund(client: WooClient, row: ChannelOutbox) -> str:
    amount = Decimal(row.payload["amount"])
    answer = client.send(
        "POST",
        f"/orders/{row.order.external_id}/refunds",
        {
            "amount": f"{amount:.2f}",
            "reason": f"OMS refund {row.payload.get('reference') or row.reference}"[:200],
            "api_refund": False,
        },
    )
    return str((answer or {}).get("id", "")) if isinstance(answer, dict) else ""


SENDERS = {
    (ShopifyClient, Kind.FULFILLMENT): shopify_fulfil,
    (ShopifyClient, Kind.CANCEL): shopify_cancel,
    (ShopifyClient, Kind.REFUND): shopify_refund,
    (WooClient, Kind.FULFILLMENT): woo_fulfil,
    (WooClient, Kind.CANCEL): woo_cancel,
    (WooClient, Kind.REFUND): woo_refund,
    **EDIT_SENDERS,  # staff edits: intake.sync.order_edits
}
