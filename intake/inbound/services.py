"""Channel intake: turn a platform's order webhook into an order, an edit or a cancel.

``intake_receive`` keeps the delivery as received (``IntakeDelivery``: raw body, the
platform's headers; a repeated delivery id is counted, not processed again) and applies
it with ``channel_order_sync`` in the same transaction:

* **new order** (any topic): placed idempotently by (channel, platform order id) with
  ``order_place_and_confirm``. An order that cannot be fulfilled as sent (unknown or
  inactive SKU, a line without SKU, no or an incomplete shipping address, an amount
  that is not one) is still placed, but with ``order_place`` only (not confirmed, no
  stock reserved) and put **on hold** with the reasons. A line whose SKU we do not know
  points at the placeholder product ``OMS_INTAKE_PLACEHOLDER_SKU`` (created on first
  use, never stocked, so it can never be allocated or shipped) and keeps the platform's
  SKU and title on the line: the order, its money and its lines are complete, and
  nothing can ship until somebody looks. Re-processing the delivery (admin action) or
  the platform's next update, once the product exists, swaps the placeholder line for
  the real product and releases the hold.
* **update** before anything shipped: the address, the lines' quantities and prices,
  shipping and tax become the platform's, as one ``edited`` event. Quantity changes on
  a confirmed order first cancel its open shipments (reservations released, ledger
  ``release``), then change the lines, then route the order again: the reservations and
  the ledger stay exact. Refused (order held, delivery marked ``needs_attention``) once
  picking has started; only payment changes apply once something shipped. A delivery
  older (``updated_at``) than one already applied is ignored as stale.
* **cancellation** (Shopify ``orders/cancelled`` or ``cancelled_at``; WooCommerce status
  ``cancelled``): ``order_cancel_and_release``.
* the payment state follows the platform's along ``FINANCIAL_TRANSITIONS``; a refund
  on the platform is recorded with ``order_record_refund``.

Everything a delivery does runs in one transaction with its ``IntakeDelivery`` row;
an unexpected error rolls it all back (the endpoint answers 500 and the platform
retries), a refused business rule is recorded on the delivery (``needs_attention``).

Layering: intake sits above fulfillment (it places and routes), so the fulfillment
services are imported inside the functions, as ``fulfillment.services.intake`` does.
"""

import json
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from intake.inbound import shopify, woocommerce
from intake.inbound.common import REQUIRED_ADDRESS, MappedOrder, MappingError
from inventory.models import Product
from oms import webhooks
from oms.actors import actor_name
from oms.db import retry_on_conflict
from oms.exceptions import DomainError
from oms.models import IntakeDelivery, IntakeSecretRotation
from oms.money import quantize_money
from orders import services as order_services
from orders.exceptions import DuplicateOrder, OrderInvalid
from orders.models import FINANCIAL_TRANSITIONS, Channel, Order, OrderEvent, OrderLine

PLATFORMS = {shopify.PLATFORM: shopify, woocommerce.PLATFORM: woocommerce}
PLATFORM_NAMES = dict(IntakeDelivery.Platform.choices)
HOLD_PREFIX = "Intake: "
DStatus = IntakeDelivery.Status
OStatus = Order.Status
FS = Order.FinancialStatus
ADDRESS_FIELDS = order_services.ADDRESS_FIELDS


def placeholder_sku() -> str:
    return getattr(settings, "OMS_INTAKE_PLACEHOLDER_SKU", "UNMAPPED-ITEM")


@dataclass
class IntakeResult:
    status: str  # processed, needs_attention, ignored, duplicate
    message: str
    order: Order | None = None
    delivery: IntakeDelivery | None = None

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "message": self.message,
            "order": self.order.number if self.order else None,
            "delivery": self.delivery.pk if self.delivery else None,
        }


@dataclass
class Outcome:
    status: str
    message: str
    order: Order | None


@dataclass
class ResolvedLine:
    key: str  # the platform's SKU, or the title for a line without one
    sku: str
    title: str
    product: Product
    quantity: int
    unit_price: Decimal
    placeholder: bool
    discount_total: Decimal = Decimal("0")


class EditRefused(DomainError):
    code = "edit_refused"
    status_code = 409


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


def _platform(mapped: MappedOrder) -> str:
    return PLATFORM_NAMES.get(mapped.platform, mapped.platform)


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
    from fulfillment.services.allocation import order_cancel_and_release

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
    from fulfillment.services.allocation import order_cancel_and_release

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


def _note(order: Order, message: str, actor) -> None:
    order_services.order_add_event(
        order=order, kind=OrderEvent.Kind.NOTE, message=message[:2000], actor=actor
    )


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


