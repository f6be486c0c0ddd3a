"""Courier bookings: parcels (boxes), booking a label, voiding it, and the pack
station's one-key "pack, book, ship". The pack page, the API actions (``rates/``,
``book/``, ``void-label/``) and the admin all call these.

Carriers are network calls: they run outside any transaction. A booking first claims
the shipment (``booking_started_at``, one conditional UPDATE), so that two requests
for the same shipment never book two labels; the claim is released when the booking is
stored or refused. Rows change afterwards under the usual locks (order, then shipment).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from fulfillment.carriers import adapter_for
from fulfillment.carriers.base import Booking, CarrierError
from fulfillment.exceptions import Conflict, FulfillmentError
from fulfillment.models import OPEN_SHIPMENT_STATUSES, Carrier, Shipment, ShipmentParcel
from fulfillment.services.shipments import (
    _lock,
    _require_order_active,
    shipment_pack,
    shipment_ship,
)
from fulfillment.services.shipping import (
    MAX_DIMENSION_CM,
    Shopping,
    _shop,
    shipment_record_package,
)
from kernel.exceptions import InvalidTransition
from orders import services as order_services
from orders.models import OrderEvent

log = logging.getLogger(__name__)
Status = Shipment.Status
BOOKING_TIMEOUT = timedelta(minutes=2)  # a claim older than this was a crashed worker
MAX_PARCELS = 50


# --------------------------------------------------------------------------- parcels


def _dim(name: str, value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        cm = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise FulfillmentError(f"{name} must be a number", field=name) from None
    if not cm.is_finite() or not 0 < cm <= MAX_DIMENSION_CM:
        raise FulfillmentError(f"{name} must be between 0.1 and 1000 cm", field=name)
    return cm


def _grams(value) -> int:
    if isinstance(value, bool) or value is None:
        raise FulfillmentError("weight_grams must be between 1 and 1,000,000", field="weight_grams")
    try:
        grams = int(value)
    except (TypeError, ValueError):
        raise FulfillmentError(
            "weight_grams must be a whole number", field="weight_grams"
        ) from None
    if not 0 < grams <= 1_000_000:
        raise FulfillmentError("weight_grams must be between 1 and 1,000,000", field="weight_grams")
    return grams


def _require_unbooked(shipment: Shipment, move: str) -> None:
    if shipment.status not in OPEN_SHIPMENT_STATUSES:
        raise InvalidTransition(
            entity="Shipment", number=shipment.number, current=shipment.status, move=move
        )
    if shipment.tracking_number:
        raise Conflict(
            f"{shipment.number} already has a label ({shipment.tracking_number}): void it first",
            field="parcels",
        )


def _sync_weight(shipment: Shipment) -> None:
    grams = sum(shipment.parcels.values_list("weight_grams", flat=True))
    shipment.weight_grams = grams or shipment.weight_grams
    shipment.save(update_fields=["weight_grams"])


@transaction.atomic
def shipment_add_parcel(
    *,
    shipment: Shipment,
    weight_grams: int,
    length_cm=None,
    width_cm=None,
    height_cm=None,
    actor=None,
) -> ShipmentParcel:
    """Add a box to a shipment not yet booked. The first added box turns the shipment's
    own package (its weight and size, when weighed) into box 1. The shipment's weight
    becomes the boxes' total. Locks: the order, then the shipment."""
    _lock(shipment)
    _require_unbooked(shipment, "add a parcel")
    grams = _grams(weight_grams)
    dims = {
        k: _dim(k, v)
        for k, v in (("length_cm", length_cm), ("width_cm", width_cm), ("height_cm", height_cm))
    }
    count = shipment.parcels.count()
    if count >= MAX_PARCELS:
        raise FulfillmentError(f"A shipment goes in at most {MAX_PARCELS} parcels", field="parcels")
    if count == 0 and shipment.weight_grams:
        ShipmentParcel.objects.create(
            shipment=shipment,
            sequence=1,
            weight_grams=shipment.weight_grams,
            length_cm=shipment.length_cm,
            width_cm=shipment.width_cm,
            height_cm=shipment.height_cm,
        )
        count = 1
    parcel = ShipmentParcel.objects.create(
        shipment=shipment, sequence=count + 1, weight_grams=grams, **dims
    )
    _sync_weight(shipment)
    order_services.order_add_event(
        order=shipment.order,
        kind=OrderEvent.Kind.NOTE,
        message=f"{shipment.number} goes in {count + 1} parcels (box {parcel.sequence}: {grams} g)",
        actor=actor,
        data={"shipment": shipment.number, "parcels": count + 1},
    )
    return parcel


