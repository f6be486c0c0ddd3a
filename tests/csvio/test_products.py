"""Product imports: upsert by sku, blank cells keep values, all or nothing."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from inventory.exports import product_csv_rows
from inventory.imports import PRODUCT_COLUMNS, import_products
from inventory.models import Product
from kernel.csvio import CsvFileError
from tests.csvio.conftest import assert_nothing_written, csv_bytes, snapshot

HEADER = list(PRODUCT_COLUMNS)


def test_upsert_by_sku(products):
    data = csv_bytes(
        ["SKU", "Name", "Price", "Active"],
        [
            ["SKU-A", "Shirt", "21.00", "yes"],
            ["NEW-1", "Hat", "9.9", "0"],
            ["SKU-B", "Product SKU-B", "", ""],
        ],
    )
    result = import_products(data)
    assert (result.new, result.updated, result.unchanged) == (1, 1, 1)
    assert Product.objects.get(sku="SKU-A").price == Decimal("21.00")
    new = Product.objects.get(sku="NEW-1")
    assert (new.name, new.price, new.active, new.lead_time_days) == (
        "Hat",
        Decimal("9.90"),
        False,
        7,
    )
    assert Product.objects.get(sku="SKU-B").price == Decimal("5.00")  # blank keeps the price


def test_round_trip_export_then_import_changes_nothing(products):
    exported = csv_bytes(PRODUCT_COLUMNS, list(product_csv_rows()), delimiter=";", bom=True)
    before = snapshot()
    result = import_products(exported)
    assert (result.new, result.updated, result.unchanged) == (0, 0, 3)
    assert_nothing_written(before)


@pytest.mark.parametrize(
    "cells, column, words",
    [
        ({"price": "19,90"}, "price", "comma as the decimal separator"),
        ({"price": "1.234,50"}, "price", "decimal point"),
        ({"price": "-1"}, "price", "negative"),
        ({"price": "abc"}, "price", "not a decimal"),
        ({"weight_grams": "1.5"}, "weight_grams", "whole number"),
        ({"active": "maybe"}, "active", "true or false"),
        ({"name": ""}, "name", "required"),
        ({"sku": "SKU-B"}, "sku", "duplicate row"),
        ({"barcode": "789000"}, "barcode", "belongs to product SKU-B"),
    ],
)
def test_bad_rows_reject_the_file(products, cells, column, words):
    Product.objects.filter(sku="SKU-B").update(barcode="789000")
    before = snapshot()
    good = {"sku": "SKU-B", "name": "B", "price": "1.00"}
    bad = {"sku": "NEW-9", "name": "N", "price": "1.00", **cells}
    rows = [[r.get(c, "") for c in HEADER] for r in (good, bad)]
    with pytest.raises(CsvFileError) as info:
        import_products(csv_bytes(HEADER, rows, delimiter=";"))
    (error,) = info.value.errors
    assert (error.row, error.column) == (3, column)
    assert words in error.message
    assert_nothing_written(before)


def test_export_products_command_streams_to_stdout(products):
    out = io.StringIO()
    call_command("export_products", stdout=out, stderr=io.StringIO())
    lines = out.getvalue().splitlines()
    assert lines[0] == ",".join(HEADER)
    assert lines[1].startswith("SKU-A,Product SKU-A,") and lines[1].endswith(
        ",19.90,500,0.0,0.0,0.0,7,true"
    )
    assert len(lines) == 4