# --------------------------------------------------------------------------- edits


def _address_changes(order: Order, address: dict) -> list[str]:
    return [k for k in ADDRESS_FIELDS if getattr(order, f"ship_{k}") != (address.get(k) or "")]


def _apply_address(order: Order, address: dict) -> list[str]:
    changed = _address_changes(order, address)
    if not changed:
        return []
    for k in changed:
        setattr(order, f"ship_{k}", address.get(k) or "")
    order.save(update_fields=[f"ship_{k}" for k in changed] + ["updated_at"])
    return ["address (" + ", ".join(changed) + ")"]


def _lines_of(order: Order, *, lock: bool = True) -> list[OrderLine]:
    lines = OrderLine.objects.filter(order=order).select_related("product").order_by("pk")
    if lock:
        lines = lines.select_for_update(of=("self",))
    return list(lines)


def _line_key(line: OrderLine) -> str:
    return line.sku or f"title:{line.name}"


def _line_plan(
    current: list[OrderLine], wanted_lines: list[ResolvedLine], currency: str | None = None
) -> list[tuple]:
    """The operations that make the open quantities ``wanted_lines``: ("cancel", line,
    n), ("add", line, n), ("price", line, price), ("remap", line, product), ("new",
    resolved line)."""
    wanted: dict[str, ResolvedLine] = {}
    for line in wanted_lines:
        if line.key in wanted:
            wanted[line.key] = replace(
                wanted[line.key],
                quantity=wanted[line.key].quantity + line.quantity,
                discount_total=wanted[line.key].discount_total + line.discount_total,
            )
        else:
            wanted[line.key] = line
    by_key: dict[str, list[OrderLine]] = defaultdict(list)
    for line in current:
        by_key[_line_key(line)].append(line)
    plan: list[tuple] = []
    for key in [*by_key, *(k for k in wanted if k not in by_key)]:
        want = wanted.get(key)
        have = by_key.get(key, [])
        live = [line for line in have if line.quantity > line.quantity_cancelled]
        open_units = sum(line.quantity - line.quantity_cancelled for line in have)
        remapped = set()
        if want is not None and live:
            if want.placeholder:
                # the product went unknown or inactive since: the lines keep theirs (the
                # order is held with the reason)
                want = replace(want, product=live[-1].product)
            for line in live:
                if line.product_id != want.product.pk:
                    # a placeholder line whose SKU now exists: it becomes that product
                    # (placeholder lines are never allocated, so no stock moves)
                    plan.append(("remap", line, want.product))
                    remapped.add(line.pk)
        surplus = open_units - (want.quantity if want is not None else 0)
        for line in reversed(live):
            if surplus <= 0:
                break
            n = min(surplus, line.quantity - line.quantity_cancelled)
            plan.append(("cancel", line, n))
            surplus -= n
        if surplus < 0:
            if have and (have[-1].product_id == want.product.pk or have[-1].pk in remapped):
                plan.append(("add", have[-1], -surplus))
            else:
                plan.append(("new", replace(want, quantity=-surplus)))
        if want is not None:
            plan += [
                ("price", line, want.unit_price)
                for line in live
                if line.unit_price != want.unit_price
            ]
            # the platform's discount on the line, when one line carries all of it
            if (
                len(live) == 1
                and live[0].quantity - live[0].quantity_cancelled == want.quantity
                and live[0].discount_total != _discount_for(live[0], want, currency)
            ):
                plan.append(("discount", live[0], _discount_for(live[0], want, currency)))
    return plan


def _discount_for(line: OrderLine, want: ResolvedLine, currency: str | None) -> Decimal:
    """The platform's discount for the line's open units, as the whole line's discount
    (cancelled units keep their share), never above the line's value."""
    open_units = line.quantity - line.quantity_cancelled
    if not open_units:
        return line.discount_total
    per_unit = want.discount_total / want.quantity if want.quantity else Decimal("0")
    discount = quantize_money(per_unit * line.quantity, currency)
    return min(discount, want.unit_price * line.quantity)