@transaction.atomic
def shipment_set_parcels(*, shipment: Shipment, parcels: Sequence[dict], actor=None) -> list:
    """Replace the shipment's boxes (each ``weight_grams`` and optional ``length_cm``,
    ``width_cm``, ``height_cm``); one box or none makes it a single parcel again (with
    that box's weight and size). Not once booked. Locks: the order, then the shipment."""
    _lock(shipment)
    _require_unbooked(shipment, "change its parcels")
    if len(parcels) > MAX_PARCELS:
        raise FulfillmentError(f"A shipment goes in at most {MAX_PARCELS} parcels", field="parcels")
    rows = []
    for i, box in enumerate(parcels, start=1):
        rows.append(
            ShipmentParcel(
                shipment=shipment,
                sequence=i,
                weight_grams=_grams(box.get("weight_grams")),
                **{k: _dim(k, box.get(k)) for k in ("length_cm", "width_cm", "height_cm")},
            )
        )
    shipment.parcels.all().delete()
    if len(rows) == 1:
        box = rows[0]
        shipment.weight_grams = box.weight_grams
        shipment.length_cm, shipment.width_cm, shipment.height_cm = (
            box.length_cm,
            box.width_cm,
            box.height_cm,
        )
        shipment.save(update_fields=["weight_grams", "length_cm", "width_cm", "height_cm"])
        return []
    ShipmentParcel.objects.bulk_create(rows)
    if rows:
        _sync_weight(shipment)
    return list(shipment.parcels.order_by("sequence"))


@transaction.atomic
def shipment_remove_parcel(*, shipment: Shipment, sequence: int, actor=None) -> None:
    """Take a box out (the others are renumbered); the last box left becomes the
    shipment's own package. Locks: the order, then the shipment."""
    _lock(shipment)
    _require_unbooked(shipment, "remove a parcel")
    rows = list(shipment.parcels.order_by("sequence"))
    keep = [r for r in rows if r.sequence != sequence]
    if len(keep) == len(rows):
        raise FulfillmentError(f"{shipment.number} has no box {sequence}", field="sequence")
    boxes = [
        {
            "weight_grams": r.weight_grams,
            "length_cm": r.length_cm,
            "width_cm": r.width_cm,
            "height_cm": r.height_cm,
        }
        for r in keep
    ]
    shipment_set_parcels(shipment=shipment, parcels=boxes, actor=actor)


# --------------------------------------------------------------------------- booking


def _check_bookable(shipment: Shipment) -> None:
    if shipment.status != Status.PACKED:
        raise InvalidTransition(
            entity="Shipment",
            number=shipment.number,
            current=shipment.status,
            move="book a carrier",
            detail="pack it first" if shipment.status in OPEN_SHIPMENT_STATUSES else "",
        )
    _require_order_active(shipment, "book a carrier")


def _claim(shipment: Shipment) -> bool:
    now = timezone.now()
    claimed = (
        Shipment.objects.filter(pk=shipment.pk, status=Status.PACKED, tracking_number="")
        .filter(
            Q(booking_started_at__isnull=True) | Q(booking_started_at__lt=now - BOOKING_TIMEOUT)
        )
        .update(booking_started_at=now)
    )
    return bool(claimed)


def _release(shipment: Shipment) -> None:
    Shipment.objects.filter(pk=shipment.pk).update(booking_started_at=None)


