"""Reconciliation: orders whose webhook was lost come in through the poll, once."""

import json
from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from intake.inbound.services import intake_receive
from intake.models import ChannelSyncState
from intake.sync.reconcile import channel_orders_reconcile
from orders.models import Order
from tests import factories as f

pytestmark = pytest.mark.django_db


def money(amount):
    return {"shopMoney": {"amount": amount}}


def shopify_node(legacy_id, updated_at, *, sku="MUG-01", quantity=2):
    return {
        "legacyResourceId": legacy_id,
        "name": f"#{legacy_id[-4:]}",
        "email": "ana@example.com",
        "currencyCode": "BRL",
        "displayFinancialStatus": "PAID",
        "createdAt": "2026-12-01T09:00:00Z",
        "updatedAt": updated_at,
        "cancelledAt": None,
        "cancelReason": None,
        "note": None,
        "currentTotalPriceSet": money(f"{quantity * 10 + 5}.00"),
        "currentTotalTaxSet": money("0.00"),
        "totalShippingPriceSet": money("5.00"),
        "totalRefundedSet": money("0.00"),
        "customer": {
            "firstName": "Ana",
            "lastName": "Lima",
            "email": "ana@example.com",
            "phone": None,
        },
        "shippingAddress": {
            "name": "Ana Lima",
            "firstName": "Ana",
            "lastName": "Lima",
            "address1": "Rua A 1",
            "address2": "",
            "city": "Campinas",
            "provinceCode": "SP",
            "zip": "13023-000",
            "countryCodeV2": "BR",
            "phone": None,
        },
        "lineItems": {
            "nodes": [
                {
                    "sku": sku,
                    "title": "Mug",
                    "quantity": quantity,
                    "currentQuantity": quantity,
                    "originalUnitPriceSet": money("10.00"),
                }
            ]
        },
    }


def test_lost_shopify_webhook_is_recovered_by_the_poll_exactly_once(
    fake_shopify, shopify_channel, warehouses
):
    sp, _ = warehouses
    f.receive(f.make_product("MUG-01"), sp, 10)
    for legacy, stamp in (("6001", "2026-12-01T10:00:00Z"), ("6002", "2026-12-01T11:00:00Z")):
        fake_shopify.add_order(legacy, shopify_node(legacy, stamp), [])
    # 6001's webhook arrived; 6002's was lost.
    from intake.sync.reconcile import shopify_order_resource

    intake_receive(
        channel=shopify_channel,
        platform="shopify",
        topic="orders/create",
        delivery_id="wh-6001",
        body=json.dumps(shopify_order_resource(fake_shopify.orders["6001"])).encode(),
        headers={},
    )
    since = datetime(2026, 12, 1, tzinfo=UTC)

    report = channel_orders_reconcile(channel=shopify_channel, since=since)

    assert report["fetched"] == 2
    recovered = Order.objects.get(channel=shopify_channel, external_id="6002")
    assert report["only_by_poll"] == [{"external_id": "6002", "order": recovered.number}]
    assert recovered.total == 25 and recovered.lines.get().quantity == 2
    assert recovered.ship_city == "Campinas" and recovered.financial_status == "paid"

    again = channel_orders_reconcile(channel=shopify_channel, since=since)
    assert again["only_by_poll"] == []
    assert Order.objects.filter(channel=shopify_channel).count() == 2
    state = ChannelSyncState.objects.get(channel=shopify_channel)
    assert state.reconcile_cursor == datetime(2026, 12, 1, 11, tzinfo=UTC)
    assert state.last_reconcile_report["fetched"] == 2
    query = [r for r in fake_shopify.requests if "orders(" in r["body"]["query"]][0]
    assert query["body"]["variables"]["query"] == "updated_at:>='2026-12-01T00:00:00Z'"


def woo_order(order_id, modified):
    return {
        "id": order_id,
        "number": str(order_id),
        "status": "processing",
        "currency": "BRL",
        "total": "25.00",
        "total_tax": "0.00",
        "shipping_total": "5.00",
        "billing": {"email": "bia@example.com", "first_name": "Bia", "last_name": "Souza"},
        "shipping": {
            "first_name": "Bia",
            "last_name": "Souza",
            "address_1": "Rua B 2",
            "city": "Curitiba",
            "state": "PR",
            "postcode": "80010-000",
            "country": "BR",
        },
        "line_items": [{"sku": "MUG-01", "quantity": 2, "price": "10.00", "name": "Mug"}],
        "date_created_gmt": "2026-12-01T09:00:00",
        "date_modified_gmt": modified,
    }


def test_lost_woocommerce_webhook_is_recovered_by_the_command(
    fake_woo, woo_channel, warehouses, capsys
):
    sp, _ = warehouses
    f.receive(f.make_product("MUG-01"), sp, 10)
    fake_woo.orders[8001] = woo_order(8001, "2026-12-01T10:00:00")

    call_command("reconcile_channel_orders", "woo-br", "--since", "2026-12-01T00:00:00Z")
    call_command("reconcile_channel_orders", "woo-br", "--since", "2026-12-01T00:00:00Z")

    assert Order.objects.filter(channel=woo_channel, external_id="8001").count() == 1
    out = capsys.readouterr().out
    assert "only the poll found: 8001" in out
    request = [r for r in fake_woo.requests if r["path"] == "/wp-json/wc/v3/orders"][0]
    assert "modified_after=2026-12-01T00%3A00%3A00" in request["query"]