def _apply_lines(order: Order, mapped: MappedOrder, lines: list[ResolvedLine], actor) -> list[str]:
    """Apply the platform's lines and the shipping and tax totals; routes a confirmed
    order again when quantities changed. Returns what changed."""
    from fulfillment.services.allocation import order_allocate

    changes = []
    if not mapped.lines:
        return changes  # a payload without lines does not empty an order
    plan = _line_plan(_lines_of(order, lock=True), lines, order.currency)
    quantities_change = any(op[0] not in ("price", "discount") for op in plan)
    if quantities_change:
        new_products = {op[1].product.pk for op in plan if op[0] == "new"}
        _release_open_shipments(order, new_products, mapped, actor)
    if plan:
        fresh = {line.pk: line for line in _lines_of(order, lock=True)}
        new_rows = []
        for op in plan:
            kind = op[0]
            if kind == "new":
                want = op[1]
                product = want.product
                new_rows.append(
                    OrderLine(
                        order=order,
                        product=product,
                        sku=(want.sku if want.placeholder else product.sku)[:64],
                        name=((want.title or want.sku) if want.placeholder else product.name)[:255],
                        quantity=want.quantity,
                        unit_price=want.unit_price,
                        discount_total=min(want.discount_total, want.unit_price * want.quantity),
                    )
                )
                changes.append(f"added {want.sku or want.title} x{want.quantity}")
                continue
            line = fresh[op[1].pk]
            if kind == "cancel":
                line.quantity_cancelled += op[2]
                changes.append(f"{line.sku or line.name} -{op[2]}")
            elif kind == "add":
                line.quantity += op[2]
                changes.append(f"{line.sku or line.name} +{op[2]}")
            elif kind == "remap":
                product = op[2]
                changes.append(f"{line.sku or line.name} is now product {product.sku}")
                line.product, line.sku, line.name = product, product.sku, product.name
            elif kind == "price":
                changes.append(f"{line.sku or line.name} price {line.unit_price} -> {op[2]}")
                line.unit_price = op[2]
            elif kind == "discount":
                changes.append(f"{line.sku or line.name} discount {line.discount_total} -> {op[2]}")
                line.discount_total = op[2]
        for line in fresh.values():  # a lower price leaves no room for a larger discount
            line.discount_total = min(line.discount_total, line.unit_price * line.quantity)
        OrderLine.objects.bulk_update(
            list(fresh.values()),
            [
                "product",
                "sku",
                "name",
                "quantity",
                "quantity_cancelled",
                "unit_price",
                "discount_total",
            ],
        )
        OrderLine.objects.bulk_create(new_rows)
    changes += _apply_totals(order, mapped)
    if quantities_change:
        order_services.order_sync_progress(order=order, lines=_lines_of(order), actor=actor)
        order_allocate(order=order, actor=actor)
    return changes


def _release_open_shipments(order: Order, new_products: set[int], mapped: MappedOrder, actor):
    """Cancel the order's open shipments (their reservations are released) so its lines
    can change; refused once one of them is being picked."""
    from fulfillment.models import OPEN_SHIPMENT_STATUSES, Shipment
    from fulfillment.services.shipments import shipment_cancel
    from inventory.services import stock_lock_levels

    shipments = list(order.shipments.filter(status__in=OPEN_SHIPMENT_STATUSES).order_by("pk"))
    started = [s.number for s in shipments if s.status != Shipment.Status.ALLOCATED]
    if started:
        raise EditRefused(
            f"{HOLD_PREFIX}{_platform(mapped)} changed the items of {mapped.label} after "
            f"picking started ({', '.join(started)}); apply the change by hand"
        )
    if not shipments:
        return
    # Every level the release and the re-routing touch, at once, in pk order.
    product_ids = set(order.lines.values_list("product_id", flat=True)) | new_products
    stock_lock_levels(product_ids=product_ids)
    for shipment in shipments:
        shipment_cancel(
            shipment=shipment,
            reason=f"order edited on {_platform(mapped)}",
            actor=actor,
            reallocate=False,
        )


def _apply_totals(order: Order, mapped: MappedOrder) -> list[str]:
    changes = []
    if order.shipping_total != mapped.shipping_total:
        changes.append(f"shipping {order.shipping_total} -> {mapped.shipping_total}")
    if order.tax_total != mapped.tax_total:
        changes.append(f"tax {order.tax_total} -> {mapped.tax_total}")
    cur = order.currency
    subtotal, discount = Decimal("0"), Decimal("0")
    for line in OrderLine.objects.filter(order=order):
        open_units = line.quantity - line.quantity_cancelled
        subtotal += line.unit_price * open_units
        # cancelled units take their share of the line's discount with them
        discount += line.discount_total * open_units / line.quantity
    subtotal, discount = quantize_money(subtotal, cur), quantize_money(max(discount, 0), cur)
    total = quantize_money(subtotal - discount + mapped.shipping_total + mapped.tax_total, cur)
    if (subtotal, discount, total) == (
        order.subtotal,
        order.discount_total,
        order.total,
    ) and not changes:
        return []
    if total < order.refunded_total:
        raise OrderInvalid(
            f"The edited total {total} would be below what was refunded ({order.refunded_total})"
        )
    order.subtotal, order.discount_total, order.total = subtotal, discount, total
    order.shipping_total, order.tax_total = mapped.shipping_total, mapped.tax_total
    order.save(
        update_fields=[
            "subtotal",
            "discount_total",
            "total",
            "shipping_total",
            "tax_total",
            "updated_at",
        ]
    )
    return changes


