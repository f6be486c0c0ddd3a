"""Receiving a delivery: kept as received, applied once, re-processed on request."""

import json

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from intake.inbound.common import MappedOrder, MappingError
from intake.inbound.services.order_sync import channel_order_sync
from intake.inbound.services.outcomes import PLATFORMS, DStatus, IntakeResult
from intake.models import IntakeDelivery
from kernel.db import retry_on_conflict
from kernel.exceptions import DomainError
from orders.models import Channel, Order

# --------------------------------------------------------------------------- receive


@retry_on_conflict
@transaction.atomic
def intake_receive(
    *,
    channel: Channel,
    platform: str,
    topic: str,
    delivery_id: str,
    body: bytes,
    headers: dict,
) -> IntakeResult:
    """Keep a verified delivery and apply it (the caller checked the signature).
    A delivery id seen before changes nothing but the original's ``duplicates``."""
    delivery = IntakeDelivery(
        channel=channel,
        platform=platform,
        topic=(topic or "")[:64],
        delivery_id=(delivery_id or "").strip()[:128],
        headers=headers,
        body=body.decode("utf-8", errors="replace").replace("\x00", "\ufffd"),
    )
    if delivery.delivery_id:
        try:
            with transaction.atomic():
                delivery.save(force_insert=True)
        except IntegrityError:
            # The same delivery again (a retry, or concurrent: the unique index made us
            # wait for the first one to commit).
            original = IntakeDelivery.objects.select_related("order").get(
                channel=channel, platform=platform, delivery_id=delivery.delivery_id
            )
            IntakeDelivery.objects.filter(pk=original.pk).update(duplicates=F("duplicates") + 1)
            return IntakeResult(
                "duplicate",
                f"Delivery {delivery.delivery_id} was already received",
                original.order,
                original,
            )
    else:
        delivery.save(force_insert=True)
    return _process(delivery, actor=f"{platform} webhook")


@retry_on_conflict
@transaction.atomic
def intake_reprocess(*, delivery: IntakeDelivery, actor=None) -> IntakeResult:
    """Apply a stored delivery again, e.g. after the unknown SKUs were created."""
    delivery = (
        IntakeDelivery.objects.select_for_update(of=("self",))
        .select_related("channel")
        .get(pk=delivery.pk)
    )
    return _process(delivery, actor=actor)


def _process(delivery: IntakeDelivery, *, actor) -> IntakeResult:
    module = PLATFORMS[delivery.platform]

    def done(status: str, message: str, order: Order | None = None) -> IntakeResult:
        delivery.status = status
        delivery.message = message[:5000]
        delivery.order = order or delivery.order
        delivery.processed_at = timezone.now()
        delivery.save(
            update_fields=[
                "status",
                "message",
                "order",
                "processed_at",
                "external_id",
                "source_updated_at",
            ]
        )
        return IntakeResult(status, message, delivery.order, delivery)

    if delivery.topic not in module.TOPICS:
        return done(DStatus.IGNORED, f"Topic {delivery.topic!r} is not handled")
    try:
        payload = json.loads(delivery.body)
    except (ValueError, RecursionError):
        return done(DStatus.NEEDS_ATTENTION, "The body is not JSON")
    try:
        mapped = module.map_order(payload)
    except MappingError as exc:
        return done(DStatus.NEEDS_ATTENTION, f"Not placed: {exc}")
    delivery.external_id = mapped.external_id
    delivery.source_updated_at = mapped.updated_at
    cancel = delivery.topic in module.CANCEL_TOPICS or mapped.cancelled
    if not cancel and _is_stale(delivery, mapped):
        return done(DStatus.IGNORED, "Stale: a later version of the order was already applied")
    try:
        with transaction.atomic():
            outcome = channel_order_sync(
                channel=delivery.channel, mapped=mapped, cancel=cancel, actor=actor
            )
    except DomainError as exc:
        order = Order.objects.filter(
            channel=delivery.channel, external_id=mapped.external_id
        ).first()
        return done(DStatus.NEEDS_ATTENTION, exc.message, order)
    return done(outcome.status, outcome.message, outcome.order)


def _is_stale(delivery: IntakeDelivery, mapped: MappedOrder) -> bool:
    if mapped.updated_at is None:
        return False
    return (
        IntakeDelivery.objects.filter(
            channel_id=delivery.channel_id,
            platform=delivery.platform,
            external_id=mapped.external_id,
            status__in=[DStatus.PROCESSED, DStatus.NEEDS_ATTENTION],
            source_updated_at__gt=mapped.updated_at,
        )
        .exclude(pk=delivery.pk)
        .exists()
    )
