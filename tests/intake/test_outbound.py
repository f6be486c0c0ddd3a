"""Shipments, cancellations and refunds in the OMS reach the channel after commit."""

from decimal import Decimal

import pytest
from django.db import transaction

from fulfillment.models import Carrier, Shipment
from fulfillment.services import order_cancel_and_release, shipment_ship
from intake.models import ChannelOutbox
from intake.sync.outbound import channel_outbox_deliver_due
from returns.services import refund_create
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def split_order(warehouses, request):
    """MUG-01 x2 only at SP-01 and CAP-01 x1 only at RJ-01: two shipments."""
    channel = request.getfixturevalue(request.param)
    sp, rj = warehouses
    mug, cap = f.make_product("MUG-01"), f.make_product("CAP-01")
    f.receive(mug, sp, 5)
    f.receive(cap, rj, 5)
    Carrier.objects.create(
        code="correios",
        name="Correios",
        tracking_url_template="https://rastreamento.correios.com.br/app/index.php?objeto={tracking}",
    )
    order = f.place(
        [(mug, 2), (cap, 1)],
        channel_code=channel.code,
        external_id="5001" if channel.platform == "shopify" else "7001",
        financial_status="paid",
    )
    f.confirm(order)
    return channel, order


def shopify_order(fake):
    fake.add_order(
        "5001",
        {"legacyResourceId": "5001", "updatedAt": "2026-12-01T10:00:00Z"},
        [
            {
                "id": "gid://shopify/FulfillmentOrder/61",
                "status": "OPEN",
                "assignedLocation": {"location": {"id": fake.LOCATION}},
                "lineItems": {
                    "nodes": [
                        {
                            "id": "gid://shopify/FulfillmentOrderLineItem/611",
                            "sku": "MUG-01",
                            "remainingQuantity": 2,
                        },
                        {
                            "id": "gid://shopify/FulfillmentOrderLineItem/612",
                            "sku": "CAP-01",
                            "remainingQuantity": 1,
                        },
                    ]
                },
            }
        ],
    )


def ship(order, code, tracking, capture):
    shipment = Shipment.objects.get(order=order, warehouse__code=code)
    with capture(execute=True):
        shipment_ship(shipment=shipment, carrier="correios", tracking_number=tracking)
    return shipment


