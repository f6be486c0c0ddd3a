"""The events' payloads, the local listeners and the publish helpers per subject."""

from collections.abc import Callable
from functools import partial

from kernel.models import WebhookEvent
from kernel.money import format_money
from kernel.webhooks.outbox import EVENT_TYPES, publish

# --------------------------------------------------------------------------- payloads
# Built from the instances the services hold (duck-typed: oms imports no domain app).


def _money(value, currency: str | None = None) -> str | None:
    """The amount with its currency's own decimals (``kernel.money``)."""
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
