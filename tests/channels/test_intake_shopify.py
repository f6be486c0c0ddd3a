"""Shopify order webhooks: signed deliveries place, edit and cancel orders; anything
unsigned is refused with nothing written; problems put the order on hold."""

import copy
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from fulfillment.models import Shipment
from fulfillment.services import shipment_start_picking
from intake.inbound.services import channel_rotate_webhook_secret, intake_reprocess
from intake.models import IntakeDelivery, IntakeSecretRotation
from inventory.models import Product
from orders.models import Order, OrderEvent
from tests import factories as f
from tests.channels.conftest import SHOPIFY_SECRET, fixture

pytestmark = pytest.mark.django_db

CREATE = "shopify_orders_create.json"
UPDATED = "shopify_orders_updated.json"
CANCELLED = "shopify_orders_cancelled.json"


def the_order() -> Order:
    return Order.objects.get(channel__code="shopify-eu", external_id="5612345678901")


def open_quantities(order) -> dict[str, int]:
    return {
        line.sku: line.quantity - line.quantity_cancelled
        for line in order.lines.order_by("pk")
        if line.quantity > line.quantity_cancelled
    }


# --------------------------------------------------------------------------- create


def test_orders_create_places_the_order_as_shopify_describes_it(shop, platform):
    response = platform.shopify(fixture(CREATE), webhook_id="wh-1")

    assert response.status_code == 200, response.content
    order = the_order()
    assert response.json() == {
        "status": "processed",
        "message": f"Placed #1001 as {order.number}",
        "order": order.number,
        "delivery": IntakeDelivery.objects.get().pk,
    }
    assert order.status == "pending" and order.financial_status == "paid"
    assert open_quantities(order) == {"TSHIRT-M": 2, "MUG-01": 1}
    assert [str(line.unit_price) for line in order.lines.order_by("pk")] == ["19.90", "9.90"]
    assert (order.subtotal, order.shipping_total, order.tax_total, order.total) == (
        Decimal("49.70"),
        Decimal("5.00"),
        Decimal("10.00"),
        Decimal("64.70"),
    )
    assert order.currency == "USD"
    assert order.customer.email == "bob.norman@mail.example.com"
    assert order.customer.name == "Bob Norman"
    assert (order.ship_name, order.ship_line1, order.ship_line2, order.ship_city) == (
        "Bob Norman",
        "Chestnut Street 92",
        "Apt 3",
        "Louisville",
    )
    assert (order.ship_region, order.ship_postcode, order.ship_country) == ("KY", "40202", "US")
    assert order.placed_at == timezone.datetime.fromisoformat("2026-11-26T15:00:00+00:00")
    assert order.notes == "Leave at the door"
    delivery = IntakeDelivery.objects.get()
    assert (delivery.status, delivery.topic, delivery.delivery_id, delivery.order) == (
        "processed",
        "orders/create",
        "wh-1",
        order,
    )
    assert '"sku": "TSHIRT-M"' in delivery.body  # the raw payload, kept for audit
    assert delivery.headers["X-Shopify-Shop-Domain"] == "example.myshopify.com"


def test_auto_confirm_channel_confirms_and_reserves_the_stock(shop, platform):
    shop.shopify.auto_confirm = True
    shop.shopify.save()

    platform.shopify(fixture(CREATE))

    order = the_order()
    assert (order.status, order.allocation_status) == ("confirmed", "allocated")
    assert f.quantities(shop.shirt, shop.wh) == (10, 2)
    assert f.quantities(shop.mug, shop.wh) == (10, 1)
    f.assert_ledger_clean()


def test_repeated_delivery_makes_no_second_order(shop, platform):
    first = platform.shopify(fixture(CREATE), webhook_id="wh-dup")
    again = platform.shopify(fixture(CREATE), webhook_id="wh-dup")
    # Shopify may also send the same order under another webhook id
    other = platform.shopify(fixture(CREATE), webhook_id="wh-other")

    assert first.json()["status"] == "processed"
    assert again.json()["status"] == "duplicate"
    assert again.json()["order"] == first.json()["order"]
    assert other.json()["status"] == "processed"
    assert other.json()["order"] == first.json()["order"]
    assert Order.objects.filter(channel=shop.shopify).count() == 1
    assert IntakeDelivery.objects.get(delivery_id="wh-dup").duplicates == 1
    assert IntakeDelivery.objects.count() == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"signature": False},
        {"signature": "bm90IHRoZSByaWdodCBzaWduYXR1cmU="},
        {"secret": "another-shops-secret"},
        {"channel": "no-such-channel"},
    ],
    ids=["missing", "forged", "wrong-secret", "unknown-channel"],
)
def test_unsigned_or_mis_signed_delivery_is_refused_and_nothing_written(shop, platform, kwargs):
    response = platform.shopify(fixture(CREATE), **kwargs)

    assert response.status_code == 401
    assert response.json() == {"detail": "Missing or invalid webhook signature."}
    assert not IntakeDelivery.objects.exists()
    assert not Order.objects.exists()