def _sync_financial(order: Order, mapped: MappedOrder, actor) -> list[str]:
    """Move the payment state towards the platform's; a platform refund is recorded. What
    the rules refuse becomes a note on the order, not a failure of the delivery."""
    try:
        with transaction.atomic():
            return _apply_financial(order, mapped, actor)
    except DomainError as exc:
        order.refresh_from_db()
        _note(order, f"{_platform(mapped)} payment state not applied: {exc.message}", actor)
        return []


def _apply_financial(order: Order, mapped: MappedOrder, actor) -> list[str]:
    platform = _platform(mapped)
    target, current = mapped.financial_status, order.financial_status
    if target in (FS.REFUNDED, FS.PARTIALLY_REFUNDED):
        done = []
        if current in (FS.PENDING, FS.AUTHORIZED):
            order_services.order_set_financial_status(
                order=order, status=FS.PAID, actor=actor, message=f"Paid on {platform}"
            )
            done.append("payment paid")
        refunded = mapped.refunded_amount
        captured = order_services.payment_totals(order)[order_services.PaymentKind.CAPTURED]
        if refunded is None and target == FS.REFUNDED:
            refunded = captured
        amount = min(
            (refunded or Decimal("0")) - order.refunded_total, captured - order.refunded_total
        )
        if amount > 0 and order.financial_status in (FS.PAID, FS.PARTIALLY_REFUNDED):
            order_services.order_record_refund(order=order, amount=amount, actor=actor)
            done.append(f"refund of {amount} recorded")
        return done
    if target == current:
        return []
    if target in FINANCIAL_TRANSITIONS[current]:
        order_services.order_set_financial_status(
            order=order,
            status=target,
            actor=actor,
            message=f"Payment {current} -> {target} on {platform}",
        )
        return [f"payment {target}"]
    _note(order, f"{platform} reports the payment {target}; kept {current} here", actor)
    return []


# --------------------------------------------------------------------------- secrets


def channel_accepted_secrets(channel: Channel) -> list[str]:
    """The channel's secret and, for a while after a rotation, the one it replaced."""
    accepted = [channel.webhook_secret] if channel.webhook_secret else []
    rotation = IntakeSecretRotation.objects.filter(channel=channel).first()
    grace = timedelta(hours=int(getattr(settings, "OMS_INTAKE_SECRET_GRACE_HOURS", 24)))
    if (
        rotation is not None
        and rotation.previous_secret
        and rotation.previous_secret not in accepted
        and rotation.rotated_at > timezone.now() - grace
    ):
        accepted.append(rotation.previous_secret)
    return accepted


@transaction.atomic
def channel_set_webhook_secret(*, channel: Channel, secret: str, actor=None) -> Channel:
    """Replace the intake secret (e.g. pasted from Shopify's notification settings); the
    previous one stays accepted for ``OMS_INTAKE_SECRET_GRACE_HOURS``."""
    secret = (secret or "").strip()
    if not secret:
        raise OrderInvalid("A webhook secret cannot be empty", field="webhook_secret")
    if len(secret) > Channel._meta.get_field("webhook_secret").max_length:
        raise OrderInvalid("The webhook secret is too long", field="webhook_secret")
    locked = Channel.objects.select_for_update().get(pk=channel.pk)
    previous = locked.webhook_secret
    if previous == secret:
        return channel
    IntakeSecretRotation.objects.update_or_create(
        channel=locked,
        defaults={
            "previous_secret": previous,
            "rotated_at": timezone.now(),
            "rotated_by": actor_name(actor),
        },
    )
    Channel.objects.filter(pk=channel.pk).update(webhook_secret=secret)
    channel.webhook_secret = secret
    return channel


def channel_rotate_webhook_secret(*, channel: Channel, actor=None) -> str:
    """Generate a new intake secret and return it (shown once; it is not displayed
    again). For WooCommerce paste it as the webhook's secret."""
    secret = secrets.token_urlsafe(32)
    channel_set_webhook_secret(channel=channel, secret=secret, actor=actor)
    return secret
