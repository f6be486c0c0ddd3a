"""Applying a platform's order to ours: place, update, cancel, hold or release."""

from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.db.models import F

from intake.inbound.common import REQUIRED_ADDRESS, MappedOrder
from intake.inbound.services.edits import (
    _address_changes,
    _apply_address,
    _apply_lines,
    _line_plan,
    _lines_of,
    _sync_financial,
)
from intake.inbound.services.outcomes import (
    HOLD_PREFIX,
    DStatus,
    EditRefused,
    OStatus,
    Outcome,
    ResolvedLine,
    _note,
    _platform,
    placeholder_sku,
)
from inventory.models import Product
from kernel import webhooks
from kernel.exceptions import DomainError
from orders import services as order_services
from orders.exceptions import DuplicateOrder
from orders.models import Channel, Order, OrderEvent, OrderLine

# --------------------------------------------------------------------------- sync


def channel_order_sync(
    *, channel: Channel, mapped: MappedOrder, cancel: bool = False, actor=None
) -> Outcome:
    """Make the channel's order ``mapped.external_id`` what the platform says: place it,
    edit it or cancel it. Raises DomainError for what cannot be done at all."""
    lines, problems = _resolve_lines(mapped)
    problems = [*mapped.problems, *problems]
    order = (
        Order.objects.select_related("channel")
        .filter(channel=channel, external_id=mapped.external_id)
        .first()
    )
    if order is None:
        order, created = _place(channel, mapped, lines, [*problems, *mapped.address_problems])
        if created:
            return _after_placement(order, mapped, problems, cancel, actor)
    return _update(order, mapped, lines, problems, cancel, actor)


def _resolve_lines(mapped: MappedOrder) -> tuple[list[ResolvedLine], list[str]]:
    """Our product for each platform line; unknown ones point at the placeholder."""
    skus = {line.sku for line in mapped.lines if line.sku}
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus)}
    problems: list[str] = []
    resolved = []
    placeholder = None
    for line in mapped.lines:
        product = products.get(line.sku)
        if not line.sku:
            reason = f"line {line.title!r} has no SKU"
        elif product is None or product.sku == placeholder_sku():
            reason = f"unknown SKU {line.sku}"
        elif not product.active:
            reason = f"SKU {line.sku} is inactive"
        else:
            reason = None
        if reason:
            problems.append(reason)
            placeholder = placeholder or placeholder_product()
            product = placeholder
        resolved.append(
            ResolvedLine(
                key=line.sku or f"title:{line.title}",
                sku=line.sku,
                title=line.title,
                product=product,
                quantity=line.quantity,
                unit_price=line.unit_price if line.unit_price is not None else product.price,
                placeholder=reason is not None,
                discount_total=line.discount_total,
            )
        )
    return resolved, problems


def placeholder_product() -> Product:
    """The product unknown channel SKUs point at: active (placement needs that), price
    0, never stocked, so lines on it stay backordered and nothing of them can ship."""
    product, _ = Product.objects.get_or_create(
        sku=placeholder_sku(),
        defaults={
            "name": "Unmapped channel item (placeholder, never stock it)",
            "price": Decimal("0"),
            "lead_time_days": 0,
        },
    )
    if not product.active:
        Product.objects.filter(pk=product.pk).update(active=True)
        product.active = True
    return product


def hold_reason(problems: Sequence[str]) -> str:
    return (HOLD_PREFIX + "; ".join(problems))[:255]


