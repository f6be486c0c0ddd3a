"""WooCommerce order webhooks: the ping, signed order.created / order.updated, refusals."""

from decimal import Decimal

import pytest

from intake.models import IntakeDelivery
from orders.models import Order
from tests import factories as f
from tests.channels.conftest import fixture

pytestmark = pytest.mark.django_db

CREATED = "woocommerce_order_created.json"
UPDATED = "woocommerce_order_updated.json"


def the_order() -> Order:
    return Order.objects.get(channel__code="woo", external_id="727")


def test_the_unsigned_ping_on_webhook_creation_is_answered_and_nothing_written(shop, platform):
    response = platform.client.post(
        "/api/v1/channels/woo/intake/woocommerce/",
        "webhook_id=12",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert response.json()["status"] == "pong"
    assert not IntakeDelivery.objects.exists()


def test_order_created_places_a_paid_order(shop, platform):
    response = platform.woo(fixture(CREATED))

    assert response.status_code == 200
    assert response.json()["status"] == "processed"
    order = the_order()
    assert (order.status, order.financial_status, order.currency) == ("pending", "paid", "BRL")
    assert {line.sku: line.quantity for line in order.lines.all()} == {"TSHIRT-M": 2, "MUG-01": 1}
    assert [line.unit_price for line in order.lines.order_by("pk")] == [
        Decimal("19.90"),
        Decimal("9.90"),
    ]
    assert (order.shipping_total, order.tax_total, order.total) == (
        Decimal("10.00"),
        Decimal("4.97"),
        Decimal("64.67"),
    )
    assert order.customer.email == "ana.lima@example.com"
    assert (order.ship_name, order.ship_line1, order.ship_line2) == (
        "Ana Lima",
        "Rua A 1",
        "Casa 2",
    )
    assert (order.ship_city, order.ship_region, order.ship_postcode, order.ship_country) == (
        "Campinas",
        "SP",
        "13023-000",
        "BR",
    )
    assert order.placed_at.isoformat() == "2026-11-26T16:28:02+00:00"


@pytest.mark.parametrize(
    ("status", "financial"),
    [("on-hold", "pending"), ("pending", "pending"), ("completed", "paid")],
)
def test_woocommerce_status_maps_to_the_payment_state(shop, platform, status, financial):
    payload = fixture(CREATED)
    payload["status"] = status

    platform.woo(payload)

    assert the_order().financial_status == financial


def test_forged_or_missing_signature_is_refused(shop, platform):
    assert platform.woo(fixture(CREATED), signature=False).status_code == 401
    assert platform.woo(fixture(CREATED), signature="Zm9yZ2Vk").status_code == 401
    assert platform.woo(fixture(CREATED), secret="guess").status_code == 401
    assert not IntakeDelivery.objects.exists()
    assert not Order.objects.exists()


def test_same_delivery_id_twice_makes_one_order(shop, platform):
    platform.woo(fixture(CREATED), delivery_id="d-1")
    second = platform.woo(fixture(CREATED), delivery_id="d-1")

    assert second.json()["status"] == "duplicate"
    assert Order.objects.count() == 1


def test_order_updated_edits_address_and_quantities(shop, platform):
    shop.woo.auto_confirm = True
    shop.woo.save()
    platform.woo(fixture(CREATED))

    response = platform.woo(fixture(UPDATED), topic="order.updated")

    assert response.json()["status"] == "processed", response.json()
    order = the_order()
    assert order.ship_line1 == "Rua B 200"
    assert {line.sku: line.quantity for line in order.lines.all()} == {"TSHIRT-M": 2, "MUG-01": 3}
    assert order.total == Decimal("86.45")
    assert f.quantities(shop.mug, shop.wh) == (10, 3)
    assert "MUG-01 +2" in f.last_event(order, "edited").message
    f.assert_ledger_clean()


def test_order_updated_to_cancelled_cancels(shop, platform):
    shop.woo.auto_confirm = True
    shop.woo.save()
    platform.woo(fixture(CREATED))
    payload = fixture(UPDATED)
    payload["status"] = "cancelled"

    platform.woo(payload, topic="order.updated")

    order = the_order()
    assert (order.status, order.cancel_reason) == (
        "cancelled",
        "cancelled on WooCommerce (status cancelled)",
    )
    assert f.quantities(shop.shirt, shop.wh) == (10, 0)
    f.assert_ledger_clean()


def test_refunded_status_records_the_refund(shop, platform):
    platform.woo(fixture(CREATED))
    payload = fixture(UPDATED)
    payload["line_items"][1]["quantity"] = 1
    payload["total"], payload["total_tax"] = "64.67", "4.97"
    payload["status"] = "refunded"
    payload["refunds"] = [{"id": 730, "reason": "damaged", "total": "-20.00"}]

    platform.woo(payload, topic="order.updated")

    order = the_order()
    assert (order.financial_status, order.refunded_total) == (
        "partially_refunded",
        Decimal("20.00"),
    )
