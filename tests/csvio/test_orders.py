"""Order imports: one row per line, grouped by (channel, external_id), the API's rules."""

import csv
import io
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from inventory.imports import import_products, import_stock
from inventory.models import Product, StockLevel
from inventory.selectors import stock_ledger_mismatches
from kernel.csvio import CsvFileError
from kernel.money import quantize_money
from orders.exports import ORDER_EXPORT_COLUMNS, order_csv_rows
from orders.imports import import_orders
from orders.models import Channel, Customer, Order, OrderEvent, OrderLine
from orders.services import order_place
from tests.conftest import postgres_only
from tests.csvio.conftest import (
    ORDER_HEADER,
    assert_nothing_written,
    csv_bytes,
    order_row,
    snapshot,
)
from tests.factories import place, receive

OLIST = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "data"
    / "olist-sample"
    / "olist_order_items_dataset.csv"
)


def two_orders() -> bytes:
    return csv_bytes(
        ORDER_HEADER,
        [
            order_row("1001", "SKU-A", 2, "19.90"),
            order_row("1002", "SKU-C", 1, "", customer_email="bob@example.com", shipping_total=""),
            order_row("1001", "SKU-B", 1, "5.00"),
        ],
    )


def test_rows_sharing_channel_and_external_id_form_one_order(products):
    result = import_orders(two_orders(), actor="ana")

    assert (result.new, result.skipped, result.extra["lines_new"]) == (2, 0, 3)
    first = Order.objects.get(channel__code="web", external_id="1001")
    assert first.number.startswith("SO-")
    assert list(first.lines.values_list("sku", "quantity", "unit_price")) == [
        ("SKU-A", 2, Decimal("19.90")),
        ("SKU-B", 1, Decimal("5.00")),
    ]
    assert (first.subtotal, first.shipping_total, first.total) == (
        Decimal("44.80"),
        Decimal("5.00"),
        Decimal("49.80"),
    )
    assert (first.status, first.ship_country, first.customer.email) == (
        "pending",
        "BR",
        "ana@example.com",
    )
    assert first.ship_by > first.placed_at
    (event,) = first.events.all()
    assert (event.kind, event.actor, event.public) == ("placed", "ana", True)
    assert event.message == "Placed on web as 1001: 2 line(s), 49.80 BRL"
    second = Order.objects.get(external_id="1002")
    # a blank unit price takes the product's price, as the API does
    assert second.lines.get().unit_price == Decimal("7.50")
    assert second.total == Decimal("7.50")


def test_import_twice_adds_nothing_and_counts_skipped(products):
    import_orders(two_orders())
    before = snapshot()
    result = import_orders(two_orders())
    assert (result.new, result.skipped, result.warnings) == (0, 2, [])
    assert_nothing_written(before)


def test_an_api_replay_of_an_imported_order_is_recognised(products):
    import_orders(two_orders())
    order, created = order_place(
        channel=Channel.objects.get(code="web"),
        external_id="1001",
        customer={"email": "ana@example.com", "name": "Ana Lima"},
        shipping_address={
            "name": "Ana Lima",
            "line1": "Rua A 1",
            "city": "Campinas",
            "region": "SP",
            "postcode": "13023-000",
            "country": "BR",
        },
        currency="BRL",
        lines=[
            {"sku": "SKU-A", "quantity": 2, "unit_price": "19.90"},
            {"sku": "SKU-B", "quantity": 1, "unit_price": "5.00"},
        ],
        shipping_total="5.00",
    )
    assert created is False
    assert order.external_id == "1001"


def test_an_order_placed_before_is_left_as_it_is(products):
    a, b, _ = products
    existing = place([(a, 1)], external_id="1001", currency="BRL")
    result = import_orders(two_orders())
    assert (result.new, result.skipped) == (1, 1)
    existing.refresh_from_db()
    assert list(existing.lines.values_list("sku", "quantity")) == [("SKU-A", 1)]
    assert "already placed as" in result.warnings[0]