@pytest.mark.parametrize("split_order", ["shopify_channel"], indirect=True)
def test_split_shipment_fulfils_only_its_lines_on_shopify(
    fake_shopify, split_order, django_capture_on_commit_callbacks
):
    channel, order = split_order
    shopify_order(fake_shopify)

    ship(order, "SP-01", "AA123456789BR", django_capture_on_commit_callbacks)

    (first,) = fake_shopify.fulfillments
    assert first["lineItemsByFulfillmentOrder"] == [
        {
            "fulfillmentOrderId": "gid://shopify/FulfillmentOrder/61",
            "fulfillmentOrderLineItems": [
                {"id": "gid://shopify/FulfillmentOrderLineItem/611", "quantity": 2}
            ],
        }
    ]
    assert first["trackingInfo"] == {
        "company": "Correios",
        "number": "AA123456789BR",
        "url": "https://rastreamento.correios.com.br/app/index.php?objeto=AA123456789BR",
    }
    fo = fake_shopify.fulfillment_orders["5001"][0]
    assert fo["status"] == "IN_PROGRESS"  # partially fulfilled on the store

    ship(order, "RJ-01", "BB123456789BR", django_capture_on_commit_callbacks)

    assert len(fake_shopify.fulfillments) == 2 and fo["status"] == "CLOSED"
    assert set(ChannelOutbox.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.parametrize("split_order", ["woo_channel"], indirect=True)
def test_woocommerce_gets_a_tracking_note_per_shipment_and_completed_at_the_end(
    fake_woo, split_order, django_capture_on_commit_callbacks
):
    channel, order = split_order
    fake_woo.orders[7001] = {"id": 7001, "status": "processing", "date_modified_gmt": ""}

    ship(order, "SP-01", "AA123456789BR", django_capture_on_commit_callbacks)
    assert fake_woo.orders[7001]["status"] == "processing"
    (note,) = fake_woo.notes[7001]
    assert note["customer_note"] is True and "AA123456789BR" in note["note"]
    assert "Correios" in note["note"] and "objeto=AA123456789BR" in note["note"]

    ship(order, "RJ-01", "BB123456789BR", django_capture_on_commit_callbacks)
    assert fake_woo.orders[7001]["status"] == "completed"
    assert len(fake_woo.notes[7001]) == 2


@pytest.mark.parametrize("split_order", ["shopify_channel"], indirect=True)
def test_cancelling_in_the_oms_cancels_on_shopify(
    fake_shopify, split_order, django_capture_on_commit_callbacks
):
    channel, order = split_order
    shopify_order(fake_shopify)

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel_and_release(order=order, reason="customer asked")

    (cancel,) = fake_shopify.cancels
    assert cancel["orderId"] == "gid://shopify/Order/5001" and cancel["restock"] is True
    assert ChannelOutbox.objects.get().status == "sent"


@pytest.mark.parametrize("split_order", ["woo_channel"], indirect=True)
def test_cancelling_in_the_oms_cancels_on_woocommerce_but_not_a_platform_cancel(
    fake_woo, split_order, django_capture_on_commit_callbacks
):
    channel, order = split_order
    fake_woo.orders[7001] = {"id": 7001, "status": "processing", "date_modified_gmt": ""}

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel_and_release(order=order, reason="out of stock")
    assert fake_woo.orders[7001]["status"] == "cancelled"

    other = f.place([(f.make_product("PEN-01"), 1)], channel_code=channel.code, external_id="7002")
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel_and_release(order=other, reason="cancelled on WooCommerce")
    assert ChannelOutbox.objects.filter(order=other).count() == 0


@pytest.mark.parametrize("split_order", ["woo_channel"], indirect=True)
def test_refund_is_recorded_on_woocommerce(
    fake_woo, split_order, django_capture_on_commit_callbacks
):
    channel, order = split_order
    fake_woo.orders[7001] = {"id": 7001, "status": "processing", "date_modified_gmt": ""}

    with django_capture_on_commit_callbacks(execute=True):
        refund_create(order=order, amount=Decimal("5.00"), reference="goodwill")

    (refund,) = fake_woo.refunds[7001]
    assert refund["amount"] == "5.00" and refund["api_refund"] is False


@pytest.mark.parametrize("split_order", ["shopify_channel"], indirect=True)
def test_refund_is_created_on_shopify_against_the_sale(
    fake_shopify, split_order, django_capture_on_commit_callbacks
):
    channel, order = split_order
    shopify_order(fake_shopify)

    with django_capture_on_commit_callbacks(execute=True):
        refund_create(order=order, amount=Decimal("5.00"), reference="goodwill")

    (refund,) = fake_shopify.refunds
    assert refund["transactions"][0]["parentId"] == "gid://shopify/OrderTransaction/50011"
    assert refund["transactions"][0]["amount"] == "5.00"


@pytest.mark.parametrize("split_order", ["shopify_channel"], indirect=True)
def test_platform_down_keeps_the_fulfillment_pending_and_retries(
    fake_shopify, split_order, django_capture_on_commit_callbacks, settings
):
    channel, order = split_order
    shopify_order(fake_shopify)
    fake_shopify.fail_next(503, times=settings.OMS_CHANNEL_ATTEMPTS)

    ship(order, "SP-01", "AA123456789BR", django_capture_on_commit_callbacks)

    row = ChannelOutbox.objects.get()
    assert row.status == "pending" and "HTTP 503" in row.last_error and row.attempts == 1
    assert fake_shopify.fulfillments == []
    ChannelOutbox.objects.update(next_attempt_at=row.created_at)
    channel_outbox_deliver_due()
    row.refresh_from_db()
    assert row.status == "sent" and len(fake_shopify.fulfillments) == 1


@pytest.mark.parametrize("split_order", ["shopify_channel"], indirect=True)
def test_rolled_back_shipment_tells_the_channel_nothing(fake_shopify, split_order):
    channel, order = split_order
    shopify_order(fake_shopify)
    shipment = Shipment.objects.get(order=order, warehouse__code="SP-01")

    with pytest.raises(RuntimeError), transaction.atomic():
        shipment_ship(shipment=shipment, carrier="correios", tracking_number="AA1")
        raise RuntimeError("printer on fire")

    assert not ChannelOutbox.objects.exists()
    assert channel_outbox_deliver_due() == 0 and fake_shopify.fulfillments == []