def test_a_tampered_body_fails_the_signature(shop, platform):
    from intake.inbound.common import base64_hmac
    from tests.channels.conftest import body_of

    signed = base64_hmac(SHOPIFY_SECRET, body_of(fixture(CREATE)))
    tampered = fixture(CREATE)
    tampered["line_items"][0]["quantity"] = 200

    assert platform.shopify(tampered, signature=signed).status_code == 401
    assert not Order.objects.exists()


def test_channel_without_secret_refuses_everything(shop, platform):
    shop.shopify.webhook_secret = ""
    shop.shopify.save()

    assert platform.shopify(fixture(CREATE), secret="").status_code == 401
    assert not IntakeDelivery.objects.exists()


# --------------------------------------------------------------------------- problems


def test_unknown_sku_lands_on_hold_with_the_reason(shop, platform):
    payload = fixture(CREATE)
    payload["line_items"][1]["sku"] = "POSTER-XL"
    payload["line_items"][1]["title"] = "Poster XL"

    response = platform.shopify(payload)

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "needs_attention"
    order = the_order()
    assert order.status == "on_hold"
    assert order.hold_reason == "Intake: unknown SKU POSTER-XL"
    # The order is complete: the unknown line keeps Shopify's SKU, title and price...
    assert open_quantities(order) == {"TSHIRT-M": 2, "POSTER-XL": 1}
    poster = order.lines.get(sku="POSTER-XL")
    assert (poster.name, poster.unit_price, poster.product.sku) == (
        "Poster XL",
        Decimal("9.90"),
        "UNMAPPED-ITEM",
    )
    assert order.total == Decimal("64.70")
    # ...and nothing is reserved for it.
    assert order.allocation_status == "unallocated"
    assert f.quantities(shop.shirt, shop.wh) == (10, 0)
    assert IntakeDelivery.objects.get().status == "needs_attention"
    assert "unknown SKU POSTER-XL" in IntakeDelivery.objects.get().message
    held = f.last_event(order, "held")
    assert held.data == {"intake_problems": ["unknown SKU POSTER-XL"]}


def test_reprocessing_after_the_product_exists_fixes_the_order_and_releases_it(shop, platform):
    shop.shopify.auto_confirm = True
    shop.shopify.save()
    payload = fixture(CREATE)
    payload["line_items"][1]["sku"] = "POSTER-XL"
    platform.shopify(payload)
    poster = f.make_product("POSTER-XL", price="9.90")
    f.receive(poster, shop.wh, 5)

    result = intake_reprocess(delivery=IntakeDelivery.objects.get())

    order = the_order()
    assert result.status == "processed", result.message
    assert (order.status, order.hold_reason) == ("confirmed", "")
    assert open_quantities(order) == {"TSHIRT-M": 2, "POSTER-XL": 1}
    line = order.lines.get(sku="POSTER-XL")
    assert (line.product, line.name, line.quantity_cancelled) == (poster, poster.name, 0)
    assert "POSTER-XL is now product POSTER-XL" in f.last_event(order, "edited").message
    assert order.total == Decimal("64.70")
    assert f.quantities(poster, shop.wh) == (5, 1)
    assert f.quantities(shop.shirt, shop.wh) == (10, 2)
    f.assert_ledger_clean()


def test_missing_shipping_address_holds_the_order(shop, platform):
    payload = fixture(CREATE)
    payload["shipping_address"] = None

    assert platform.shopify(payload).json()["status"] == "needs_attention"

    order = the_order()
    assert (order.status, order.hold_reason) == ("on_hold", "Intake: no shipping address")


