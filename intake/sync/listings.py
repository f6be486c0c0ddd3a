"""Link our SKUs to the channel's catalogue.

Shopify: ``productVariants`` pages of 250 (``sku``, the variant, its product and its
``inventoryItem``) and the shop's first active location from ``locations``.
WooCommerce: ``GET /products`` pages of 100 (``X-WP-TotalPages``); a ``variable``
product's variations from ``GET /products/<id>/variations``.

Each SKU we know becomes a ``ChannelListing`` (re-linking updates the ids and drops
listings whose SKU left the platform), and the report names the SKUs found on one
side only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from intake.models import ChannelListing, ChannelStockPending
from intake.sync.http import ChannelRefused, ShopifyClient, Transport, client_for
from inventory.models import Product
from orders.models import Channel


@dataclass
class LinkReport:
    channel: str
    linked: int = 0
    only_on_platform: list[str] = field(default_factory=list)
    only_here: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    calls: int = 0


@dataclass
class RemoteItem:
    sku: str
    product_id: str = ""
    variant_id: str = ""
    inventory_item_id: str = ""
    location_id: str = ""


VARIANTS = """
query Variants($after: String) {
  productVariants(first: 250, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id sku product { id } inventoryItem { id } }
  }
}
"""
LOCATIONS = """
query Locations {
  locations(first: 50) { nodes { id name isActive } }
}
"""


def shopify_catalogue(client: ShopifyClient) -> list[RemoteItem]:
    locations = (client.graphql(LOCATIONS).get("locations") or {}).get("nodes") or []
    active = [loc for loc in locations if loc.get("isActive", True)]
    if not active:
        raise ChannelRefused("Shopify: the shop has no active location")
    location = active[0]["id"]
    items, after = [], None
    while True:
        page = client.graphql(VARIANTS, {"after": after}).get("productVariants") or {}
        for node in page.get("nodes") or []:
            items.append(
                RemoteItem(
                    sku=(node.get("sku") or "").strip(),
                    product_id=(node.get("product") or {}).get("id", ""),
                    variant_id=node.get("id", ""),
                    inventory_item_id=(node.get("inventoryItem") or {}).get("id", ""),
                    location_id=location,
                )
            )
        info = page.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            return items
        after = info.get("endCursor")


def woocommerce_catalogue(client) -> list[RemoteItem]:
    items = []
    for product in client.pages("/products"):
        if product.get("type") == "variable":
            for variation in client.pages(f"/products/{product['id']}/variations"):
                items.append(
                    RemoteItem(
                        sku=(variation.get("sku") or "").strip(),
                        product_id=str(product["id"]),
                        variant_id=str(variation["id"]),
                    )
                )
        else:
            items.append(
                RemoteItem(sku=(product.get("sku") or "").strip(), product_id=str(product["id"]))
            )
    return items


def channel_link_listings(*, channel: Channel, transport: Transport | None = None) -> LinkReport:
    """Read the channel's catalogue and link every SKU both sides know."""
    client = client_for(channel, transport)
    if isinstance(client, ShopifyClient):
        remote = shopify_catalogue(client)
    else:
        remote = woocommerce_catalogue(client)
    report = LinkReport(channel.code, calls=client.calls)
    by_sku: dict[str, RemoteItem] = {}
    for item in remote:
        if not item.sku:
            continue
        if item.sku in by_sku:
            report.duplicates.append(item.sku)
            continue
        by_sku[item.sku] = item
    _save(channel, by_sku, report)
    return report


@transaction.atomic
def _save(channel: Channel, by_sku: dict[str, RemoteItem], report: LinkReport) -> None:
    products = dict(Product.objects.values_list("sku", "pk"))
    existing = {lst.product_id: lst for lst in ChannelListing.objects.filter(channel=channel)}
    new, changed = [], []
    for sku, item in sorted(by_sku.items()):
        product_id = products.get(sku)
        if product_id is None:
            report.only_on_platform.append(sku)
            continue
        listing = existing.pop(product_id, None) or ChannelListing(
            channel=channel, product_id=product_id
        )
        listing.sku = sku
        listing.remote_product_id = item.product_id
        listing.remote_variant_id = item.variant_id
        listing.inventory_item_id = item.inventory_item_id
        listing.location_id = item.location_id
        (changed if listing.pk else new).append(listing)
    ChannelListing.objects.bulk_create(new, batch_size=1000)
    ChannelListing.objects.bulk_update(
        changed,
        ["sku", "remote_product_id", "remote_variant_id", "inventory_item_id", "location_id"],
        batch_size=1000,
    )
    gone = list(existing)
    if gone:
        ChannelListing.objects.filter(channel=channel, product_id__in=gone).delete()
        ChannelStockPending.objects.filter(channel=channel, product_id__in=gone).delete()
    linked = {p for p in (products.get(s) for s in by_sku) if p}
    report.only_here = sorted(sku for sku, pk in products.items() if pk not in linked)
    report.linked = len(new) + len(changed)