def test_round_trip_export_then_import_changes_nothing(products):
    a, *_ = products
    place([(a, 3)])  # placed through the API path without an external id
    import_orders(two_orders())
    exported = csv_bytes(ORDER_EXPORT_COLUMNS, list(order_csv_rows()))
    before = snapshot()
    result = import_orders(exported)
    assert (result.new, result.skipped, result.warnings) == (0, 3, [])
    assert_nothing_written(before)


def test_auto_confirm_channel_orders_are_confirmed_and_routed(products, warehouses):
    a, b, _ = products
    receive(a, warehouses[0], 5)
    Channel.objects.create(
        code="shop", name="Shop", auto_confirm=True, auto_confirm_require_payment=False
    )
    data = csv_bytes(
        ORDER_HEADER,
        [
            order_row("S-1", "SKU-A", 2, channel="shop"),
            order_row("S-1", "SKU-B", 1, channel="shop"),
        ],
    )
    result = import_orders(data)
    assert (result.extra["confirmed"], result.extra["held"]) == (1, 0)
    order = Order.objects.get(external_id="S-1")
    assert order.status == "confirmed"
    assert order.allocation_status == "partial"  # SKU-B has no stock: backordered
    assert StockLevel.objects.get(product=a, warehouse=warehouses[0]).reserved == 2
    assert set(order.events.values_list("kind", flat=True)) >= {"placed", "confirmed", "allocated"}
    assert stock_ledger_mismatches() == []


def test_auto_confirm_rules_hold_an_unpaid_csv_order_as_they_hold_an_api_one(products, warehouses):
    a, _, _ = products
    receive(a, warehouses[0], 5)
    Channel.objects.create(code="shop", name="Shop", auto_confirm=True)  # payment required
    result = import_orders(csv_bytes(ORDER_HEADER, [order_row("S-1", "SKU-A", 2, channel="shop")]))

    assert (result.extra["confirmed"], result.extra["held"]) == (0, 1)
    order = Order.objects.get(external_id="S-1")
    assert order.status == "on_hold" and order.hold_reason.startswith("Auto-confirm: payment")
    held = order.events.get(kind="held")
    assert [r["code"] for r in held.data["auto_confirm"] if not r["passed"]] == ["payment"]
    assert StockLevel.objects.get(product=a, warehouse=warehouses[0]).reserved == 0


@pytest.mark.parametrize(
    "row, column, words",
    [
        (order_row("2", channel="nope"), "channel", "Unknown channel 'nope'"),
        (order_row("2", sku="NOPE"), "sku", "Unknown SKU 'NOPE'"),
        (order_row("2", quantity="1.5"), "quantity", "whole number"),
        (order_row("2", quantity="-1"), "quantity", "negative"),
        (order_row("2", quantity="0"), "quantity", "greater than 0"),
        (order_row("2", unit_price="19,90"), "unit_price", "comma as the decimal separator"),
        (order_row("2", unit_price="ten"), "unit_price", "not a decimal"),
        (order_row("2", placed_at="26/11/2026"), "placed_at", "not a date"),
        (order_row("2", currency="EURO"), "currency", "3-letter"),
        (order_row("2", ship_country="Brazil"), "ship_country", "2-letter"),
        (order_row("2", customer_email="not-an-email"), "customer_email", "not a valid e-mail"),
        (order_row(""), "external_id", "required"),
        (order_row("1", "SKU-C", currency="EUR"), "currency", "must repeat the same"),
        (order_row("1", "SKU-C", ship_city="Rio"), "ship_city", "must repeat the same"),
        (order_row("1", "SKU-C", customer_email="x@example.com"), "customer_email", "must repeat"),
        (order_row("1", "SKU-C", placed_at="2026-11-21T10:00:00Z"), "placed_at", "must repeat"),
        (order_row("1", "SKU-C", shipping_total="9.00"), "shipping_total", "must repeat"),
        (order_row("1", sku="SKU-A"), "sku", "duplicate row"),
    ],
)
def test_bad_rows_reject_the_file(products, row, column, words):
    before = snapshot()
    data = csv_bytes(ORDER_HEADER, [order_row("1", sku="SKU-A"), order_row("1", sku="SKU-B"), row])
    with pytest.raises(CsvFileError) as info:
        import_orders(data)
    (error,) = info.value.errors
    assert (error.row, error.column) == (4, column)
    assert words in error.message
    assert_nothing_written(before)