def test_a_payload_that_is_no_order_is_kept_for_attention(shop, platform):
    response = platform.shopify({"hello": "world"})

    assert response.json()["status"] == "needs_attention"
    delivery = IntakeDelivery.objects.get()
    assert delivery.body == '{"hello": "world"}'
    assert "no id" in delivery.message
    assert not Order.objects.exists()


def test_unhandled_topic_is_recorded_and_ignored(shop, platform):
    response = platform.shopify(fixture(CREATE), topic="orders/fulfilled")

    assert response.json()["status"] == "ignored"
    assert not Order.objects.exists()


# --------------------------------------------------------------------------- updates


def test_orders_updated_applies_the_address_and_quantities_as_an_edit(shop, platform):
    shop.shopify.auto_confirm = True
    shop.shopify.save()
    platform.shopify(fixture(CREATE))
    order = the_order()
    first_shipment = order.shipments.get()

    response = platform.shopify(fixture(UPDATED), topic="orders/updated")

    assert response.json()["status"] == "processed", response.json()
    order.refresh_from_db()
    assert (order.ship_line1, order.ship_line2, order.ship_postcode) == (
        "Elm Street 7",
        "",
        "40204",
    )
    assert open_quantities(order) == {"TSHIRT-M": 1, "MUG-01": 1}
    assert (order.subtotal, order.tax_total, order.total) == (
        Decimal("29.80"),
        Decimal("6.00"),
        Decimal("40.80"),
    )
    edited = f.last_event(order, "edited")
    assert "Edited on Shopify (#1001)" in edited.message
    assert "TSHIRT-M -1" in edited.message and "address (line1, line2, postcode)" in edited.message
    # Reservations follow: the old shipment was cancelled, the order routed again.
    first_shipment.refresh_from_db()
    assert first_shipment.status == "cancelled"
    assert order.status == "confirmed" and order.allocation_status == "allocated"
    assert f.quantities(shop.shirt, shop.wh) == (10, 1)
    assert f.quantities(shop.mug, shop.wh) == (10, 1)
    f.assert_ledger_clean()


def test_an_edit_made_on_shopify_is_not_sent_back_to_it(shop, platform):
    """A connected channel hears staff edits (intake.sync.order_edits), never its own."""
    from intake.models import ChannelOutbox

    shop.shopify.platform = "shopify"
    shop.shopify.api_url = "http://127.0.0.1:9"
    shop.shopify.access_token = "shpat_unused"
    shop.shopify.push_fulfillments = True
    shop.shopify.save()
    platform.shopify(fixture(CREATE))

    response = platform.shopify(fixture(UPDATED), topic="orders/updated")

    assert response.json()["status"] == "processed", response.json()
    assert "Edited on Shopify" in f.last_event(the_order(), "edited").message
    assert not ChannelOutbox.objects.filter(kind=ChannelOutbox.Kind.EDIT).exists()


def test_increasing_a_quantity_reserves_more(shop, platform):
    shop.shopify.auto_confirm = True
    shop.shopify.save()
    platform.shopify(fixture(CREATE))
    payload = fixture(UPDATED)
    payload["line_items"][0]["current_quantity"] = 4

    platform.shopify(payload, topic="orders/updated")

    order = the_order()
    assert open_quantities(order) == {"TSHIRT-M": 4, "MUG-01": 1}
    assert order.lines.get(sku="TSHIRT-M").quantity == 4
    assert f.quantities(shop.shirt, shop.wh) == (10, 4)
    assert order.total == Decimal("4") * Decimal("19.90") + Decimal("9.90") + 5 + 6
    f.assert_ledger_clean()


def test_repeated_update_changes_nothing_more(shop, platform):
    platform.shopify(fixture(CREATE))
    platform.shopify(fixture(UPDATED), topic="orders/updated")
    events = f.event_kinds(the_order())

    response = platform.shopify(fixture(UPDATED), topic="orders/updated")

    assert response.json()["message"].endswith("no change")
    assert f.event_kinds(the_order()) == events


def test_an_older_update_arriving_late_is_ignored_as_stale(shop, platform):
    platform.shopify(fixture(CREATE))
    platform.shopify(fixture(UPDATED), topic="orders/updated")
    late = fixture(CREATE)  # updated_at before the update already applied

    response = platform.shopify(late, topic="orders/updated")

    assert response.json()["status"] == "ignored"
    assert open_quantities(the_order()) == {"TSHIRT-M": 1, "MUG-01": 1}


