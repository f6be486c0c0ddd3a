"""Test data built through the services, so the ledger and events stay true."""

import itertools
from decimal import Decimal

from inventory.models import Product, Warehouse
from inventory.services import stock_receive
from orders.models import Channel
from orders.services import order_place

_seq = itertools.count(1)


def make_product(sku: str | None = None, *, price="10.00", weight_grams=500, **kw) -> Product:
    n = next(_seq)
    sku = sku or f"SKU-{n:05d}"
    return Product.objects.create(
        sku=sku, name=kw.pop("name", f"Product {sku}"), price=Decimal(price),
        weight_grams=weight_grams, barcode=kw.pop("barcode", f"789{n:010d}"), **kw
    )


def make_warehouse(code: str | None = None, *, priority=10, country="BR", region="SP",
                   **kw) -> Warehouse:
    code = code or f"WH-{next(_seq):03d}"
    return Warehouse.objects.create(code=code, name=kw.pop("name", f"Warehouse {code}"),
                                    priority=priority, country=country, region=region, **kw)


def channel(code: str = "web", **kw) -> Channel:
    ch, _ = Channel.objects.get_or_create(code=code, defaults={"name": code.title(), **kw})
    return ch


def receive(product, warehouse, quantity, **kw):
    return stock_receive(product=product, warehouse=warehouse, quantity=quantity, **kw)


def place(lines, *, channel_code="web", external_id=None, **kw):
    """``lines``: list of (product, quantity[, unit_price])."""
    order, _ = order_place(
        channel=channel(channel_code),
        external_id=external_id,
        customer=kw.pop("customer", {"email": "ana@example.com", "name": "Ana Lima"}),
        shipping_address=kw.pop("shipping_address", {
            "name": "Ana Lima", "line1": "Rua A 1", "city": "Campinas", "region": "SP",
            "postcode": "13023-000", "country": "BR"}),
        currency=kw.pop("currency", "BRL"),
        lines=[
            {"sku": p.sku, "quantity": q, "unit_price": (rest[0] if rest else str(p.price))}
            for p, q, *rest in lines
        ],
        **kw,
    )
    return order