def _place(
    channel: Channel, mapped: MappedOrder, lines: list[ResolvedLine], problems: list[str]
) -> tuple[Order, bool]:
    from fulfillment.services.intake import order_place_and_confirm

    actor = f"{mapped.platform} webhook"
    placement = {
        "channel": channel,
        "external_id": mapped.external_id,
        "customer": mapped.customer,
        "shipping_address": mapped.address,
        "currency": mapped.currency,
        "lines": [
            {
                "product": line.product,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount_total": line.discount_total,
            }
            for line in lines
        ],
        "shipping_total": mapped.shipping_total,
        "tax_total": mapped.tax_total,
        "discount_total": mapped.discount_total,
        "placed_at": mapped.placed_at,
        "financial_status": mapped.placement_financial_status,
        "notes": mapped.note,
    }
    try:
        with transaction.atomic():
            if not problems:
                return order_place_and_confirm(actor=actor, **placement)
            # Placed but neither confirmed nor routed: nothing is reserved for an order
            # that may change once somebody looked at it.
            order, created = order_services.order_place(actor=actor, **placement)
            if created:
                _label_placeholder_lines(order, lines)
                order_services.order_hold(
                    order=order,
                    reason=hold_reason(problems),
                    actor=actor,
                    data={"intake_problems": problems},
                )
            return order, created
    except DuplicateOrder:
        # Placed meanwhile by a concurrent delivery with other content: edit it instead.
        return Order.objects.select_related("channel").get(
            channel=channel, external_id=mapped.external_id
        ), False


def _label_placeholder_lines(order: Order, lines: list[ResolvedLine]) -> None:
    """Placeholder lines keep the platform's SKU and title (placement copied the
    placeholder product's)."""
    if not any(line.placeholder for line in lines):
        return
    order_lines = sorted(order.lines.all(), key=lambda line: line.pk)  # placement's, in memory
    changed = []
    for order_line, line in zip(order_lines, lines, strict=True):
        if line.placeholder:
            order_line.sku = line.sku[:64]
            order_line.name = (line.title or line.sku or "unnamed item")[:255]
            changed.append(order_line)
    OrderLine.objects.bulk_update(changed, ["sku", "name"])


def _after_placement(
    order: Order, mapped: MappedOrder, problems: list[str], cancel: bool, actor
) -> Outcome:
    from fulfillment.services.cancellation import order_cancel_and_release

    platform = _platform(mapped)
    problems = [*problems, *mapped.address_problems]
    for note in mapped.notes:
        _note(order, f"{platform}: {note}", actor)
    _note_total_mismatch(order, mapped, actor)
    message = f"Placed {mapped.label} as {order.number}"
    if cancel:
        order_cancel_and_release(order=order, reason=_cancel_reason(mapped), actor=actor)
        _sync_financial(order, mapped, actor)
        return Outcome(DStatus.PROCESSED, message + ", cancelled as on the platform", order)
    _sync_financial(order, mapped, actor)
    if problems:
        return Outcome(
            DStatus.NEEDS_ATTENTION, message + ", on hold: " + "; ".join(problems), order
        )
    return Outcome(DStatus.PROCESSED, message, order)


