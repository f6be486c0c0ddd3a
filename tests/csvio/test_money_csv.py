"""Money in the orders CSV: each currency's own decimals, the optional discount column,
and a KWD order that goes through the API and the CSV unchanged."""

import csv
import io
from decimal import Decimal

import pytest

from kernel.csvio import CsvFileError
from kernel.roles import INTEGRATION
from orders.exports import ORDER_EXPORT_COLUMNS, order_csv_rows
from orders.imports import import_orders
from orders.models import Order
from tests.api.conftest import _client_for, order_body
from tests.csvio.conftest import (
    ORDER_HEADER,
    assert_nothing_written,
    csv_bytes,
    order_row,
    snapshot,
)

pytestmark = pytest.mark.django_db
HEADER = [*ORDER_HEADER, "discount_total"]


@pytest.fixture
def api(db):
    return _client_for("shop-integration", INTEGRATION)


def rows_of(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def exported() -> bytes:
    return csv_bytes(ORDER_EXPORT_COLUMNS, list(order_csv_rows()))


def test_a_kwd_order_round_trips_through_the_api_and_the_csv_unchanged(api, products):
    body = order_body(
        currency="KWD",
        lines=[
            {"sku": "SKU-A", "quantity": 2, "unit_price": "1.235", "discount_total": "0.105"},
            {"sku": "SKU-B", "quantity": 1, "unit_price": "0.750"},
        ],
        shipping_total="0.500",
    )
    created = api.post("/api/v1/orders/", body, format="json")
    assert created.status_code == 201, created.content
    answer = created.json()
    assert answer["total"] == "3.615"  # 2.470 - 0.105 + 0.750 + 0.500

    first = exported()
    rows = rows_of(first)
    assert [(r["sku"], r["unit_price"], r["discount_total"]) for r in rows] == [
        ("SKU-A", "1.235", "0.105"),
        ("SKU-B", "0.750", "0.000"),
    ]
    assert {r["shipping_total"] for r in rows} == {"0.500"}

    # imported again it is recognised as the same order (same content) and nothing
    # changes; exported again, the file is the same
    before = snapshot()
    result = import_orders(first)
    assert (result.new, result.skipped) == (0, 1)
    assert_nothing_written(before)
    assert exported() == first
    after = api.get(f"/api/v1/orders/{answer['number']}/").json()
    money = ("subtotal", "discount_total", "shipping_total", "tax_total", "total", "lines")
    assert {k: after[k] for k in money} == {k: answer[k] for k in money}


def kwd_row(sku, quantity, price):
    return order_row("K-1", sku, quantity, price, currency="KWD", shipping_total="0.500")


def test_a_kwd_file_imports_with_three_decimals_and_exports_them_back(products):
    data = csv_bytes(
        HEADER,
        [
            [
                *order_row("K-1", "SKU-A", 2, "1.235", currency="KWD", shipping_total="0.500"),
                "0.100",
            ],
            [*order_row("K-1", "SKU-B", 1, "0.750", currency="KWD", shipping_total="0.500"), ""],
        ],
    )

    import_orders(data)

    order = Order.objects.get(external_id="K-1")
    assert (order.subtotal, order.discount_total, order.total) == (
        Decimal("3.220"),
        Decimal("0.100"),
        Decimal("3.620"),
    )
    assert [
        (r["unit_price"], r["shipping_total"], r["discount_total"]) for r in rows_of(exported())
    ] == [("1.235", "0.500", "0.100"), ("0.750", "0.500", "0.000")]


def test_a_csv_discount_is_kept_on_the_line_and_counted_in_the_total(products):
    data = csv_bytes(HEADER, [[*order_row("D-1", "SKU-A", 2, "19.90"), "4.00"]])

    import_orders(data)

    order = Order.objects.get(external_id="D-1")
    line = order.lines.get()
    assert (line.discount_total, line.paid_total) == (Decimal("4.00"), Decimal("35.80"))
    assert order.total == Decimal("35.80") + order.shipping_total


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        (
            [*order_row("J-1", "SKU-A", 1, "1500.5", currency="JPY", shipping_total="")],
            "unit_price",
            "JPY amounts have no decimal places",
        ),
        ([*order_row("E-1", "SKU-A", 1, "19.905")], "unit_price", "2 decimal place(s)"),
        (
            [*order_row("E-1", "SKU-A", 1, "19.90", shipping_total="5.001")],
            "shipping_total",
            "2 decimal place(s)",
        ),
    ],
)
def test_more_decimals_than_the_currency_has_rejects_the_file(products, row, column, words):
    before = snapshot()
    with pytest.raises(CsvFileError) as exc:
        import_orders(csv_bytes(ORDER_HEADER, [row]))
    [error] = exc.value.errors
    assert (error.row, error.column) == (2, column)
    assert words in error.message
    assert_nothing_written(before)


def test_a_discount_above_the_line_rejects_the_file(products):
    before = snapshot()
    with pytest.raises(CsvFileError) as exc:
        import_orders(csv_bytes(HEADER, [[*order_row("D-1", "SKU-A", 1, "19.90"), "19.91"]]))
    [error] = exc.value.errors
    assert error.column == "discount_total" and "more than the line's value" in error.message
    assert_nothing_written(before)
