"""Fixtures and helpers of the CSV import/export tests."""

import csv
import io

import pytest

from inventory.models import Product, StockLevel, StockMovement
from inventory.selectors import stock_ledger_mismatches
from orders.models import Customer, Order, OrderEvent, OrderLine
from tests.factories import make_product, make_warehouse

ORDER_HEADER = [
    "channel",
    "external_id",
    "placed_at",
    "customer_email",
    "customer_name",
    "ship_name",
    "ship_line1",
    "ship_line2",
    "ship_city",
    "ship_region",
    "ship_postcode",
    "ship_country",
    "currency",
    "sku",
    "quantity",
    "unit_price",
    "shipping_total",
]


def csv_bytes(header, rows, *, delimiter=",", bom=False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = out.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


def order_row(external_id="1001", sku="SKU-A", quantity=2, unit_price="19.90", **over):
    values = {
        "channel": "web",
        "external_id": external_id,
        "placed_at": "2026-11-20T10:00:00Z",
        "customer_email": "ana@example.com",
        "customer_name": "Ana Lima",
        "ship_name": "Ana Lima",
        "ship_line1": "Rua A 1",
        "ship_line2": "",
        "ship_city": "Campinas",
        "ship_region": "SP",
        "ship_postcode": "13023-000",
        "ship_country": "BR",
        "currency": "BRL",
        "sku": sku,
        "quantity": quantity,
        "unit_price": unit_price,
        "shipping_total": "5.00",
    }
    values.update(over)
    return [values[c] for c in ORDER_HEADER]


def snapshot() -> dict:
    return {
        "products": Product.objects.count(),
        "levels": StockLevel.objects.count(),
        "movements": StockMovement.objects.count(),
        "orders": Order.objects.count(),
        "lines": OrderLine.objects.count(),
        "events": OrderEvent.objects.count(),
        "customers": Customer.objects.count(),
        "quantities": sorted(StockLevel.objects.values_list("id", "on_hand", "reserved")),
        "prices": sorted(Product.objects.values_list("sku", "price", "name")),
    }


def assert_nothing_written(before: dict) -> None:
    assert snapshot() == before
    assert stock_ledger_mismatches() == []


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def warehouses(db):
    return [make_warehouse("WH1", priority=1), make_warehouse("WH2", priority=2)]


@pytest.fixture
def products(db):
    return [
        make_product("SKU-A", price="19.90"),
        make_product("SKU-B", price="5.00"),
        make_product("SKU-C", price="7.50"),
    ]
