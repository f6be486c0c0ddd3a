"""Order placement: validation, totals, the customer, idempotent replays."""

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory.models import Product
from kernel import webhooks
from kernel.actors import actor_name
from kernel.db import insert_new, insert_unless_duplicate, prime_related, primed
from kernel.money import MAX_MONEY, format_money, quantize_money, split_money
from kernel.numbering import next_number
from orders.exceptions import DuplicateOrder, OrderInvalid
from orders.models import Channel, Customer, Order, OrderLine, Payment
from orders.services.timeline import (
    ADDRESS_FIELDS,
    COUNTRY_RE,
    CURRENCY_RE,
    MAX_LINE_QUANTITY,
    MAX_LINES,
    EventKind,
    _money,
    add_business_days,
    order_add_event,
)


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
    the currency's decimals (``kernel.money``); more is refused, not rounded.
    The total is what the customer was charged: lines - discounts + shipping + tax.
    ``financial_status`` ``paid`` (``authorized``) records a captured (authorised)
    payment of the total, with ``payment_method`` and ``payment_reference``.
    Idempotent by (channel, external_id): a replay with the same content returns
    ``(existing, False)``; different content raises DuplicateOrder. Concurrent identical
    calls are settled by the unique constraint, not by a read-then-write race.

    Every write happens when the service makes it, whoever calls. ``prime`` changes
    reads only: the new order comes back with its lines, timeline, (no) shipments and
    payments as if prefetched (``kernel.db.prime_related``), so the steps that follow in
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