def test_missing_required_column_is_named(products):
    header = [c for c in ORDER_HEADER if c != "quantity"]
    rows = [[v for c, v in zip(ORDER_HEADER, order_row(), strict=True) if c != "quantity"]]
    with pytest.raises(CsvFileError) as info:
        import_orders(csv_bytes(header, rows))
    (error,) = info.value.errors
    assert (error.row, error.column) == (1, "quantity")
    assert "Missing required column 'quantity'" in error.message


def test_dry_run_writes_nothing(products):
    before = snapshot()
    result = import_orders(two_orders(), dry_run=True)
    assert (result.new, result.extra["lines_new"]) == (2, 3)
    assert_nothing_written(before)


def test_import_and_export_order_commands(products, tmp_path):
    source = tmp_path / "orders.csv"
    source.write_bytes(two_orders())
    out = io.StringIO()
    call_command("import_orders", str(source), "--dry-run", stdout=out)
    assert "DRY RUN" in out.getvalue() and Order.objects.count() == 0
    call_command("import_orders", str(source), stdout=io.StringIO())
    target = tmp_path / "export.csv"
    call_command("export_orders", "-o", str(target), stderr=io.StringIO())
    with target.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3
    assert {r["number"] for r in rows} == set(Order.objects.values_list("number", flat=True))
    assert rows[0]["status"] == "pending" and rows[0]["financial_status"] == "pending"


# --------------------------------------------------------------------------- real sample


def _olist_file():
    """Build an orders CSV from the Olist sample: one order per order_id, items of the
    same product and price summed into one line; returns (bytes, expected)."""
    with OLIST.open(newline="", encoding="utf-8") as handle:
        items = list(csv.DictReader(handle))
    lines: dict[str, dict[tuple, int]] = defaultdict(lambda: defaultdict(int))
    freight: dict[str, Decimal] = defaultdict(Decimal)
    placed: dict[str, str] = {}
    for item in items:
        order_id = item["order_id"]
        lines[order_id][(item["product_id"], item["price"])] += 1
        freight[order_id] += Decimal(item["freight_value"])
        placed[order_id] = min(
            placed.get(order_id, item["shipping_limit_date"]), item["shipping_limit_date"]
        )
    rows, expected = [], {}
    for order_id, order_lines in lines.items():
        total = Decimal("0")
        for (product_id, price), quantity in order_lines.items():
            total += Decimal(price) * quantity
            rows.append(
                order_row(
                    order_id,
                    product_id,
                    quantity,
                    price,
                    channel="olist",
                    placed_at=placed[order_id],
                    customer_email=f"buyer-{order_id[:12]}@example.com",
                    customer_name="",
                    shipping_total=str(freight[order_id]),
                )
            )
        expected[order_id] = (len(order_lines), quantize_money(total + freight[order_id]))
    products = sorted({pid for order_lines in lines.values() for pid, _ in order_lines})
    return csv_bytes(ORDER_HEADER, rows), expected, products, len(items)


@pytest.mark.skipif(not OLIST.is_file(), reason=f"Olist sample not found at {OLIST}")
def test_olist_sample_imports_with_the_files_counts_and_totals(warehouses):
    data, expected, skus, item_rows = _olist_file()
    Channel.objects.create(code="olist", name="Olist", kind="marketplace")
    import_products(
        csv_bytes(["sku", "name", "price"], [[s, f"Olist {s[:8]}", "10.00"] for s in skus])
    )
    import_stock(csv_bytes(["sku", "warehouse", "on_hand"], [[s, "WH1", "20"] for s in skus]))
    assert Product.objects.count() == len(skus)

    result = import_orders(data)

    assert result.new == len(expected) == Order.objects.count()
    line_count = sum(n for n, _ in expected.values())
    assert result.extra["lines_new"] == line_count == OrderLine.objects.count()
    assert OrderEvent.objects.filter(kind="placed").count() == len(expected)
    assert Customer.objects.count() == len(expected)
    totals = dict(Order.objects.values_list("external_id", "total"))
    assert totals == {order_id: total for order_id, (_, total) in expected.items()}
    assert sum(OrderLine.objects.values_list("quantity", flat=True)) == item_rows

    before = snapshot()
    again = import_orders(data)
    assert (again.new, again.skipped) == (0, len(expected))
    assert_nothing_written(before)