def shipment_book(
    *, shipment: Shipment, service_code: str | None = None, actor=None
) -> tuple[Shipment, bool]:
    """Rate-shop (or take ``service_code``), book the label with the carrier and store
    it: tracking number, label PDF (and each box's), carrier reference, cost and the
    estimated delivery; the quotes considered go into an order note. The shipment stays
    packed: shipping (hand-over) is ``shipment_ship``. Idempotent: a shipment already
    booked answers its booking, ``(shipment, False)``; a new one ``(shipment, True)``.
    While another request books the same shipment, ``Conflict``.

    Locks (after the carrier answered): the order, then the shipment."""
    _check_bookable(shipment)
    if shipment.tracking_number:
        return shipment, False
    if not _claim(shipment):
        shipment.refresh_from_db()
        if shipment.tracking_number:
            return shipment, False
        _check_bookable(shipment)
        raise Conflict(f"{shipment.number} is being booked right now; try again in a moment")
    try:
        shopping = _shop(shipment, service_code or _service_chosen(shipment))
        rate = shopping.rate
        carrier = Carrier.objects.get(code=rate.carrier)
        booking = adapter_for(carrier).book(shipment, rate)
    except BaseException:
        _release(shipment)
        raise
    try:
        _store_booking(shipment, shopping, booking, actor)
    except BaseException:
        _release(shipment)
        _void_unstored(carrier, shipment, booking)
        raise
    return shipment, True


def _service_chosen(shipment: Shipment) -> str | None:
    """The service staff set on the shipment before booking (an order edit), if any."""
    if shipment.carrier and shipment.service and not shipment.tracking_number:
        return f"{shipment.carrier}/{shipment.service}"
    return None


def _void_unstored(carrier: Carrier, shipment: Shipment, booking: Booking) -> None:
    """The carrier booked, but we could not keep the booking (the order went on hold
    meanwhile): cancel it with the carrier rather than leave a label we never use."""
    adapter = adapter_for(carrier)
    if not adapter.supports_void:
        return
    booked = Shipment(
        pk=shipment.pk,
        number=shipment.number,
        carrier=carrier.code,
        tracking_number=booking.tracking_number,
        carrier_reference=booking.carrier_reference,
    )
    try:
        adapter.void(booked)
    except CarrierError:
        log.exception("%s: could not cancel the unkept booking of %s", carrier.code, shipment)


@transaction.atomic
def _store_booking(shipment: Shipment, shopping: Shopping, booking: Booking, actor) -> None:
    rate = shopping.rate
    _lock(shipment)
    _check_bookable(shipment)
    safe = re.sub(r"[^A-Za-z0-9_-]", "", booking.tracking_number)[:40]
    if booking.label_pdf:
        shipment.label_pdf.save(
            f"{shipment.number}-{safe}.pdf", ContentFile(booking.label_pdf), save=False
        )
    shipment.carrier = rate.carrier[:64]
    shipment.service = rate.service[:64]
    shipment.tracking_number = booking.tracking_number[:64]
    shipment.carrier_reference = booking.carrier_reference[:255]
    shipment.label_url = booking.label_url[:500]
    shipment.shipping_cost = rate.price
    shipment.estimated_delivery = rate.estimated_delivery
    shipment.booking_started_at = None
    shipment.save(
        update_fields=[
            "label_pdf",
            "carrier",
            "service",
            "tracking_number",
            "carrier_reference",
            "label_url",
            "shipping_cost",
            "estimated_delivery",
            "booking_started_at",
        ]
    )
    rows = list(shipment.parcels.order_by("sequence"))
    for row, parcel in zip(rows, booking.parcels, strict=False):
        row.tracking_number = parcel.tracking_number[:64]
        row.carrier_reference = parcel.carrier_reference[:255]
        if parcel.label_pdf:
            tag = re.sub(r"[^A-Za-z0-9_-]", "", parcel.tracking_number)[:40]
            row.label_pdf.save(
                f"{shipment.number}-{row.sequence}-{tag}.pdf",
                ContentFile(parcel.label_pdf),
                save=False,
            )
        row.save(update_fields=["tracking_number", "carrier_reference", "label_pdf"])
    order_services.order_add_event(
        order=shipment.order,
        kind=OrderEvent.Kind.NOTE,
        message=f"Rate shopping for {shipment.number}: {shopping.reason} "
        f"({rate.price} {rate.currency}, {rate.transit_days} business day(s)); "
        f"{len(shopping.quotes)} quote(s) considered"
        + (f"; {', '.join(shopping.errors)} did not answer" if shopping.errors else "")
        + f"; label {booking.tracking_number} booked",
        actor=actor,
        data={
            "shipment": shipment.number,
            "rate_shopping": shopping.as_dict(),
            "tracking_number": booking.tracking_number,
        },
    )


