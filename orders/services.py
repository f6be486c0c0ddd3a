"""Order writes: placement, the status state machine, payments, the timeline.

Locking: every function that changes an existing order first locks its row
(``SELECT ... FOR UPDATE``); code that also touches stock locks the order before any
stock level, so concurrent actions on one order queue and never deadlock.
Cross-app workflows (confirm + allocate, cancel + release) live in
``fulfillment.services``, which calls these functions.
"""

import functools
import hashlib
import json
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from inventory.models import Product
from oms import webhooks
from oms.actors import actor_name
from oms.db import insert_new, insert_unless_duplicate, prime_related, primed, save_fields
from oms.exceptions import Conflict, InvalidTransition
from oms.money import (
    MAX_MONEY,
    MoneyPlacesError,
    format_money,
    money_exact,
    quantize_money,
    split_money,
)
from oms.numbering import next_number
from orders.exceptions import DuplicateOrder, OrderInvalid
from orders.models import (
    FINANCIAL_TRANSITIONS,
    ORDER_TRANSITIONS,
    Channel,
    Customer,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
)

MAX_LINE_QUANTITY = 10_000
MAX_LINES = 500
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
ADDRESS_FIELDS = ("name", "line1", "line2", "city", "region", "postcode", "country", "phone")
Status = Order.Status
EventKind = OrderEvent.Kind


# --------------------------------------------------------------------------- helpers


def order_add_event(
    *,
    order: Order,
    kind: str,
    message: str = "",
    data: dict | None = None,
    actor=None,
    public: bool = False,
) -> OrderEvent:
    event = OrderEvent(
        order=order,
        kind=kind,
        message=message,
        data=data or {},
        actor=actor_name(actor),
        public=public,
    )
    return order_add_events(order=order, events=[event])[0]


def order_add_events(*, order: Order, events: Sequence[OrderEvent]) -> list[OrderEvent]:
    """Save several events of ``order`` in one INSERT (and keep a timeline kept in
    memory by ``order_place`` complete)."""
    events = insert_new(list(events))
    timeline = primed(order, "events")
    if timeline is not None:
        timeline.extend(events)
    return events


def order_lock(order: Order) -> Order:
    """Lock the order row and refresh ``order`` in place with the committed values.

    A service that takes ``locked=True`` skips this: its caller holds the order's row
    (and its lines) already, because it locked them or inserted them in this very
    transaction; that is all ``locked`` ever means."""
    fresh = Order.objects.select_for_update(of=("self",)).get(pk=order.pk)
    for field in Order._meta.concrete_fields:
        setattr(order, field.attname, getattr(fresh, field.attname))
    return order


def _transition(order: Order, new_status: str, move: str, *, extra_fields=()) -> None:
    if new_status not in ORDER_TRANSITIONS[order.status]:
        raise InvalidTransition(
            entity="Order", number=order.number, current=order.status, move=move
        )
    order.status = new_status
    save_fields(order, ["status", "updated_at", *extra_fields])


def add_business_days(start: datetime, days: int) -> datetime:
    """``start`` moved forward by ``days`` weekdays (Saturdays and Sundays skipped)."""
    return start + timedelta(days=_calendar_days(start.weekday(), days))


@functools.cache
def _calendar_days(weekday: int, days: int) -> int:
    """Calendar days from a day of week ``weekday`` to ``days`` weekdays later (computed
    once per pair: every placement and every imported order asks)."""
    calendar = added = 0
    while added < days:
        calendar += 1
        if (weekday + calendar) % 7 < 5:
            added += 1
    return calendar


