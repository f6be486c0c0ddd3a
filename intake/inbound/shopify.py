"""Shopify order webhooks (topics ``orders/create``, ``orders/updated``,
``orders/cancelled``), as Shopify documents them.

Headers: ``X-Shopify-Topic``, ``X-Shopify-Hmac-Sha256`` (base64 HMAC-SHA256 of the raw
body with the app's / store's webhook secret), ``X-Shopify-Webhook-Id`` (the same on
every retry of one delivery: we deduplicate by it), ``X-Shopify-Shop-Domain``,
``X-Shopify-API-Version``, ``X-Shopify-Triggered-At``, ``X-Shopify-Event-Id``.

The payload is the order resource: ``id``, ``name`` ("#1001"), ``email``, ``currency``,
``financial_status``, ``total_price``, ``subtotal_price``, ``total_tax``,
``total_discounts``, ``discount_codes[{code, amount, type}]``,
``line_items[{sku, quantity, current_quantity, price, title, total_discount,
discount_allocations[{amount, discount_application_index}]}]`` (``price`` is the unit
price before discounts; the allocations are each discount's share of the line),
``shipping_address``, ``customer``, ``shipping_lines[{price, discounted_price}]``,
``cancelled_at``, ``cancel_reason``, ``refunds[{transactions[{kind, status, amount}]}]``,
``created_at``, ``updated_at``.

Discounts: each line keeps its ``discount_allocations`` (or its ``total_discount`` in
payloads without them), scaled to ``current_quantity`` after an edit; when
``total_discounts`` is more than the lines' allocations (a payload that does not
itemise them), the rest is shared over the lines. Shipping counts at its
``discounted_price``. The order's total is then what the customer was charged.
"""

from decimal import Decimal

from intake.inbound import common
from intake.inbound.common import FS, MappedLine, MappedOrder, MappingError
from kernel.money import quantize_money

PLATFORM = "shopify"
SIGNATURE_HEADER = "HTTP_X_SHOPIFY_HMAC_SHA256"
TOPIC_HEADER = "HTTP_X_SHOPIFY_TOPIC"
DELIVERY_HEADER = "HTTP_X_SHOPIFY_WEBHOOK_ID"
KEPT_HEADERS = {
    "HTTP_X_SHOPIFY_TOPIC": "X-Shopify-Topic",
    "HTTP_X_SHOPIFY_WEBHOOK_ID": "X-Shopify-Webhook-Id",
    "HTTP_X_SHOPIFY_SHOP_DOMAIN": "X-Shopify-Shop-Domain",
    "HTTP_X_SHOPIFY_API_VERSION": "X-Shopify-API-Version",
    "HTTP_X_SHOPIFY_TRIGGERED_AT": "X-Shopify-Triggered-At",
    "HTTP_X_SHOPIFY_EVENT_ID": "X-Shopify-Event-Id",
}
CREATE, UPDATE, CANCEL = "orders/create", "orders/updated", "orders/cancelled"
TOPICS = {CREATE, UPDATE, CANCEL}
CANCEL_TOPICS = {CANCEL}

FINANCIAL = {
    "pending": FS.PENDING,
    "partially_paid": FS.PENDING,
    "authorized": FS.AUTHORIZED,
    "paid": FS.PAID,
    "partially_refunded": FS.PARTIALLY_REFUNDED,
    "refunded": FS.REFUNDED,
    "voided": FS.VOIDED,
}


def signature_valid(secret: str, body: bytes, meta: dict) -> bool:
    return common.base64_hmac_valid(secret, body, meta.get(SIGNATURE_HEADER))