def shipment_book_and_ship(
    *, shipment: Shipment, service_code: str | None = None, actor=None
) -> Shipment:
    """Book (``shipment_book``; an existing booking is kept) and hand over
    (``shipment_ship``). A packed shipment only; on any refusal (no rate, the carrier
    down) the shipment stays packed.

    Locks: as ``shipment_book``, then the order, the shipment and its stock levels."""
    shipment, _ = shipment_book(shipment=shipment, service_code=service_code, actor=actor)
    with transaction.atomic():
        shipment_ship(shipment=shipment, actor=actor)
    return shipment


def shipment_pack_and_ship(
    *, shipment: Shipment, weight_grams: int | None, service_code: str = "", actor=None
) -> Shipment:
    """The pack station's last key: pack with the weighed weight (a shipment in several
    boxes keeps its boxes' weights), then book (rate shopping or the chosen service)
    and ship. When booking is refused the shipment stays packed."""
    boxes = sum(shipment.parcels.values_list("weight_grams", flat=True))
    boxed = bool(boxes)
    if shipment.status != Status.PACKED:
        shipment_pack(shipment=shipment, weight_grams=boxes or weight_grams, actor=actor)
    elif weight_grams and not boxed and weight_grams != shipment.weight_grams:
        shipment_record_package(shipment=shipment, weight_grams=weight_grams, actor=actor)
    shipment_book_and_ship(shipment=shipment, service_code=service_code or None, actor=actor)
    shipment.refresh_from_db()
    return shipment


# --------------------------------------------------------------------------- void


def shipment_void_label(*, shipment: Shipment, reason: str = "", actor=None) -> Shipment:
    """Cancel the booked label before hand-over: with the carrier where its API allows
    (EasyParcel cancels; the built-in carrier's labels are ours), then forget the
    tracking number, label, cost and the boxes' labels, noted on the order. Refused
    (409) once shipped, or when the carrier cannot or will not cancel it.

    Locks (after the carrier answered): the order, then the shipment."""
    if shipment.status not in OPEN_SHIPMENT_STATUSES:
        raise InvalidTransition(
            entity="Shipment",
            number=shipment.number,
            current=shipment.status,
            move="void the label",
            detail="it has been handed over to the carrier",
        )
    if not shipment.tracking_number:
        raise Conflict(f"{shipment.number} has no label to void")
    carrier = Carrier.objects.filter(code=shipment.carrier).first()
    if carrier is not None:
        adapter_for(carrier).void(shipment)
    with transaction.atomic():
        _lock(shipment)
        if shipment.status not in OPEN_SHIPMENT_STATUSES:
            raise InvalidTransition(
                entity="Shipment",
                number=shipment.number,
                current=shipment.status,
                move="void the label",
            )
        voided = shipment.tracking_number
        if shipment.label_pdf:
            shipment.label_pdf.delete(save=False)
        for row in shipment.parcels.all():
            if row.label_pdf:
                row.label_pdf.delete(save=False)
        shipment.parcels.update(tracking_number="", carrier_reference="", label_pdf="")
        carrier_code = shipment.carrier
        shipment.tracking_number = ""
        shipment.carrier = ""
        shipment.service = ""
        shipment.carrier_reference = ""
        shipment.label_url = ""
        shipment.shipping_cost = None
        shipment.estimated_delivery = None
        shipment.save(
            update_fields=[
                "label_pdf",
                "tracking_number",
                "carrier",
                "service",
                "carrier_reference",
                "label_url",
                "shipping_cost",
                "estimated_delivery",
            ]
        )
        order_services.order_add_event(
            order=shipment.order,
            kind=OrderEvent.Kind.NOTE,
            message=f"Label {voided} of {shipment.number} voided with {carrier_code}"
            + (f": {reason}" if reason else ""),
            actor=actor,
            data={"shipment": shipment.number, "voided": voided, "carrier": carrier_code},
        )
    return shipment
