"""End of day: the manifest of one carrier at one fulfillment point, listing the day's
handed-over parcels for the driver to sign, and the carrier's pickup request where its
API has one (``supports_pickup``; EasyParcel books the collection with each order)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from fulfillment.carriers import adapter_for
from fulfillment.carriers.base import CarrierError
from fulfillment.exceptions import Conflict
from fulfillment.models import Carrier, Manifest, Shipment
from inventory.models import Warehouse
from kernel.numbering import next_number

HANDED_OVER = (Shipment.Status.SHIPPED, Shipment.Status.DELIVERED)


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def unmanifested_shipments(*, warehouse: Warehouse, day: date | None = None) -> QuerySet:
    """The shipments handed over at ``warehouse`` on ``day`` (today) that are on no
    manifest yet, by carrier then number."""
    start, end = _day_bounds(day or timezone.localdate())
    return (
        Shipment.objects.filter(
            warehouse=warehouse,
            status__in=HANDED_OVER,
            manifest__isnull=True,
            shipped_at__gte=start,
            shipped_at__lt=end,
        )
        .exclude(carrier="")
        .select_related("order")
        .prefetch_related("parcels")
        .order_by("carrier", "number")
    )


def manifest_create(
    *, carrier: str, warehouse: Warehouse, day: date | None = None, actor=None
) -> Manifest:
    """Put every parcel ``carrier`` took over at ``warehouse`` on ``day`` (today), not yet
    manifested, on one new manifest; then send the carrier's pickup request where it
    has one (a failed request is noted on the manifest, the manifest stands). Conflict
    when there is nothing to manifest.

    Locks: the shipments, by primary key (a shipment goes on one manifest only)."""
    with transaction.atomic():
        rows = list(
            unmanifested_shipments(warehouse=warehouse, day=day)
            .filter(carrier=carrier)
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        if not rows:
            raise Conflict(
                f"Nothing handed over to {carrier} at {warehouse.code} today is left to manifest",
                field="carrier",
            )
        manifest = Manifest.objects.create(
            number=next_number("manifest"),
            carrier=carrier,
            warehouse=warehouse,
            created_by=str(getattr(actor, "username", actor) or "")[:150],
        )
        Shipment.objects.filter(pk__in=[s.pk for s in rows]).update(manifest=manifest)
    row = Carrier.objects.filter(code=carrier).first()
    if row is not None:
        adapter = adapter_for(row)
        if adapter.supports_pickup:
            try:
                manifest.pickup_reference = adapter.request_pickup(manifest, rows)[:255]
            except CarrierError as exc:
                manifest.pickup_note = f"Pickup request failed: {exc.message}"[:255]
        else:
            manifest.pickup_note = adapter.pickup_note[:255]
        manifest.save(update_fields=["pickup_reference", "pickup_note"])
    return manifest
