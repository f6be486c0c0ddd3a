"""WooCommerce order webhooks (topics ``order.created`` and ``order.updated``), as the
WooCommerce REST API v3 documents the order resource.

Headers: ``X-WC-Webhook-Topic``, ``X-WC-Webhook-Signature`` (base64 HMAC-SHA256 of the
raw body with the webhook's secret), ``X-WC-Webhook-Delivery-ID`` (we deduplicate by it
when present), ``X-WC-Webhook-ID``, ``X-WC-Webhook-Source``, ``X-WC-Webhook-Resource``,
``X-WC-Webhook-Event``. When a webhook is saved WooCommerce first POSTs an unsigned,
form-encoded ``webhook_id=<n>`` ping, which must be answered 2xx.

The payload: ``id``, ``number``, ``status`` (pending, processing, on-hold, completed,
cancelled, refunded, failed, trash), ``currency``, ``total``, ``total_tax``,
``shipping_total``, ``billing{email, first_name, last_name, phone}``,
``shipping{first_name, last_name, address_1, address_2, city, state, postcode, country}``,
``discount_total``, ``coupon_lines[{code, discount}]``,
``line_items[{sku, quantity, price, name, subtotal, total}]`` (``subtotal``: the line
before discounts, ``total``: after them; ``price`` is the unit price after them),
``refunds[{total}]`` (negative amounts), ``date_created_gmt``, ``date_modified_gmt``,
``customer_note``.

Discounts: a line's unit price is its ``subtotal`` over its quantity and its discount
``subtotal - total``; an order ``discount_total`` above the lines' is shared over them.
Coupon codes go on the timeline. The order's total is then what the customer was
charged.
"""

import re
from decimal import Decimal

from intake.inbound import common
from intake.inbound.common import FS, MappedLine, MappedOrder, MappingError
from kernel.money import quantize_money

PLATFORM = "woocommerce"
SIGNATURE_HEADER = "HTTP_X_WC_WEBHOOK_SIGNATURE"
TOPIC_HEADER = "HTTP_X_WC_WEBHOOK_TOPIC"
DELIVERY_HEADER = "HTTP_X_WC_WEBHOOK_DELIVERY_ID"
KEPT_HEADERS = {
    "HTTP_X_WC_WEBHOOK_TOPIC": "X-WC-Webhook-Topic",
    "HTTP_X_WC_WEBHOOK_DELIVERY_ID": "X-WC-Webhook-Delivery-ID",
    "HTTP_X_WC_WEBHOOK_ID": "X-WC-Webhook-ID",
    "HTTP_X_WC_WEBHOOK_SOURCE": "X-WC-Webhook-Source",
    "HTTP_X_WC_WEBHOOK_RESOURCE": "X-WC-Webhook-Resource",
    "HTTP_X_WC_WEBHOOK_EVENT": "X-WC-Webhook-Event",
}
CREATE, UPDATE = "order.created", "order.updated"
TOPICS = {CREATE, UPDATE}
CANCEL_TOPICS: set[str] = set()
PING_RE = re.compile(rb"^webhook_id=\d{1,20}$")

PAID = {"processing", "completed"}
CANCELLED = {"cancelled", "trash"}
FINANCIAL = {
    "processing": FS.PAID,
    "completed": FS.PAID,
    "on-hold": FS.PENDING,
    "pending": FS.PENDING,
    "failed": FS.PENDING,
    "checkout-draft": FS.PENDING,
    "refunded": FS.REFUNDED,
}


def is_ping(body: bytes) -> bool:
    return bool(PING_RE.match(body.strip()))


def signature_valid(secret: str, body: bytes, meta: dict) -> bool:
    return common.base64_hmac_valid(secret, body, meta.get(SIGNATURE_HEADER))


