"""Courier panels included in the pack pages: a shipment's boxes, and the day's
shipments not yet on a manifest (per carrier, with the button that closes the day)."""

from itertools import groupby

from django import template

from fulfillment.models import OPEN_SHIPMENT_STATUSES
from fulfillment.services.manifests import unmanifested_shipments

register = template.Library()


@register.inclusion_tag("fulfillment/partials/parcels.html", takes_context=True)
def parcels_panel(context, shipment):
    boxes = list(shipment.parcels.order_by("sequence"))
    return {
        "shipment": shipment,
        "boxes": boxes,
        "total": sum(b.weight_grams for b in boxes),
        "editable": shipment.status in OPEN_SHIPMENT_STATUSES and not shipment.tracking_number,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("fulfillment/partials/unmanifested.html", takes_context=True)
def unmanifested_today(context, warehouse):
    groups = []
    if warehouse is not None:
        rows = list(unmanifested_shipments(warehouse=warehouse))
        groups = [(carrier, list(items)) for carrier, items in groupby(rows, lambda s: s.carrier)]
    return {"warehouse": warehouse, "groups": groups, "csrf_token": context.get("csrf_token")}
