"""The order page's edit and cancel-lines panel (``orders/partials/_order_change.html``):
which lines can change and, for those that cannot, why; the address and shipping as they
are; the refund or amount due. Reads only."""

import uuid

from django import template

from fulfillment.models import CarrierService, Shipment, ShipmentLine
from fulfillment.services.order_locks import EDITABLE_ORDER_STATUSES, STARTED, order_balance

register = template.Library()


@register.simple_tag
def order_change_context(order) -> dict:
    """{"editable", "lines": [{"line", "open", "locked"}], "address_locked", "services",
    "balance"}."""
    if order.status not in EDITABLE_ORDER_STATUSES:
        return {"editable": False}
    started: dict[int, list[str]] = {}
    picking: dict[str, str] = {}
    for line_id, number, status in (
        ShipmentLine.objects.filter(shipment__order=order, shipment__status__in=STARTED)
        .order_by("pk")
        .values_list("order_line_id", "shipment__number", "shipment__status")
    ):
        started.setdefault(line_id, []).append(f"{number} is {status}")
        picking[number] = status
    rows = [
        {
            "line": line,
            "open": line.quantity_open,
            "locked": "picking has started (" + ", ".join(started[line.pk]) + ")"
            if line.pk in started
            else "",
        }
        for line in order.lines.all()
    ]
    services = [
        f"{carrier}/{code}"
        for carrier, code in CarrierService.objects.filter(active=True, carrier__active=True)
        .order_by("carrier__code", "code")
        .values_list("carrier__code", "code")
    ]
    current = (
        Shipment.objects.filter(order=order, status=Shipment.Status.ALLOCATED)
        .exclude(carrier="")
        .values_list("carrier", "service")
        .first()
    )
    return {
        "editable": True,
        "form_key": uuid.uuid4().hex,  # one per rendered page: a second submit is a no-op
        "lines": rows,
        # the parcel being picked is prepared for the address as it is
        "address_locked": "picking has started ("
        + ", ".join(f"{n} is {st}" for n, st in picking.items())
        + "); the parcel is prepared for this address"
        if picking
        else "",
        "any_open": any(r["open"] and not r["locked"] for r in rows),
        "services": services,
        "service": "/".join(current) if current else "",
        "balance": order_balance(order),
    }