def map_order(payload) -> MappedOrder:
    if not isinstance(payload, dict) or not common.text(payload.get("id"), 128):
        raise MappingError("the payload is not a WooCommerce order (no id)")
    problems: list[str] = []
    address_problems: list[str] = []
    notes: list[str] = []
    external_id = common.text(payload["id"], 128)

    billing = payload.get("billing") if isinstance(payload.get("billing"), dict) else {}
    ship = payload.get("shipping") if isinstance(payload.get("shipping"), dict) else {}
    address = common.clean_address(
        {
            "name": common.full_name(ship.get("first_name"), ship.get("last_name"))
            or common.text(ship.get("company")),
            "line1": ship.get("address_1"),
            "line2": ship.get("address_2"),
            "city": ship.get("city"),
            "region": ship.get("state"),
            "postcode": ship.get("postcode"),
            "country": ship.get("country"),
            "phone": ship.get("phone") or billing.get("phone"),
        },
        address_problems,
    )
    customer = common.clean_customer(
        billing.get("email"),
        common.full_name(billing.get("first_name"), billing.get("last_name")) or address["name"],
        billing.get("phone") or "",
        notes,
    )

    cur = common.currency_or_none(payload.get("currency"))
    lines = []
    items = payload.get("line_items")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        qty = common.quantity(item.get("quantity"))
        if qty is None or qty < 0:
            problems.append(f"line {common.text(item.get('name'))!r}: bad quantity")
            continue
        if qty == 0:
            continue
        unit_price, discount = _line_money(item, qty, problems, cur)
        lines.append(
            MappedLine(
                sku=common.text(item.get("sku"), 64),
                quantity=qty,
                unit_price=unit_price,
                title=common.text(item.get("name")),
                discount_total=discount,
            )
        )
    lines_discount = sum((line.discount_total for line in lines), Decimal("0"))
    order_discount = common.optional_money(payload.get("discount_total"), cur)
    value = sum(((line.unit_price or Decimal("0")) * line.quantity for line in lines), Decimal("0"))
    coupons = payload.get("coupon_lines")
    coupons = [
        common.text(c.get("code"), 64)
        + (f" (-{common.text(c.get('discount'), 32)})" if common.text(c.get("discount")) else "")
        for c in (coupons if isinstance(coupons, list) else [])
        if isinstance(c, dict) and common.text(c.get("code"))
    ]
    if coupons:
        notes.append("coupons: " + ", ".join(coupons))

    status = common.text(payload.get("status"), 32).lower()
    if status and status not in FINANCIAL and status not in CANCELLED:
        notes.append(f"unknown WooCommerce status {status!r}; payment taken as pending")
    if status == "failed":
        notes.append("WooCommerce reports the payment failed")
    return MappedOrder(
        platform=PLATFORM,
        external_id=external_id,
        label="#" + (common.text(payload.get("number"), 60) or external_id),
        currency=common.clean_currency(payload.get("currency")),
        customer=customer,
        address=address,
        lines=lines,
        shipping_total=common.money(payload.get("shipping_total"), "shipping_total", problems, cur),
        tax_total=common.money(payload.get("total_tax"), "total_tax", problems, cur),
        discount_total=min(order_discount, value)
        if order_discount is not None and order_discount > lines_discount
        else None,
        financial_status=FINANCIAL.get(status, FS.PENDING),
        refunded_amount=_refunded(payload),
        cancelled=status in CANCELLED,
        cancel_reason=f"status {status}" if status in CANCELLED else "",
        placed_at=common.timestamp(payload.get("date_created_gmt"))
        or common.timestamp(payload.get("date_created")),
        updated_at=common.timestamp(payload.get("date_modified_gmt")),
        platform_total=common.optional_money(payload.get("total"), cur),
        note=common.text(payload.get("customer_note"), 2000),
        problems=problems,
        address_problems=address_problems,
        notes=notes,
    )


def _line_money(item: dict, qty: int, problems: list[str], cur) -> tuple[Decimal, Decimal]:
    """(unit price before discounts, discount on the line). From ``subtotal`` and
    ``total`` when the payload has them, else ``price`` with no discount."""
    subtotal = common.optional_money(item.get("subtotal"), cur)
    total = common.optional_money(item.get("total"), cur)
    if subtotal is None or total is None or subtotal < 0 or total < 0:
        return common.money(item.get("price"), "line price", problems, cur), Decimal("0")
    unit_price = quantize_money(subtotal / qty, cur)
    discount = unit_price * qty - total
    if discount < 0:  # a subtotal that does not split into whole units: keep the total
        unit_price, discount = quantize_money(total / qty, cur), Decimal("0")
    return unit_price, min(discount, unit_price * qty)


def _refunded(payload: dict) -> Decimal | None:
    cur = common.currency_or_none(payload.get("currency"))
    refunds = payload.get("refunds")
    if not isinstance(refunds, list) or not refunds:
        return None
    total = sum(
        (
            abs(common.optional_money(r.get("total"), cur) or Decimal("0"))
            for r in refunds
            if isinstance(r, dict)
        ),
        Decimal("0"),
    )
    return total or None