def _update(
    order: Order,
    mapped: MappedOrder,
    lines: list[ResolvedLine],
    problems: list[str],
    cancel: bool,
    actor,
) -> Outcome:
    from fulfillment.services.cancellation import order_cancel_and_release

    platform = _platform(mapped)
    order_services.order_lock(order)
    if order.status == OStatus.CANCELLED:
        if cancel:
            _sync_financial(order, mapped, actor)
            return Outcome(DStatus.PROCESSED, f"{order.number} is already cancelled", order)
        return Outcome(
            DStatus.IGNORED, f"{order.number} is cancelled here; the update was not applied", order
        )
    if cancel:
        try:
            with transaction.atomic():
                order_cancel_and_release(order=order, reason=_cancel_reason(mapped), actor=actor)
        except DomainError as exc:
            _note(order, f"{platform} cancelled {mapped.label}; not cancelled here: {exc}", actor)
            return Outcome(DStatus.NEEDS_ATTENTION, f"Not cancelled: {exc.message}", order)
        payment = _sync_financial(order, mapped, actor)
        return Outcome(
            DStatus.PROCESSED,
            f"Cancelled {order.number}" + "".join(f"; {p}" for p in payment),
            order,
        )

    payment = _sync_financial(order, mapped, actor)
    if order.status in (OStatus.SHIPPED, OStatus.DELIVERED) or order.fulfillment_status != (
        Order.FulfillmentStatus.UNFULFILLED
    ):
        wanted = _address_changes(order, mapped.address) or _line_plan(
            _lines_of(order, lock=False), lines, order.currency
        )
        if wanted:
            _note(
                order,
                f"{platform} changed {mapped.label} after it shipped; the change was not "
                "applied here",
                actor,
            )
            return Outcome(
                DStatus.NEEDS_ATTENTION, f"{order.number} has shipped: edit not applied", order
            )
        return Outcome(DStatus.PROCESSED, _summary(order, [], payment), order)

    address_ok = all(mapped.address[k] for k in REQUIRED_ADDRESS)
    changes: list[str] = []
    try:
        with transaction.atomic():
            if address_ok:
                changes += _apply_address(order, mapped.address)
            changes += _apply_lines(order, mapped, lines, actor)
    except EditRefused as exc:
        _hold(order, [exc.message], actor)
        return Outcome(DStatus.NEEDS_ATTENTION, exc.message, order)
    if changes:
        order_services.order_add_event(
            order=order,
            kind=OrderEvent.Kind.EDITED,
            message=f"Edited on {platform} ({mapped.label}): " + "; ".join(changes),
            data={"source": mapped.platform, "changes": changes},
            actor=actor,
        )
        _note_total_mismatch(order, mapped, actor)
        webhooks.publish_order("order.updated", order)

    if not address_ok and not all(getattr(order, f"ship_{k}") for k in REQUIRED_ADDRESS):
        problems = [*problems, *mapped.address_problems]
    released = _hold_or_release(order, problems, actor)
    status = DStatus.NEEDS_ATTENTION if problems else DStatus.PROCESSED
    message = _summary(order, changes, payment)
    if problems:
        message += ", on hold: " + "; ".join(problems)
    elif released:
        message += ", hold released"
    return Outcome(status, message, order)


def _summary(order: Order, changes: list[str], payment: list[str]) -> str:
    parts = changes + payment
    return f"Updated {order.number}: " + "; ".join(parts) if parts else f"{order.number}: no change"


def _cancel_reason(mapped: MappedOrder) -> str:
    reason = f"cancelled on {_platform(mapped)}"
    return reason + (f" ({mapped.cancel_reason})" if mapped.cancel_reason else "")


def _note_total_mismatch(order: Order, mapped: MappedOrder, actor) -> None:
    if mapped.platform_total is not None and mapped.platform_total != order.total:
        _note(
            order,
            f"{_platform(mapped)} total {mapped.platform_total} {order.currency} differs from "
            f"ours, {order.total}",
            actor,
        )


def _hold(order: Order, problems: list[str], actor) -> None:
    if order.status in (OStatus.PENDING, OStatus.CONFIRMED):
        order_services.order_hold(
            order=order,
            reason=hold_reason(problems),
            actor=actor,
            data={"intake_problems": problems},
        )
    elif order.status == OStatus.ON_HOLD:
        _note(order, "Also needs attention: " + "; ".join(problems), actor)


def _hold_or_release(order: Order, problems: list[str], actor) -> bool:
    """Hold an order with problems; release an intake hold whose problems are gone (and,
    on an auto-confirming channel, confirm and route it). True when released."""
    from fulfillment.services.allocation import order_release_and_allocate
    from fulfillment.services.intake import order_accept

    if problems:
        if not (order.status == OStatus.ON_HOLD and order.hold_reason == hold_reason(problems)):
            _hold(order, problems, actor)
        return False
    placeholder_open = OrderLine.objects.filter(
        order=order, product__sku=placeholder_sku(), quantity__gt=F("quantity_cancelled")
    ).exists()
    if (
        order.status == OStatus.ON_HOLD
        and order.hold_reason.startswith(HOLD_PREFIX)
        and not placeholder_open
    ):
        order_release_and_allocate(order=order, actor=actor)
        # What placement would have done: the same acceptance policy decides.
        order_accept(order=order, actor=actor)
        return True
    return False