def _money(value, field: str, currency: str | None = None) -> Decimal:
    """A non-negative amount of ``currency``, with no more decimals than it has (more is
    refused, never rounded away)."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise OrderInvalid(f"{field} must be a decimal number", field=field) from None
    if not amount.is_finite():
        raise OrderInvalid(f"{field} must be a decimal number", field=field)
    if amount < 0:
        raise OrderInvalid(f"{field} must not be negative", field=field)
    if amount > MAX_MONEY:
        raise OrderInvalid(f"{field} is too large", field=field)
    try:
        return money_exact(amount, currency)
    except MoneyPlacesError as exc:
        raise OrderInvalid(f"{field}: {exc}", field=field) from None


def intake_fingerprint(
    *,
    currency,
    customer: dict,
    address: dict,
    lines: Sequence[tuple],
    shipping_total,
    tax_total,
    discount_total=Decimal("0"),
) -> str:
    """Stable hash of what makes two placements 'the same order'. ``lines``: (sku,
    quantity, unit price[, line discount]); the discounts count: the same items at
    another discount are another charge."""

    def amount(value) -> str:
        # with the currency's own decimals: the same order from the API and from the
        # CSV file hashes alike (a KWD 0 is "0.000" from both)
        return format_money(value, currency) if CURRENCY_RE.match(currency or "") else str(value)

    payload = {
        "currency": currency,
        "customer": (customer.get("email") or "").lower(),
        "address": {k: (address.get(k) or "") for k in ADDRESS_FIELDS},
        "lines": sorted(
            [line[0], line[1], amount(line[2])]
            + ([amount(line[3])] if len(line) > 3 and line[3] else [])
            for line in lines
        ),
        "shipping_total": amount(shipping_total),
        "tax_total": amount(tax_total),
    }
    if discount_total:
        payload["discount_total"] = amount(discount_total)
    return hashlib.sha256(_FINGERPRINT_JSON.encode(payload).encode()).hexdigest()


# json.dumps(payload, sort_keys=True) builds this encoder on every call; the text is the same.
_FINGERPRINT_JSON = json.JSONEncoder(sort_keys=True)


def customer_upsert(*, email: str, name: str = "", phone: str = "") -> Customer:
    """Find the customer by e-mail (case-insensitive) or create it; fills a missing name."""
    email = email.strip().lower()
    # email__iexact compiles to UPPER(email), served by customer_email_upper_idx
    customer = Customer.objects.filter(email__iexact=email).order_by("pk").first()
    if customer is None:
        try:
            with transaction.atomic():
                customer = Customer.objects.create(email=email, name=name, phone=phone)
        except IntegrityError:
            customer = Customer.objects.get(email=email)
    elif (name and not customer.name) or (phone and not customer.phone):
        customer.name = customer.name or name
        customer.phone = customer.phone or phone
        customer.save(update_fields=["name", "phone"])
    return customer


# --------------------------------------------------------------------------- placement


def order_place(
    *,
    channel: Channel,
    lines: Sequence[dict],
    external_id: str | None = None,
    customer: dict | None = None,
    shipping_address: dict | None = None,
    currency: str = "EUR",
    shipping_total=Decimal("0"),
    tax_total=Decimal("0"),
    discount_total=None,
    placed_at: datetime | None = None,
    financial_status: str = Order.FinancialStatus.PENDING,
    payment_method: str = "",
    payment_reference: str = "",
    notes: str = "",
    actor=None,
    prime: bool = False,
) -> tuple[Order, bool]:
    """Create an order with its lines and a ``placed`` event.

    ``lines``: dicts with ``sku`` (or ``product``), ``quantity``, ``unit_price`` and
    optionally ``discount_total`` (the discount on the whole line, at most its value).
    ``discount_total``: the order's whole discount, at least the lines' discounts; what
    it adds to them is shared over the lines in proportion to what they cost, so every
    line knows what was paid for it (refunds and returns use that). Amounts have at most
    the currency's decimals (``oms.money``); more is refused, not rounded.
    The total is what the customer was charged: lines - discounts + shipping + tax.
    ``financial_status`` ``paid`` (``authorized``) records a captured (authorised)
    payment of the total, with ``payment_method`` and ``payment_reference``.
    Idempotent by (channel, external_id): a replay with the same content returns
    ``(existing, False)``; different content raises DuplicateOrder. Concurrent identical
    calls are settled by the unique constraint, not by a read-then-write race.

    Every write happens when the service makes it, whoever calls. ``prime`` changes
    reads only: the new order comes back with its lines, timeline, (no) shipments and
    payments as if prefetched (``oms.db.prime_related``), so the steps that follow in
    the same transaction (auto-confirm rules, allocation, the API's answer) read them
    from memory; the services keep those lists complete as they add to them, and the
    caller drops them (``forget_primed``) before the object outlives the transaction.
    """
    customer = customer or {}
    address = {k: str((shipping_address or {}).get(k) or "").strip() for k in ADDRESS_FIELDS}
    currency = (currency or "").upper()
    address["country"] = address["country"].upper()
    external_id = (str(external_id).strip() or None) if external_id is not None else None

    if not channel.active:
        raise OrderInvalid(f"Channel {channel.code} is inactive", field="channel")
    if not CURRENCY_RE.match(currency):
        raise OrderInvalid("currency must be a 3-letter ISO 4217 code", field="currency")
    if address["country"] and not COUNTRY_RE.match(address["country"]):
        raise OrderInvalid(
            "country must be a 2-letter ISO 3166-1 code", field="shipping_address.country"
        )
    email = (customer.get("email") or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise OrderInvalid(f"{email!r} is not a valid e-mail", field="customer.email") from None
    if not lines:
        raise OrderInvalid("An order needs at least one line", field="lines")
    if len(lines) > MAX_LINES:
        raise OrderInvalid(f"An order may have at most {MAX_LINES} lines", field="lines")
    shipping_total = _money(shipping_total, "shipping_total", currency)
    tax_total = _money(tax_total, "tax_total", currency)

    # Lines may bring their Product already (the API's validation looked them up).
    skus = {str(line.get("sku") or "") for line in lines if line.get("product") is None}
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus)} if skus else {}
    parsed: list[tuple[Product, int, Decimal, Decimal]] = []
    for i, line in enumerate(lines):
        product = line.get("product") or products.get(str(line.get("sku") or ""))
        if product is None:
            raise OrderInvalid(f"Unknown SKU {line.get('sku')!r}", field=f"lines[{i}].sku")
        if not product.active:
            raise OrderInvalid(f"SKU {product.sku} is inactive", field=f"lines[{i}].sku")
        quantity = line.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise OrderInvalid(
                "quantity must be a whole number greater than 0", field=f"lines[{i}].quantity"
            )
        if quantity > MAX_LINE_QUANTITY:
            raise OrderInvalid(
                f"quantity must be at most {MAX_LINE_QUANTITY}", field=f"lines[{i}].quantity"
            )
        price = line.get("unit_price")
        if price is None:
            unit_price = quantize_money(product.price, currency)
        else:
            unit_price = _money(price, f"lines[{i}].unit_price", currency)
        discount = line.get("discount_total")
        discount = (
            Decimal("0")
            if discount in (None, "")
            else _money(discount, f"lines[{i}].discount_total", currency)
        )
        if discount > unit_price * quantity:
            raise OrderInvalid(
                f"lines[{i}].discount_total {discount} is more than the line's value "
                f"({quantize_money(unit_price * quantity, currency)})",
                field=f"lines[{i}].discount_total",
            )
        parsed.append((product, quantity, unit_price, discount))
    parsed = _share_order_discount(parsed, discount_total, currency)

    subtotal = quantize_money(sum((u * q for _, q, u, _ in parsed), Decimal("0")), currency)
    discounts = sum((d for *_, d in parsed), Decimal("0"))
    fingerprint = intake_fingerprint(
        currency=currency,
        customer=customer,
        address=address,
        lines=[(p.sku, q, u, d) for p, q, u, d in parsed],
        shipping_total=shipping_total,
        tax_total=tax_total,
        discount_total=discounts,
    )
    total = quantize_money(subtotal - discounts + shipping_total + tax_total, currency)
    if total > MAX_MONEY or subtotal > MAX_MONEY:
        raise OrderInvalid("Order total is too large", field="lines")
    placed_at = placed_at or timezone.now()
    # The writes take no savepoint of their own (two round trips per order): every
    # refusal is raised above, before anything is written, so an error in here is a
    # database error that fails the caller's transaction anyway; and the refusal of a
    # concurrent duplicate is raised after the block, so a caller that catches
    # DuplicateOrder can go on using its transaction.
    with transaction.atomic(savepoint=False):
        order = Order(
            number=next_number("order"),
            channel=channel,
            external_id=external_id,
            customer=customer_upsert(
                email=email, name=customer.get("name", ""), phone=customer.get("phone", "")
            )
            if email
            else None,
            **{f"ship_{k}": v for k, v in address.items()},
            currency=currency,
            subtotal=subtotal,
            discount_total=discounts,
            shipping_total=shipping_total,
            tax_total=tax_total,
            total=total,
            placed_at=placed_at,
            ship_by=add_business_days(placed_at, channel.handling_days),
            financial_status=financial_status,
            notes=notes,
            intake_hash=fingerprint,
        )
        saved = _save_new_order(order, parsed, actor=actor, prime=prime)
        if saved:
            _record_placement_payment(order, payment_method, payment_reference, actor)
    if not saved:
        # Placed before (a replay), or by a concurrent transaction that won the unique
        # index (its row is committed now: the index made us wait for it).
        existing = Order.objects.select_related("channel").get(
            channel=channel, external_id=external_id
        )
        return _replay(existing, fingerprint), False
    return order, True


def _share_order_discount(parsed: list[tuple], discount_total, currency: str) -> list[tuple]:
    """The lines with the order-wide discount's part beyond their own discounts shared
    over them, in proportion to what is left of each line (whole minor units, summing
    exactly). Refuses an order discount below the lines' or above the order's value."""
    if discount_total in (None, ""):
        return parsed
    wanted = _money(discount_total, "discount_total", currency)
    lines_discount = sum((d for *_, d in parsed), Decimal("0"))
    value = sum((u * q for _, q, u, _ in parsed), Decimal("0"))
    if wanted < lines_discount:
        raise OrderInvalid(
            f"discount_total {wanted} is less than the lines' discounts ({lines_discount})",
            field="discount_total",
        )
    if wanted > value:
        raise OrderInvalid(
            f"discount_total {wanted} is more than the lines' value "
            f"({quantize_money(value, currency)})",
            field="discount_total",
        )
    extra = wanted - lines_discount
    if not extra:
        return parsed
    room = [u * q - d for _, q, u, d in parsed]
    shares = split_money(extra, room, currency)
    # A share rounded up past a nearly free line's value goes to the others.
    spill = Decimal("0")
    for i, share in enumerate(shares):
        if share > room[i]:
            spill += share - room[i]
            shares[i] = room[i]
    for i in range(len(shares)):
        take = min(spill, room[i] - shares[i])
        shares[i] += take
        spill -= take
    return [(p, q, u, d + share) for (p, q, u, d), share in zip(parsed, shares, strict=True)]


def _record_placement_payment(order: Order, method: str, reference: str, actor) -> None:
    """An order placed as paid (authorized) has its captured (authorised) payment of the
    total recorded with it, so that refunds are bounded by it like any other capture."""
    kind = {
        Order.FinancialStatus.PAID: Payment.Kind.CAPTURED,
        Order.FinancialStatus.AUTHORIZED: Payment.Kind.AUTHORIZED,
    }.get(order.financial_status)
    if kind is None or order.total <= 0:
        return
    [payment] = insert_new(
        [
            Payment(
                order=order,
                kind=kind,
                amount=order.total,
                currency=order.currency,
                method=(method or order.channel.code)[:64],
                reference=(reference or order.external_id or "")[:128],
                actor=actor_name(actor),
            )
        ]
    )
    kept = primed(order, "payments")
    if kept is not None:
        kept.append(payment)


def _save_new_order(order: Order, parsed, *, actor, prime: bool) -> bool:
    """The writes of ``order_place``: the order, its lines and its ``placed`` event.
    False, with the order not saved, when a concurrent placement of the same
    (channel, external_id) won the unique index."""
    if not insert_unless_duplicate(order):
        if order.external_id is None:  # a number or tracking token taken: not a replay
            raise IntegrityError(f"Order {order.number} collides with an existing order")
        return False

    order_lines = insert_new(
        [
            OrderLine(
                order=order,
                product=product,
                sku=product.sku,
                name=product.name,
                quantity=quantity,
                unit_price=unit_price,
                discount_total=discount,
            )
            for product, quantity, unit_price, discount in parsed
        ]
    )
    if prime:  # all of the new order's lines and (empty) relations are in memory
        prime_related(order, "lines", order_lines)
        prime_related(order, "events", [])
        prime_related(order, "shipments", [])
        prime_related(order, "payments", [])
    order_add_event(
        order=order,
        kind=EventKind.PLACED,
        message=f"Placed on {order.channel.code}"
        + (f" as {order.external_id}" if order.external_id else "")
        + f": {len(parsed)} line(s), {order.total} {order.currency}"
        + (f" after {order.discount_total} discount" if order.discount_total else ""),
        actor=actor,
        public=True,
    )
    webhooks.publish_order("order.created", order)
    return True


def _replay(existing: Order, fingerprint: str) -> Order:
    if existing.intake_hash and existing.intake_hash != fingerprint:
        raise DuplicateOrder(
            f"Order {existing.external_id} from {existing.channel.code} was already placed "
            f"as {existing.number} with different content",
            field="external_id",
            number=existing.number,
        )
    return existing


# --------------------------------------------------------------------------- state machine


def order_confirm(*, order: Order, actor=None, locked: bool = False) -> Order:
    """pending (or on hold) -> confirmed. Allocation is done by the caller
    (``fulfillment.services.order_confirm_and_allocate``). Locks the order unless
    ``locked`` (see ``order_lock``): then the caller's transaction holds the order and
    this takes no savepoint of its own (an error fails the caller's transaction)."""
    if locked:
        return _confirm(order, actor)
    with transaction.atomic():
        order_lock(order)
        return _confirm(order, actor)


def _confirm(order: Order, actor) -> Order:
    if order.status == Status.ON_HOLD:
        raise InvalidTransition(
            entity="Order",
            number=order.number,
            current=order.status,
            move="confirm",
            detail=f"release the hold first ({order.hold_reason})",
        )
    order.confirmed_at = timezone.now()
    _transition(order, Status.CONFIRMED, "confirm", extra_fields=["confirmed_at"])
    order_add_event(
        order=order, kind=EventKind.CONFIRMED, message="Order confirmed", actor=actor, public=True
    )
    webhooks.publish_order("order.confirmed", order)
    return order


@transaction.atomic
def order_hold(*, order: Order, reason: str, actor=None, data: dict | None = None) -> Order:
    """pending/confirmed -> on_hold with a reason. Reservations stay. Locks the order.
    ``data`` goes into the ``held`` event (e.g. the auto-confirm rules that failed)."""
    order_lock(order)
    reason = (reason or "").strip()
    if not reason:
        raise OrderInvalid("A hold needs a reason", field="reason")
    if order.status == Status.CONFIRMED and order.fulfillment_status != "unfulfilled":
        raise InvalidTransition(
            entity="Order",
            number=order.number,
            current=order.status,
            move="hold",
            detail="part of it has already shipped",
        )
    order.hold_reason = reason[:255]
    _transition(order, Status.ON_HOLD, "hold", extra_fields=["hold_reason"])
    order_add_event(
        order=order, kind=EventKind.HELD, message=f"On hold: {reason}", data=data, actor=actor
    )
    webhooks.publish_order("order.on_hold", order)
    return order


@transaction.atomic
def order_release(*, order: Order, actor=None) -> Order:
    """on_hold -> back where it was (confirmed if it had been confirmed, else pending)."""
    order_lock(order)
    if order.status != Status.ON_HOLD:
        raise InvalidTransition(
            entity="Order", number=order.number, current=order.status, move="release"
        )
    target = Status.CONFIRMED if order.confirmed_at else Status.PENDING
    previous_reason = order.hold_reason
    order.hold_reason = ""
    _transition(order, target, "release", extra_fields=["hold_reason"])
    order_add_event(
        order=order,
        kind=EventKind.RELEASED,
        message=f"Hold released ({previous_reason}); back to {target}",
        actor=actor,
    )
    return order


@transaction.atomic
def order_cancel(*, order: Order, reason: str, actor=None) -> Order:
    """Cancel an order with nothing shipped and nothing still reserved.

    ``fulfillment.services.order_cancel_and_release`` cancels the shipments (releasing
    their stock) first and then calls this. Locks the order.
    """
    order_lock(order)
    reason = (reason or "").strip() or "cancelled"
    lines = list(order.lines.select_for_update().order_by("pk"))
    if any(line.quantity_shipped for line in lines):
        raise InvalidTransition(
            entity="Order",
            number=order.number,
            current=order.status,
            move="cancel",
            detail="part of it has already shipped",
        )
    if any(line.quantity_allocated for line in lines):
        raise InvalidTransition(
            entity="Order",
            number=order.number,
            current=order.status,
            move="cancel",
            detail="stock is still allocated to open shipments",
        )
    order.cancel_reason = reason[:255]
    _transition(order, Status.CANCELLED, "cancel", extra_fields=["cancel_reason"])
    for line in lines:
        line.quantity_cancelled = line.quantity
    OrderLine.objects.bulk_update(lines, ["quantity_cancelled"])
    order_sync_progress(order=order, lines=lines)
    if order.financial_status == Order.FinancialStatus.AUTHORIZED:
        order_set_financial_status(
            order=order,
            status=Order.FinancialStatus.VOIDED,
            actor=actor,
            message="Authorization voided: order cancelled",
        )
    order_add_event(
        order=order,
        kind=EventKind.CANCELLED,
        message=f"Cancelled: {reason}",
        actor=actor,
        public=True,
    )
    webhooks.publish_order("order.cancelled", order)
    return order


def order_sync_progress(
    *, order: Order, lines: Sequence[OrderLine] | None = None, actor=None
) -> Order:
    """Recompute allocation and fulfillment status from the lines (caller holds the lock);
    a confirmed order whose every open unit has shipped becomes ``shipped``."""
    lines = list(lines if lines is not None else order.lines.all())
    wanted = sum(line.quantity - line.quantity_cancelled for line in lines)
    allocated = sum(line.quantity_allocated + line.quantity_shipped for line in lines)
    shipped = sum(line.quantity_shipped for line in lines)

    A, F = Order.AllocationStatus, Order.FulfillmentStatus
    if wanted and allocated >= wanted:
        allocation = A.ALLOCATED
    elif allocated:
        allocation = A.PARTIAL
    else:
        allocation = A.UNALLOCATED if wanted else order.allocation_status
    if wanted and shipped >= wanted:
        fulfillment = F.FULFILLED
    elif shipped:
        fulfillment = F.PARTIAL
    else:
        fulfillment = F.UNFULFILLED

    changed = []
    if allocation != order.allocation_status:
        order.allocation_status = allocation
        changed.append("allocation_status")
    if fulfillment != order.fulfillment_status:
        order.fulfillment_status = fulfillment
        changed.append("fulfillment_status")
    if changed:
        save_fields(order, [*changed, "updated_at"])
    if fulfillment == F.FULFILLED and order.status == Status.CONFIRMED:
        _transition(order, Status.SHIPPED, "mark shipped")
        order_add_event(
            order=order,
            kind=EventKind.SHIPPED,
            actor=actor,
            public=True,
            message="All items shipped",
        )
    return order


@transaction.atomic
def order_mark_delivered(*, order: Order, actor=None) -> Order:
    """shipped -> delivered (fulfillment calls it when every shipment is delivered)."""
    order_lock(order)
    _transition(order, Status.DELIVERED, "mark delivered")
    order_add_event(
        order=order, kind=EventKind.DELIVERED, message="Delivered", actor=actor, public=True
    )
    return order


# --------------------------------------------------------------------------- payments

FS = Order.FinancialStatus
PaymentKind = Payment.Kind


def payment_totals(order: Order) -> dict[str, Decimal]:
    """The order's payments summed per kind (every kind present, 0 when none)."""
    sums = dict(
        Payment.objects.filter(order=order)
        .order_by()
        .values_list("kind")
        .annotate(total=Sum("amount"))
    )
    return {kind: sums.get(kind) or Decimal("0") for kind in PaymentKind.values}


def _open_authorization(totals: dict[str, Decimal]) -> Decimal:
    """Authorised and neither captured nor voided yet."""
    return max(
        totals[PaymentKind.AUTHORIZED] - totals[PaymentKind.VOIDED] - totals[PaymentKind.CAPTURED],
        Decimal("0"),
    )


def financial_status_for(order: Order, totals: dict[str, Decimal]) -> str:
    """The payment state the payments make: refunds first, then what was captured
    against the total, then what is still authorised."""
    captured, refunded = totals[PaymentKind.CAPTURED], totals[PaymentKind.REFUNDED]
    if captured > 0:
        if refunded >= captured:
            return FS.REFUNDED
        if refunded > 0:
            return FS.PARTIALLY_REFUNDED
        return FS.PAID if captured >= order.total else FS.PARTIALLY_PAID
    if _open_authorization(totals) > 0:
        return FS.AUTHORIZED
    if totals[PaymentKind.AUTHORIZED] > 0:
        return FS.VOIDED
    return FS.PENDING


def refundable_amount(order: Order) -> Decimal:
    """What may still be refunded: captured minus already refunded."""
    totals = payment_totals(order)
    return max(totals[PaymentKind.CAPTURED] - totals[PaymentKind.REFUNDED], Decimal("0"))


def _payment_verb(kind: str) -> str:
    return {
        PaymentKind.AUTHORIZED: "Authorised",
        PaymentKind.CAPTURED: "Captured",
        PaymentKind.VOIDED: "Voided",
        PaymentKind.REFUNDED: "Refunded",
    }[kind]


@transaction.atomic
def payment_record(
    *,
    order: Order,
    kind: str,
    amount,
    method: str = "",
    reference: str = "",
    actor=None,
    message: str = "",
    locked: bool = False,
) -> Payment:
    """Record a payment transaction on the order (authorised, captured, voided or
    refunded money) with a ``payment`` event; ``financial_status`` follows the payments
    (``financial_status_for``). Refused with a conflict (409): a capture above the
    order's total, a void above the open authorisation, a refund above what was
    captured minus already refunded. Locks the order (unless ``locked``)."""
    if not locked:
        order_lock(order)
    if kind not in PaymentKind.values:
        raise OrderInvalid(f"Unknown payment kind {kind!r}", field="kind")
    amount = _money(amount, "amount", order.currency)
    if amount <= 0:
        raise OrderInvalid("amount must be greater than 0", field="amount")
    totals = payment_totals(order)
    cur = order.currency
    if kind in (PaymentKind.AUTHORIZED, PaymentKind.CAPTURED) and order.status == Status.CANCELLED:
        raise InvalidTransition(
            entity="Order", number=order.number, current=order.status, move=f"record {kind}"
        )
    if kind == PaymentKind.CAPTURED:
        room = order.total - totals[PaymentKind.CAPTURED]
        if amount > room:
            raise Conflict(
                f"Capturing {amount} {cur} on {order.number} would exceed its total "
                f"({order.total} {cur}; {totals[PaymentKind.CAPTURED]} captured already)",
                field="amount",
            )
    elif kind == PaymentKind.VOIDED:
        room = _open_authorization(totals)
        if amount > room:
            raise Conflict(
                f"Voiding {amount} {cur} on {order.number}: only {room} {cur} is authorised "
                "and not yet captured",
                field="amount",
            )
    elif kind == PaymentKind.REFUNDED:
        room = totals[PaymentKind.CAPTURED] - totals[PaymentKind.REFUNDED]
        if room <= 0:
            raise InvalidTransition(
                entity="Order",
                number=order.number,
                current=order.financial_status,
                move="refund",
                detail="" if totals[PaymentKind.CAPTURED] else "nothing has been paid",
            )
        if amount > room:
            raise Conflict(
                f"Refund {amount} {cur} exceeds what is left to refund on {order.number} "
                f"({quantize_money(room, cur)} {cur}): captured "
                f"{quantize_money(totals[PaymentKind.CAPTURED], cur)}, refunded "
                f"{quantize_money(totals[PaymentKind.REFUNDED], cur)}",
                field="amount",
            )
    payment = Payment.objects.create(
        order=order,
        kind=kind,
        amount=amount,
        currency=cur,
        method=(method or "")[:64],
        reference=(reference or "")[:128],
        actor=actor_name(actor),
    )
    totals[kind] += amount
    previous = order.financial_status
    order.financial_status = financial_status_for(order, totals)
    fields = ["financial_status", "updated_at"]
    if kind == PaymentKind.REFUNDED:
        order.refunded_total = order.refunded_total + amount
        fields.append("refunded_total")
    order.save(update_fields=fields)
    details = ", ".join(p for p in (method, reference) if p)
    order_add_event(
        order=order,
        kind=EventKind.PAYMENT,
        actor=actor,
        message=message
        or f"{_payment_verb(kind)} {amount} {cur}"
        + (f" ({details})" if details else "")
        + (
            f"; payment {previous} -> {order.financial_status}"
            if previous != order.financial_status
            else ""
        ),
        data={
            "payment": payment.pk,
            "kind": kind,
            "amount": str(amount),
            "method": payment.method,
            "reference": payment.reference,
            "from": previous,
            "to": order.financial_status,
        },
    )
    return payment


@transaction.atomic
def order_set_financial_status(
    *, order: Order, status: str, actor=None, message: str = ""
) -> Order:
    """Move the payment state along FINANCIAL_TRANSITIONS with a ``payment`` event, for
    a source that reports a state rather than transactions (a channel, the 'mark paid'
    action): the payment that state implies is recorded with it: ``paid`` captures what
    is left of the total, ``authorized`` authorises it, ``voided`` voids the open
    authorisation. Refunds go through ``order_record_refund``."""
    if status not in FINANCIAL_TRANSITIONS[order.financial_status]:
        raise InvalidTransition(
            entity="Order",
            number=order.number,
            current=order.financial_status,
            move=f"set payment to {status}",
        )
    totals = payment_totals(order)
    implied = None
    if status == FS.PAID:
        implied = (PaymentKind.CAPTURED, order.total - totals[PaymentKind.CAPTURED])
    elif status == FS.AUTHORIZED:
        implied = (PaymentKind.AUTHORIZED, order.total - _open_authorization(totals))
    elif status == FS.VOIDED:
        implied = (PaymentKind.VOIDED, _open_authorization(totals))
    previous = order.financial_status
    data = {"from": previous, "to": status}
    if implied is not None and implied[1] > 0:
        payment = Payment.objects.create(
            order=order,
            kind=implied[0],
            amount=implied[1],
            currency=order.currency,
            method=order.channel.code if order.channel_id else "",
            actor=actor_name(actor),
        )
        data.update(payment=payment.pk, kind=payment.kind, amount=str(payment.amount))
    order.financial_status = status
    order.save(update_fields=["financial_status", "updated_at"])
    order_add_event(
        order=order,
        kind=EventKind.PAYMENT,
        actor=actor,
        message=message or f"Payment {previous} -> {status}",
        data=data,
    )
    return order


@transaction.atomic
def order_mark_paid(*, order: Order, actor=None) -> Order:
    order_lock(order)
    if order.status == Status.CANCELLED:
        raise InvalidTransition(
            entity="Order", number=order.number, current=order.status, move="mark paid"
        )
    return order_set_financial_status(order=order, status=FS.PAID, actor=actor)


@transaction.atomic
def order_add_note(*, order: Order, message: str, actor=None, public: bool = False) -> OrderEvent:
    message = (message or "").strip()
    if not message:
        raise OrderInvalid("A note needs text", field="message")
    return order_add_event(
        order=order, kind=EventKind.NOTE, message=message, actor=actor, public=public
    )


@transaction.atomic
def order_record_refund(
    *, order: Order, amount: Decimal, actor=None, method: str = "", reference: str = ""
) -> Order:
    """Refund ``amount`` (never above what was captured minus already refunded: a
    conflict otherwise) as a ``refunded`` payment; the refunded total and the financial
    status follow. Called by ``returns.services.refund_create``; locks the order."""
    order_lock(order)
    amount = _money(amount, "amount", order.currency)
    if amount <= 0:
        raise OrderInvalid("amount must be greater than 0", field="amount")
    payment_record(
        order=order,
        kind=PaymentKind.REFUNDED,
        amount=amount,
        method=method,
        reference=reference,
        actor=actor,
        locked=True,
        message=f"Refunded {amount} {order.currency} "
        f"(total refunded {quantize_money(order.refunded_total + amount, order.currency)})",
    )
    return order