def test_update_arriving_before_create_places_the_order(shop, platform):
    platform.shopify(fixture(UPDATED), topic="orders/updated")
    response = platform.shopify(fixture(CREATE), topic="orders/create")

    assert Order.objects.count() == 1
    assert open_quantities(the_order()) == {"TSHIRT-M": 1, "MUG-01": 1}
    assert response.json()["status"] == "ignored"  # older than what was applied


def test_edit_after_picking_started_is_not_applied_and_holds_the_order(shop, platform):
    shop.shopify.auto_confirm = True
    shop.shopify.save()
    platform.shopify(fixture(CREATE))
    shipment = the_order().shipments.get()
    shipment_start_picking(shipment=shipment)

    response = platform.shopify(fixture(UPDATED), topic="orders/updated")

    assert response.json()["status"] == "needs_attention"
    order = the_order()
    assert order.status == "on_hold"
    assert "after picking started" in order.hold_reason
    assert open_quantities(order) == {"TSHIRT-M": 2, "MUG-01": 1}
    assert Shipment.objects.get(pk=shipment.pk).status == "picking"
    f.assert_ledger_clean()


def test_payment_moves_with_the_platform(shop, platform):
    payload = fixture(CREATE)
    payload["financial_status"] = "authorized"
    platform.shopify(payload)
    assert the_order().financial_status == "authorized"
    paid = fixture(UPDATED)
    paid["financial_status"] = "paid"

    platform.shopify(paid, topic="orders/updated")

    assert the_order().financial_status == "paid"


# --------------------------------------------------------------------------- cancel


def test_orders_cancelled_cancels_releases_stock_and_records_the_refund(shop, platform):
    shop.shopify.auto_confirm = True
    shop.shopify.save()
    platform.shopify(fixture(CREATE))
    assert f.quantities(shop.shirt, shop.wh) == (10, 2)

    response = platform.shopify(fixture(CANCELLED), topic="orders/cancelled")

    assert response.json()["status"] == "processed", response.json()
    order = the_order()
    assert order.status == "cancelled"
    assert order.cancel_reason == "cancelled on Shopify (customer)"
    assert (order.financial_status, order.refunded_total) == ("refunded", Decimal("64.70"))
    assert f.quantities(shop.shirt, shop.wh) == (10, 0)
    assert f.quantities(shop.mug, shop.wh) == (10, 0)
    f.assert_ledger_clean()
    again = platform.shopify(fixture(CANCELLED), topic="orders/cancelled")
    assert again.json()["message"].endswith("already cancelled")


def test_cancel_of_a_shipped_order_needs_attention(shop, platform):
    from fulfillment.services import shipment_ship

    shop.shopify.auto_confirm = True
    shop.shopify.save()
    platform.shopify(fixture(CREATE))
    shipment_ship(shipment=the_order().shipments.get())

    response = platform.shopify(fixture(CANCELLED), topic="orders/cancelled")

    assert response.json()["status"] == "needs_attention"
    order = the_order()
    assert order.status == "shipped"
    assert "not cancelled here" in f.last_event(order, OrderEvent.Kind.NOTE).message


# --------------------------------------------------------------------------- secrets


def test_previous_secret_is_accepted_for_the_grace_period_after_rotation(shop, platform):
    new_secret = channel_rotate_webhook_secret(channel=shop.shopify)

    assert new_secret != SHOPIFY_SECRET
    assert platform.shopify(fixture(CREATE), secret=new_secret).status_code == 200
    assert platform.shopify(fixture(CREATE), secret=SHOPIFY_SECRET).status_code == 200
    IntakeSecretRotation.objects.update(rotated_at=timezone.now() - timedelta(hours=25))
    assert platform.shopify(fixture(CREATE), secret=SHOPIFY_SECRET).status_code == 401
    assert platform.shopify(fixture(CREATE), secret=new_secret).status_code == 200


def test_placeholder_sku_sent_by_a_platform_is_not_taken_as_known(shop, platform):
    payload = copy.deepcopy(fixture(CREATE))
    platform.shopify(payload)  # nothing unknown: no placeholder product yet
    assert not Product.objects.filter(sku="UNMAPPED-ITEM").exists()
    payload["id"] = 77
    payload["line_items"][0]["sku"] = "UNMAPPED-ITEM"

    platform.shopify(payload)

    order = Order.objects.get(external_id="77")
    assert order.hold_reason == "Intake: unknown SKU UNMAPPED-ITEM"
