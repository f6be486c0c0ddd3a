"""Channel orders with discounts: the order's total is what the customer was charged,
each line keeps its discount, and refunds are bounded by what was captured."""

import copy
from decimal import Decimal

import pytest

from kernel.exceptions import Conflict
from orders.models import Order, OrderEvent
from returns.services import refund_create
from tests.channels.conftest import fixture

pytestmark = pytest.mark.django_db


def shopify_with_a_10_discount() -> dict:
    """The documented order (two T-shirts at 19.90, a mug at 9.90, 5.00 shipping, 10.00
    tax) with a 10.00 code discount allocated 8.00 / 2.00 over the lines: Shopify says
    the customer paid 54.70."""
    payload = copy.deepcopy(fixture("shopify_orders_create.json"))
    payload["discount_codes"] = [{"code": "WELCOME10", "amount": "10.00", "type": "fixed_amount"}]
    payload["total_discounts"] = payload["current_total_discounts"] = "10.00"
    payload["subtotal_price"] = payload["current_subtotal_price"] = "39.70"
    payload["total_price"] = payload["current_total_price"] = "54.70"
    shirt, mug = payload["line_items"]
    shirt["total_discount"] = "8.00"
    shirt["discount_allocations"] = [
        {"amount": "8.00", "discount_application_index": 0, "amount_set": {}}
    ]
    mug["total_discount"] = "2.00"
    mug["discount_allocations"] = [
        {"amount": "2.00", "discount_application_index": 0, "amount_set": {}}
    ]
    return payload


def test_a_shopify_discount_is_kept_per_line_and_the_total_is_what_was_charged(shop, platform):
    response = platform.shopify(shopify_with_a_10_discount())

    assert response.status_code == 200, response.content
    order = Order.objects.get(channel__code="shopify-eu")
    assert (order.subtotal, order.discount_total, order.total) == (
        Decimal("49.70"),
        Decimal("10.00"),
        Decimal("54.70"),
    )
    lines = {line.sku: line for line in order.lines.all()}
    assert (lines["TSHIRT-M"].discount_total, lines["TSHIRT-M"].paid_total) == (
        Decimal("8.00"),
        Decimal("31.80"),
    )
    assert lines["MUG-01"].paid_total == Decimal("7.90")
    # Shopify's total matches ours: no "differs" note; the code is on the timeline
    notes = list(order.events.filter(kind=OrderEvent.Kind.NOTE).values_list("message", flat=True))
    assert not any("differs" in n for n in notes)
    assert any("WELCOME10" in n for n in notes)
    # paid on Shopify: the capture is what was charged, and bounds the refunds
    assert list(order.payments.values_list("kind", "amount")) == [("captured", Decimal("54.70"))]
    with pytest.raises(Conflict, match=r"exceeds what is left to refund .* \(54.70 USD\)"):
        refund_create(order=order, amount=Decimal("64.70"))
    refund_create(order=order, amount=Decimal("54.70"))
    order.refresh_from_db()
    assert order.financial_status == "refunded"


def test_a_shopify_total_discounts_without_allocations_is_shared_over_the_lines(shop, platform):
    payload = shopify_with_a_10_discount()
    for item in payload["line_items"]:
        item["discount_allocations"] = []
        item["total_discount"] = "0.00"

    platform.shopify(payload)

    order = Order.objects.get(channel__code="shopify-eu")
    assert (order.discount_total, order.total) == (Decimal("10.00"), Decimal("54.70"))
    shares = {line.sku: line.discount_total for line in order.lines.all()}
    # in proportion to the lines' values (39.80 and 9.90 of 49.70), summing to 10.00
    assert shares == {"TSHIRT-M": Decimal("8.01"), "MUG-01": Decimal("1.99")}


def test_a_shopify_edit_that_changes_the_discount_changes_the_total(shop, platform):
    platform.shopify(shopify_with_a_10_discount())
    edited = shopify_with_a_10_discount()
    edited["updated_at"] = "2026-11-26T11:00:00-05:00"
    edited["line_items"][0]["discount_allocations"][0]["amount"] = "4.00"
    edited["total_discounts"] = "6.00"
    edited["total_price"] = edited["current_total_price"] = "58.70"

    response = platform.shopify(edited, topic="orders/updated")

    assert response.status_code == 200, response.content
    order = Order.objects.get(channel__code="shopify-eu")
    assert (order.discount_total, order.total) == (Decimal("6.00"), Decimal("58.70"))
    assert order.lines.get(sku="TSHIRT-M").discount_total == Decimal("4.00")


def woo_with_a_coupon() -> dict:
    """WooCommerce's order with a 10% coupon: line subtotal before, total after it."""
    payload = copy.deepcopy(fixture("woocommerce_order_created.json"))
    shirt, mug = payload["line_items"]
    shirt.update(subtotal="39.80", total="35.82", price=17.91)
    mug.update(subtotal="9.90", total="8.91", price=8.91)
    payload["discount_total"] = "4.97"
    payload["coupon_lines"] = [{"id": 320, "code": "summer10", "discount": "4.97"}]
    payload["total"] = "59.70"  # 44.73 + 10.00 shipping + 4.97 tax
    return payload


def test_a_woocommerce_coupon_is_kept_per_line_and_the_total_is_what_was_charged(shop, platform):
    response = platform.woo(woo_with_a_coupon())

    assert response.status_code == 200, response.content
    order = Order.objects.get(channel__code="woo")
    assert order.currency == "BRL"
    assert (order.subtotal, order.discount_total, order.total) == (
        Decimal("49.70"),
        Decimal("4.97"),
        Decimal("59.70"),
    )
    lines = {line.sku: line for line in order.lines.all()}
    # the unit price is the one before the coupon; the line keeps its discount
    assert (lines["TSHIRT-M"].unit_price, lines["TSHIRT-M"].discount_total) == (
        Decimal("19.90"),
        Decimal("3.98"),
    )
    assert lines["MUG-01"].paid_total == Decimal("8.91")
    notes = list(order.events.filter(kind=OrderEvent.Kind.NOTE).values_list("message", flat=True))
    assert any("summer10" in n for n in notes)
    assert not any("differs" in n for n in notes)
    # processing = paid: captured what was charged
    assert order.financial_status == "paid"
    assert list(order.payments.values_list("kind", "amount")) == [("captured", Decimal("59.70"))]


def test_a_discount_changes_the_intake_fingerprint(shop):
    from orders.services import intake_fingerprint

    same = {
        "currency": "EUR",
        "customer": {"email": "a@example.com"},
        "address": {},
        "shipping_total": Decimal("5.00"),
        "tax_total": Decimal("0"),
    }
    plain = intake_fingerprint(lines=[("SKU", 1, Decimal("10.00"))], **same)
    assert plain == intake_fingerprint(lines=[("SKU", 1, Decimal("10.00"), Decimal("0"))], **same)
    discounted = intake_fingerprint(
        lines=[("SKU", 1, Decimal("10.00"), Decimal("2.00"))],
        discount_total=Decimal("2.00"),
        **same,
    )
    assert discounted != plain