def test_an_imported_order_is_written_as_order_place_writes_it(products):
    address = {
        "name": "Ana Lima",
        "line1": "Rua A 1",
        "city": "Campinas",
        "region": "SP",
        "postcode": "13023-000",
        "country": "BR",
    }
    placed, _ = order_place(
        channel=Channel.objects.get(code="web"),
        external_id="API-1",
        customer={"email": "ana@example.com", "name": "Ana Lima"},
        shipping_address=address,
        currency="BRL",
        lines=[{"sku": "SKU-A", "quantity": 2, "unit_price": "19.90"}],
        shipping_total="5.00",
        placed_at=Order._meta.get_field("placed_at").to_python("2026-11-20T10:00:00Z"),
    )
    import_orders(csv_bytes(ORDER_HEADER, [order_row("CSV-1", "SKU-A", 2, "19.90")]))
    imported = Order.objects.get(external_id="CSV-1")
    fields = [
        f.attname
        for f in Order._meta.concrete_fields
        if f.attname
        not in {"id", "number", "external_id", "tracking_token", "created_at", "updated_at"}
    ]
    assert {f: getattr(imported, f) for f in fields} == {f: getattr(placed, f) for f in fields}
    assert int(imported.number[3:]) == int(placed.number[3:]) + 1
    line = ("sku", "name", "quantity", "unit_price", "product_id")
    assert list(imported.lines.values_list(*line)) == list(placed.lines.values_list(*line))
    event = ("kind", "actor", "public", "data")
    assert list(imported.events.values_list(*event)) == list(placed.events.values_list(*event))


def test_rows_of_one_order_may_spell_the_same_header_differently(products):
    data = csv_bytes(
        ORDER_HEADER,
        [
            order_row("2001", "SKU-A", ship_country="BR", currency="BRL"),
            order_row("2001", "SKU-B", ship_country="br", currency="brl"),
        ],
    )
    result = import_orders(data)

    assert (result.new, result.extra["lines_new"]) == (1, 2)
    order = Order.objects.get(external_id="2001")
    assert (order.ship_country, order.currency, order.lines.count()) == ("BR", "BRL", 2)


@postgres_only  # the savepoint fallback of the PostgreSQL path
def test_an_order_placed_meanwhile_is_skipped_not_duplicated(products, monkeypatch):
    """The orders are COPied straight into their tables in a savepoint; an order of the
    file placed meanwhile by the API (a unique violation) rolls that back, and the
    INSERT ... ON CONFLICT path places the others and skips it."""
    import orders.imports.writers as imports

    a, _, _ = products
    copy_insert = imports._insert_copy

    def placed_meanwhile(new, numbers, customers, actor):
        place([(a, 1)], external_id="1001", currency="BRL")  # as the API would
        return copy_insert(new, numbers, customers, actor)

    monkeypatch.setattr(imports, "_insert_copy", placed_meanwhile)
    result = import_orders(two_orders())

    assert (result.new, result.skipped, result.extra["lines_new"]) == (1, 1, 1)
    assert list(Order.objects.get(external_id="1001").lines.values_list("sku", "quantity")) == [
        ("SKU-A", 1)
    ]
    second = Order.objects.get(external_id="1002")
    assert second.events.get().kind == "placed"
    assert second.lines.get().sku == "SKU-C"
    assert Order.objects.count() == 2
