"""Reconciliation: ask the channel for the orders updated since its cursor and pass each
through the same intake as the webhooks (``intake.inbound.services.intake_receive``:
kept as a delivery, idempotent by the platform's order id), so an order whose webhook
was lost arrives exactly once, and one that did arrive is only brought up to date.

Shopify: ``orders(first: 50, query: "updated_at:>='<cursor>'", sortKey: UPDATED_AT)``
pages; each order node is turned into the order resource the webhooks carry (``id``
is the ``legacyResourceId``). WooCommerce: ``GET /orders?modified_after=<cursor>``
pages of 100, already the webhook's order resource.

The report (kept on ``ChannelSyncState.last_reconcile_report``) lists the orders only
the poll found (created by it), and counts the others.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from intake.inbound import services as intake_services
from intake.inbound import shopify as shopify_intake
from intake.inbound import woocommerce as woo_intake
from intake.models import ChannelSyncState
from intake.sync.http import ShopifyClient, Transport, client_for
from orders.models import Channel, Order

DEFAULT_LOOKBACK = timedelta(days=1)

ORDERS = """
query Orders($after: String, $query: String) {
  orders(first: 50, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      legacyResourceId
      name
      email
      currencyCode
      displayFinancialStatus
      createdAt
      updatedAt
      cancelledAt
      cancelReason
      note
      currentTotalPriceSet { shopMoney { amount } }
      currentTotalTaxSet { shopMoney { amount } }
      totalShippingPriceSet { shopMoney { amount } }
      totalRefundedSet { shopMoney { amount } }
      customer { firstName lastName email phone }
      shippingAddress {
        name firstName lastName address1 address2 city provinceCode zip countryCodeV2 phone
      }
      lineItems(first: 250) {
        nodes { sku title quantity currentQuantity originalUnitPriceSet { shopMoney { amount } } }
      }
    }
  }
}
"""


def _amount(node, key):
    return ((node.get(key) or {}).get("shopMoney") or {}).get("amount")


def shopify_order_resource(node: dict) -> dict:
    """A GraphQL ``Order`` node as the webhook's order resource (the fields intake reads)."""
    ship = node.get("shippingAddress") or {}
    customer = node.get("customer") or {}
    refunded = _amount(node, "totalRefundedSet")
    resource = {
        "id": int(node["legacyResourceId"]),
        "name": node.get("name"),
        "email": node.get("email") or customer.get("email"),
        "currency": node.get("currencyCode"),
        "financial_status": (node.get("displayFinancialStatus") or "").lower(),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "cancelled_at": node.get("cancelledAt"),
        "cancel_reason": (node.get("cancelReason") or "").lower() or None,
        "note": node.get("note"),
        "current_total_price": _amount(node, "currentTotalPriceSet"),
        "current_total_tax": _amount(node, "currentTotalTaxSet"),
        "shipping_lines": [{"price": _amount(node, "totalShippingPriceSet") or "0"}],
        "customer": {
            "first_name": customer.get("firstName"),
            "last_name": customer.get("lastName"),
            "email": customer.get("email"),
            "phone": customer.get("phone"),
        },
        "shipping_address": {
            "name": ship.get("name"),
            "first_name": ship.get("firstName"),
            "last_name": ship.get("lastName"),
            "address1": ship.get("address1"),
            "address2": ship.get("address2"),
            "city": ship.get("city"),
            "province_code": ship.get("provinceCode"),
            "zip": ship.get("zip"),
            "country_code": ship.get("countryCodeV2"),
            "phone": ship.get("phone"),
        }
        if ship
        else None,
        "line_items": [
            {
                "sku": item.get("sku"),
                "title": item.get("title"),
                "quantity": item.get("quantity"),
                "current_quantity": item.get("currentQuantity", item.get("quantity")),
                "price": _amount(item, "originalUnitPriceSet"),
            }
            for item in (node.get("lineItems") or {}).get("nodes") or []
        ],
    }
    if refunded and float(refunded) > 0:
        resource["refunds"] = [
            {"transactions": [{"kind": "refund", "status": "success", "amount": refunded}]}
        ]
    return resource


def shopify_orders_since(client: ShopifyClient, since: datetime):
    query = f"updated_at:>='{since.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'"
    after = None
    while True:
        page = client.graphql(ORDERS, {"after": after, "query": query}).get("orders") or {}
        for node in page.get("nodes") or []:
            yield shopify_order_resource(node)
        info = page.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            return
        after = info.get("endCursor")


def woocommerce_orders_since(client, since: datetime):
    stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    yield from client.pages("/orders", {"modified_after": stamp, "dates_are_gmt": "true"})


def channel_orders_reconcile(
    *, channel: Channel, since: datetime | None = None, transport: Transport | None = None
) -> dict:
    """Poll the channel and put every order through intake; returns the report."""
    state, _ = ChannelSyncState.objects.get_or_create(channel=channel)
    started = timezone.now()
    since = since or state.reconcile_cursor or (started - DEFAULT_LOOKBACK)
    client = client_for(channel, transport)
    if isinstance(client, ShopifyClient):
        platform, topic, orders = (
            "shopify",
            shopify_intake.UPDATE,
            shopify_orders_since(client, since),
        )
        stamp_key = "updated_at"
    else:
        platform, topic, orders = (
            "woocommerce",
            woo_intake.UPDATE,
            woocommerce_orders_since(client, since),
        )
        stamp_key = "date_modified_gmt"
    report = {
        "since": since.isoformat(),
        "fetched": 0,
        "only_by_poll": [],
        "updated": 0,
        "unchanged": 0,
        "needs_attention": [],
    }
    newest = None
    for resource in orders:
        report["fetched"] += 1
        external_id = str(resource.get("id"))
        known = Order.objects.filter(channel=channel, external_id=external_id).exists()
        stamp = str(resource.get(stamp_key) or "")
        result = intake_services.intake_receive(
            channel=channel,
            platform=platform,
            topic=topic,
            delivery_id=f"poll-{external_id}-{stamp}"[:128],
            body=json.dumps(resource).encode(),
            headers={"X-OMS-Source": "reconciliation"},
        )
        label = result.order.number if result.order else external_id
        if result.status == "needs_attention":
            report["needs_attention"].append(f"{external_id}: {result.message}"[:300])
        if not known and result.order is not None:
            report["only_by_poll"].append({"external_id": external_id, "order": label})
        elif result.status in ("duplicate", "ignored"):
            report["unchanged"] += 1
        else:
            report["updated"] += 1
        parsed = parse_datetime(stamp) if stamp else None
        if parsed is not None and timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, UTC)
        if parsed is not None and (newest is None or parsed > newest):
            newest = parsed
    report["calls"] = client.calls
    state.reconcile_cursor = newest or state.reconcile_cursor or since
    state.last_reconcile_at = started
    state.last_reconcile_report = report
    state.save(update_fields=["reconcile_cursor", "last_reconcile_at", "last_reconcile_report"])
    return report
