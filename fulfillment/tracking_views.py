"""The customer tracking page, ``/track/<token>/``: no login, found by the order's
unguessable token, showing only what the customer may see.

Shown: the order number and date, its status, the public timeline in fixed customer
wording (never the stored message, which can hold prices or internal reasons, except
notes staff chose to make public), and each shipment's carrier, service, tracking
number (linked to the carrier's page), estimated delivery and carrier scans, and the
items (name and quantity) in the order and in each parcel. Not shown: prices, addresses,
warehouses, internal notes. A wrong token is the store's own "not found" page (404).
Each step appears once: the order-wide "shipped"/"delivered" event repeats its parcel's
for a one-parcel order and is left out then.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from fulfillment.models import Carrier, CarrierService, Shipment, ShipmentLine, TrackingEvent
from orders.models import Order, OrderEvent

K = OrderEvent.Kind
STEPS = {
    K.PLACED: "Order placed",
    K.CONFIRMED: "Order confirmed",
    K.SHIPPED: "Shipped",
    K.DELIVERED: "Delivered",
    K.CANCELLED: "Order cancelled",
    K.EDITED: "Order changed",
    K.RETURN_REQUESTED: "Return requested",
    K.RETURN_APPROVED: "Return approved",
    K.RETURN_REJECTED: "Return not accepted",
    K.RETURN_RECEIVED: "Return received",
    K.REFUNDED: "Refund issued",
}
STATUS_TEXT = {
    Order.Status.PENDING: "Received",
    Order.Status.CONFIRMED: "Being prepared",
    Order.Status.ON_HOLD: "Being prepared",
    Order.Status.SHIPPED: "On its way",
    Order.Status.DELIVERED: "Delivered",
    Order.Status.CANCELLED: "Cancelled",
}
SHIPMENT_TEXT = {
    Shipment.Status.SHIPPED: "On its way",
    Shipment.Status.DELIVERED: "Delivered",
}


@dataclass
class Step:
    when: datetime
    text: str


ALL_PARCELS = {K.SHIPPED: "All parcels shipped", K.DELIVERED: "All parcels delivered"}


def _timeline(order: Order) -> list[Step]:
    events = list(order.events.filter(public=True).order_by("created_at", "id"))
    parcels: dict[str, int] = {}
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        if event.kind in ALL_PARCELS and data.get("shipment"):
            parcels[event.kind] = parcels.get(event.kind, 0) + 1
    steps, seen = [], set()
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        if event.kind == K.NOTE:
            text = event.message
        elif event.kind in STEPS:
            text = STEPS[event.kind]
            if event.kind in ALL_PARCELS and data.get("shipment"):
                text = f"Parcel {data['shipment']} {text.lower()}"
            elif event.kind in ALL_PARCELS and parcels.get(event.kind):
                if parcels[event.kind] < 2:
                    continue  # the parcel's own step already says it
                text = ALL_PARCELS[event.kind]
            elif event.kind.startswith("return_") and data.get("return"):
                text = f"{text}: {data['return']}"
        else:
            continue
        if text in seen:
            continue
        seen.add(text)
        steps.append(Step(event.created_at, text))
    return steps


def _shipments(order: Order) -> list[dict]:
    shipments = list(
        order.shipments.exclude(status=Shipment.Status.CANCELLED)
        .prefetch_related(
            Prefetch("tracking_events", queryset=TrackingEvent.objects.order_by("-occurred_at")),
            Prefetch("lines", queryset=ShipmentLine.objects.select_related("order_line")),
        )
        .order_by("created_at", "id")
    )
    codes = {s.carrier for s in shipments if s.carrier}
    carriers = {c.code: c for c in Carrier.objects.filter(code__in=codes)}
    services = {
        (c, s): n
        for c, s, n in CarrierService.objects.filter(carrier__code__in=codes).values_list(
            "carrier__code", "code", "name"
        )
    }
    rows = []
    for s in shipments:
        carrier = carriers.get(s.carrier)
        url = carrier.tracking_url(s.tracking_number) if carrier else ""
        rows.append(
            {
                "number": s.number,
                "status": SHIPMENT_TEXT.get(s.status, "Being prepared"),
                "carrier": carrier.name if carrier else s.carrier,
                "service": services.get((s.carrier, s.service), s.service),
                "tracking_number": s.tracking_number,
                "tracking_url": url,
                "estimated_delivery": s.estimated_delivery,
                "shipped_at": s.shipped_at,
                "delivered_at": s.delivered_at,
                "scans": list(s.tracking_events.all()),
                "items": [
                    {"name": line.order_line.name, "quantity": line.quantity}
                    for line in s.lines.all()
                ],
            }
        )
    return rows


@never_cache
@require_GET
def tracking_page(request, token: str):
    order = Order.objects.filter(tracking_token=token).only(
        "pk", "number", "placed_at", "status", "tracking_token"
    )
    order = order.first() if token else None
    if order is None:
        raise Http404("No such order")
    response = render(
        request,
        "orders/tracking_page.html",
        {
            "order": order,
            "status_text": STATUS_TEXT.get(order.status, ""),
            "steps": _timeline(order),
            "shipments": _shipments(order),
            "items": [
                {"name": line.name, "quantity": line.quantity - line.quantity_cancelled}
                for line in order.lines.order_by("pk")
                if line.quantity > line.quantity_cancelled
            ],
        },
    )
    # The token is the key: never leak it to the carrier's site or a search engine.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
