"""The admin's django-import-export resources: same rules, one transaction, ledger true."""

import tablib

from inventory.models import Product, StockLevel, StockMovement
from inventory.resources import ProductResource, StockLevelResource
from inventory.selectors import stock_ledger_mismatches
from inventory.services import stock_reserve
from kernel.csv_admin import CsvFormat
from orders.models import Order
from orders.resources import OrderResource
from tests.csvio.conftest import (
    ORDER_HEADER,
    assert_nothing_written,
    csv_bytes,
    order_row,
    snapshot,
)
from tests.factories import place, receive


def dataset(header, rows, **kw) -> tablib.Dataset:
    return CsvFormat().create_dataset(csv_bytes(header, rows, **kw))


def test_csv_format_reads_bom_and_semicolons():
    data = dataset(["SKU", "Name"], [["A", "Shirt"]], delimiter=";", bom=True)
    assert data.headers == ["SKU", "Name"]
    assert list(data) == [("A", "Shirt")]


def test_product_import_previews_then_writes(products):
    rows = [
        ["SKU-A", "Shirt", "21.00"],
        ["NEW-1", "Hat", "9.90"],
        ["SKU-B", "Product SKU-B", "5.00"],
    ]
    before = snapshot()
    preview = ProductResource().import_data(dataset(["sku", "NAME", "price"], rows), dry_run=True)
    assert not preview.has_errors() and not preview.has_validation_errors()
    assert (preview.totals["new"], preview.totals["update"], preview.totals["skip"]) == (1, 1, 1)
    assert_nothing_written(before)

    result = ProductResource().import_data(dataset(["sku", "NAME", "price"], rows))
    assert not result.has_errors()
    assert Product.objects.get(sku="SKU-A").price == 21
    assert Product.objects.get(sku="NEW-1").name == "Hat"


def test_product_round_trip_skips_every_row(products):
    exported = ProductResource().export()
    before = snapshot()
    result = ProductResource().import_data(
        CsvFormat().create_dataset(exported.export("csv").encode())
    )
    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["skip"] == 3
    assert_nothing_written(before)


def test_invalid_product_row_rolls_back_the_whole_import(products):
    before = snapshot()
    result = ProductResource().import_data(
        dataset(["sku", "name", "price"], [["NEW-1", "Hat", "9.90"], ["NEW-2", "Cap", "19,90"]])
    )
    assert result.has_validation_errors()
    (invalid,) = result.invalid_rows
    assert invalid.number == 2
    assert "comma as the decimal separator" in invalid.error_dict["price"][0]
    assert_nothing_written(before)


def test_stock_rows_go_through_the_services_with_one_batch(products, warehouses):
    a, b, _ = products
    receive(a, warehouses[0], 10)
    rows = [["SKU-A", "WH1", "7", "A-1", ""], ["SKU-B", "WH2", "3", "", "2"]]
    header = ["sku", "warehouse", "on_hand", "bin", "reorder_point"]
    preview = StockLevelResource().import_data(dataset(header, rows), dry_run=True)
    assert (preview.totals["new"], preview.totals["update"]) == (1, 1)
    assert StockMovement.objects.filter(kind="import").count() == 0

    result = StockLevelResource().import_data(dataset(header, rows), user=None)
    assert not result.has_errors() and not result.has_validation_errors()
    moves = list(
        StockMovement.objects.filter(kind="import").values_list(
            "product__sku", "on_hand_delta", "reference"
        )
    )
    assert sorted(m[:2] for m in moves) == [("SKU-A", -3), ("SKU-B", 3)]
    assert len({m[2] for m in moves}) == 1 and moves[0][2].startswith("IMP-")
    level = StockLevel.objects.get(product=a, warehouse=warehouses[0])
    assert (level.on_hand, level.bin) == (7, "A-1")
    assert stock_ledger_mismatches() == []

    again = StockLevelResource().import_data(dataset(header, rows))
    assert again.totals["skip"] == 2


def test_stock_count_below_reserved_is_an_invalid_row(products, warehouses):
    a, *_ = products
    receive(a, warehouses[0], 10)
    stock_reserve(product=a, warehouse=warehouses[0], quantity=6)
    before = snapshot()
    header = ["sku", "warehouse", "on_hand"]
    result = StockLevelResource().import_data(
        dataset(header, [["SKU-B", "WH1", "4"], ["SKU-A", "WH1", "5"]])
    )
    (invalid,) = result.invalid_rows
    assert "6 are reserved" in invalid.error_dict["on_hand"][0]
    assert_nothing_written(before)


def test_order_export_is_one_row_per_line_of_the_given_orders(products):
    a, b, c = products
    first = place([(a, 1), (b, 2)], external_id="E-1")
    place([(c, 1)], external_id="E-2")
    exported = OrderResource().export(queryset=Order.objects.filter(pk=first.pk))
    assert exported.headers[:2] == ["channel", "external_id"]
    assert exported.headers[-6:] == [
        "number",
        "status",
        "allocation_status",
        "fulfillment_status",
        "financial_status",
        "discount_total",  # the line's: optional on import, last so the others stay put
    ]
    assert [(r[1], r[13], r[14], r[17], r[22]) for r in exported] == [
        ("E-1", "SKU-A", 1, first.number, "0.00"),
        ("E-1", "SKU-B", 2, first.number, "0.00"),
    ]


def test_order_import_reports_one_row_per_order_and_skips_placed_ones(products):
    rows = [order_row("1", "SKU-A"), order_row("1", "SKU-B"), order_row("2", "SKU-C")]
    before = snapshot()
    preview = OrderResource().import_data(dataset(ORDER_HEADER, rows), dry_run=True)
    assert (preview.totals["new"], preview.totals["skip"]) == (2, 0)
    assert_nothing_written(before)

    result = OrderResource().import_data(dataset(ORDER_HEADER, rows))
    assert result.totals["new"] == 2
    assert Order.objects.count() == 2
    assert {r.instance.number for r in result.rows} == set(
        Order.objects.values_list("number", flat=True)
    )
    again = OrderResource().import_data(dataset(ORDER_HEADER, rows))
    assert (again.totals["new"], again.totals["skip"]) == (0, 2)


def test_order_import_with_a_bad_row_lists_it_and_writes_nothing(products):
    before = snapshot()
    rows = [order_row("1", "SKU-A"), order_row("1", "SKU-B", currency="EUR")]
    result = OrderResource().import_data(dataset(ORDER_HEADER, rows))
    (invalid,) = result.invalid_rows
    assert invalid.number == 2
    assert "must repeat the same" in invalid.error_dict["currency"][0]
    assert_nothing_written(before)