def map_order(payload) -> MappedOrder:
    if not isinstance(payload, dict) or not common.text(payload.get("id"), 128):
        raise MappingError("the payload is not a Shopify order (no id)")
    problems: list[str] = []
    address_problems: list[str] = []
    notes: list[str] = []
    external_id = common.text(payload["id"], 128)

    customer = payload.get("customer") if isinstance(payload.get("customer"), dict) else {}
    ship = payload.get("shipping_address")
    ship = ship if isinstance(ship, dict) else {}
    address = common.clean_address(
        {
            "name": common.text(ship.get("name"))
            or common.full_name(ship.get("first_name"), ship.get("last_name")),
            "line1": ship.get("address1"),
            "line2": ship.get("address2"),
            "city": ship.get("city"),
            "region": ship.get("province_code") or ship.get("province"),
            "postcode": ship.get("zip"),
            "country": ship.get("country_code"),
            "phone": ship.get("phone"),
        },
        address_problems,
    )
    name = common.full_name(customer.get("first_name"), customer.get("last_name"))
    mapped_customer = common.clean_customer(
        payload.get("email") or payload.get("contact_email") or customer.get("email"),
        name or address["name"],
        customer.get("phone") or payload.get("phone") or "",
        notes,
    )

    cur = common.currency_or_none(payload.get("currency") or payload.get("presentment_currency"))
    lines = []
    items = payload.get("line_items")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        # current_quantity: what is left after order edits (quantity stays as ordered).
        qty = common.quantity(item.get("current_quantity", item.get("quantity")))
        if qty is None or qty < 0:
            problems.append(f"line {common.text(item.get('title'))!r}: bad quantity")
            continue
        if qty == 0:
            continue  # removed by an order edit
        unit_price = common.money(item.get("price"), "line price", problems, cur)
        lines.append(
            MappedLine(
                sku=common.text(item.get("sku"), 64),
                quantity=qty,
                unit_price=unit_price,
                title=common.text(item.get("title") or item.get("name")),
                discount_total=_line_discount(item, qty, unit_price, problems, cur),
            )
        )

    shipping_lines = payload.get("shipping_lines")
    shipping_total = sum(
        (
            common.money(s.get("discounted_price", s.get("price")), "shipping price", problems, cur)
            for s in (shipping_lines if isinstance(shipping_lines, list) else [])
            if isinstance(s, dict)
        ),
        Decimal("0"),
    )
    lines_discount = sum((line.discount_total for line in lines), Decimal("0"))
    order_discount = common.optional_money(payload.get("total_discounts"), cur)
    codes = payload.get("discount_codes")
    codes = [
        common.text(c.get("code"), 64)
        for c in (codes if isinstance(codes, list) else [])
        if isinstance(c, dict) and common.text(c.get("code"))
    ]
    if codes:
        notes.append("discount codes: " + ", ".join(codes))
    tax = payload.get("current_total_tax", payload.get("total_tax"))
    status = common.text(payload.get("financial_status"), 32).lower()
    if status and status not in FINANCIAL:
        notes.append(f"unknown Shopify financial status {status!r}; taken as pending")
    if status == "partially_paid":
        notes.append("Shopify reports the order partially paid")
    cancelled_at = payload.get("cancelled_at")
    return MappedOrder(
        platform=PLATFORM,
        external_id=external_id,
        label=common.text(payload.get("name"), 64) or external_id,
        currency=common.clean_currency(
            payload.get("currency") or payload.get("presentment_currency")
        ),
        customer=mapped_customer,
        address=address,
        lines=lines,
        shipping_total=shipping_total,
        tax_total=common.money(tax, "total_tax", problems, cur),
        discount_total=_order_discount(order_discount, lines_discount, lines),
        financial_status=FINANCIAL.get(status, FS.PENDING),
        refunded_amount=_refunded(payload),
        cancelled=bool(cancelled_at),
        cancel_reason=common.text(payload.get("cancel_reason"), 64),
        placed_at=common.timestamp(payload.get("created_at") or payload.get("processed_at")),
        updated_at=common.timestamp(payload.get("updated_at")),
        platform_total=common.optional_money(
            payload.get("current_total_price", payload.get("total_price")), cur
        ),
        note=common.text(payload.get("note"), 2000),
        problems=problems,
        address_problems=address_problems,
        notes=notes,
    )


def _line_discount(item: dict, qty: int, unit_price, problems: list[str], cur) -> Decimal:
    """The discount on the line: its allocations (``total_discount`` without them),
    scaled to what is left after an order edit, never above the line's value."""
    allocations = item.get("discount_allocations")
    if isinstance(allocations, list) and allocations:
        discount = sum(
            (
                common.money(a.get("amount"), "discount allocation", problems, cur)
                for a in allocations
                if isinstance(a, dict)
            ),
            Decimal("0"),
        )
    else:
        discount = common.money(item.get("total_discount"), "line discount", problems, cur)
    ordered = common.quantity(item.get("quantity"))
    if discount and ordered and ordered > qty:
        discount = quantize_money(discount * qty / ordered, cur)
    value = (unit_price or Decimal("0")) * qty
    if discount > value:
        problems.append(f"line {common.text(item.get('title'))!r}: discount above its value")
        discount = value
    return discount


def _order_discount(order_discount, lines_discount: Decimal, lines) -> Decimal | None:
    """``total_discounts`` when it is more than the lines' allocations (and no more than
    the lines are worth): the rest is an order discount to share over them."""
    if order_discount is None or order_discount <= lines_discount:
        return None
    value = sum(((line.unit_price or Decimal("0")) * line.quantity for line in lines), Decimal("0"))
    return min(order_discount, value)


def _refunded(payload: dict) -> Decimal | None:
    """Money refunded on Shopify: the successful ``refund`` transactions of ``refunds``."""
    cur = common.currency_or_none(payload.get("currency"))
    refunds = payload.get("refunds")
    if not isinstance(refunds, list) or not refunds:
        return None
    total = Decimal("0")
    for refund in refunds:
        transactions = refund.get("transactions") if isinstance(refund, dict) else None
        for tx in transactions if isinstance(transactions, list) else []:
            if (
                isinstance(tx, dict)
                and tx.get("kind") == "refund"
                and tx.get("status") in (None, "success")
            ):
                total += common.optional_money(tx.get("amount"), cur) or Decimal("0")
    return total or None
