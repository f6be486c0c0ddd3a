"""Tracking: the carrier's events recorded on a shipment (from a carrier webhook or the
poll), moving it to shipped or delivered as they say."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from fulfillment.carriers import adapter_for
from fulfillment.carriers.base import CarrierError
from fulfillment.carriers.base import TrackingEvent as CarrierEvent
from fulfillment.models import OPEN_SHIPMENT_STATUSES, Carrier, Shipment, TrackingEvent
from fulfillment.services.shipments import (
    _lock,
    shipment_deliver,
    shipment_ship,
)
from kernel.exceptions import DomainError
from orders import services as order_services
from orders.models import OrderEvent

log = logging.getLogger(__name__)
Status = Shipment.Status


# --------------------------------------------------------------------------- tracking


@dataclass
class TrackingResult:
    created: int = 0
    duplicates: int = 0
    status: str = ""
    moved: list[str] = field(default_factory=list)
    error: str = ""


# What each carrier code says about where the parcel is (higher = further along).
_STAGE = {
    TrackingEvent.Code.IN_TRANSIT: 1,
    TrackingEvent.Code.OUT_FOR_DELIVERY: 1,
    TrackingEvent.Code.DELIVERED: 2,
}


@transaction.atomic
def shipment_record_tracking(
    *,
    shipment: Shipment,
    events: Sequence[CarrierEvent],
    source: str = TrackingEvent.Source.API,
    actor=None,
) -> TrackingResult:
    """Store carrier tracking events and move the shipment to where they say it is.

    Events are keyed by (shipment, code, occurred_at): a repeated one is ignored. The
    move follows the furthest stage among *all* stored events, never backwards, so late
    or repeated events change nothing: in transit / out for delivery ships a shipment we
    had not shipped yet; delivered delivers it (both dated by the carrier's scans when
    those lie in the past). An exception is
    noted on the order's timeline for staff. A move the rules refuse (the order is on
    hold) is noted too, and the events are kept.

    Locks: the order, then the shipment (then what shipping and delivering lock)."""
    _lock(shipment)
    result = TrackingResult()
    existing = set(
        TrackingEvent.objects.filter(shipment=shipment).values_list("code", "occurred_at")
    )
    fresh = []
    for event in events:
        key = (event.code, event.occurred_at)
        if key in existing:
            result.duplicates += 1
            continue
        existing.add(key)
        fresh.append(
            TrackingEvent(
                shipment=shipment,
                code=event.code,
                occurred_at=event.occurred_at,
                description=(event.description or "")[:255],
                location=(event.location or "")[:128],
                source=source,
            )
        )
    if fresh:
        try:
            with transaction.atomic():
                TrackingEvent.objects.bulk_create(fresh)
            result.created = len(fresh)
        except IntegrityError:  # the same event stored meanwhile: keep the first
            for row in fresh:
                _, made = TrackingEvent.objects.get_or_create(
                    shipment=shipment,
                    code=row.code,
                    occurred_at=row.occurred_at,
                    defaults={
                        "description": row.description,
                        "location": row.location,
                        "source": source,
                    },
                )
                result.created += made
                result.duplicates += not made
    for row in fresh:
        if row.code == TrackingEvent.Code.EXCEPTION:
            order_services.order_add_event(
                order=shipment.order,
                kind=OrderEvent.Kind.NOTE,
                message=f"Carrier exception on {shipment.number}: "
                + (row.description or "no details")
                + (f" ({row.location})" if row.location else ""),
                actor=actor,
                data={"shipment": shipment.number, "tracking": row.code},
            )
    _apply_stage(shipment, result, actor)
    result.status = shipment.status
    return result


def _apply_stage(shipment: Shipment, result: TrackingResult, actor) -> None:
    stored = list(
        TrackingEvent.objects.filter(shipment=shipment, code__in=list(_STAGE)).values_list(
            "code", "occurred_at"
        )
    )
    if not stored:
        return
    stage = max(_STAGE[code] for code, _ in stored)
    try:
        with transaction.atomic():
            now = timezone.now()
            if shipment.status in OPEN_SHIPMENT_STATUSES:
                shipment_ship(shipment=shipment, actor=actor)
                first_scan = min(t for _, t in stored)
                if first_scan < now:  # the carrier's time, not ours
                    shipment.shipped_at = first_scan
                    shipment.save(update_fields=["shipped_at"])
                result.moved.append(Status.SHIPPED)
            if stage >= 2 and shipment.status == Status.SHIPPED:
                delivered_at = min(t for code, t in stored if code == TrackingEvent.Code.DELIVERED)
                shipment_deliver(shipment=shipment, actor=actor)
                if shipment.shipped_at and shipment.shipped_at <= delivered_at < now:
                    shipment.delivered_at = delivered_at
                    shipment.save(update_fields=["delivered_at"])
                result.moved.append(Status.DELIVERED)
    except DomainError as exc:
        shipment.refresh_from_db()
        result.moved = []
        result.error = exc.message
        order_services.order_add_event(
            order=shipment.order,
            kind=OrderEvent.Kind.NOTE,
            message=f"Tracking events for {shipment.number} kept but not applied: {exc.message}",
            actor=actor,
            data={"shipment": shipment.number, "tracking": "not_applied"},
        )


def carrier_webhook_track(
    *, carrier: Carrier, awb_number: str, reference: str = ""
) -> tuple[Shipment | None, TrackingResult | None]:
    """A courier's webhook named one of its parcels (AWB or its own reference). The
    webhook's word is not taken: the shipment's tracking is read back from the courier
    (``adapter.track``) and recorded as a poll would. (None, None) for a parcel that is
    not ours or not shipped through this carrier."""
    match = Q()
    if awb_number:
        match |= Q(tracking_number=awb_number) | Q(parcels__tracking_number=awb_number)
    if reference:
        match |= Q(carrier_reference=reference) | Q(parcels__carrier_reference=reference)
    if not match:
        return None, None
    shipment = (
        Shipment.objects.filter(match, carrier=carrier.code)
        .exclude(tracking_number="")
        .select_related("order", "warehouse")
        .distinct()
        .first()
    )
    if shipment is None:
        return None, None
    events = adapter_for(carrier).track(shipment.tracking_number)
    result = shipment_record_tracking(
        shipment=shipment, events=events, source=TrackingEvent.Source.WEBHOOK, actor="system"
    )
    return shipment, result


def tracking_poll(*, limit: int = 500) -> dict[str, int]:
    """Ask every active carrier that reports tracking about its shipments on their way
    (shipped, with a tracking number), oldest first, at most ``limit`` a run. A carrier
    that fails is skipped until the next run."""
    counts = {"shipments": 0, "events": 0, "delivered": 0, "errors": 0}
    for carrier in Carrier.objects.filter(active=True).order_by("code"):
        adapter = adapter_for(carrier)
        if not adapter.supports_tracking:
            continue
        shipments = (
            Shipment.objects.filter(carrier=carrier.code, status=Status.SHIPPED)
            .exclude(tracking_number="")
            .select_related("order", "warehouse")
            .order_by("shipped_at", "pk")[:limit]
        )
        for shipment in shipments:
            try:
                events = adapter.track(shipment.tracking_number)
            except CarrierError as exc:
                log.warning("tracking %s (%s): %s", shipment.number, carrier.code, exc)
                counts["errors"] += 1
                if exc.code == "carrier_unavailable":
                    break  # the courier is down: try the others next run
                continue
            counts["shipments"] += 1
            if not events:
                continue
            result = shipment_record_tracking(
                shipment=shipment, events=events, source=TrackingEvent.Source.POLL, actor="system"
            )
            counts["events"] += result.created
            counts["delivered"] += Status.DELIVERED in result.moved
    return counts
