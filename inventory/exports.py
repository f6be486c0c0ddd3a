"""CSV exports of products and stock levels (the columns the imports read).

Rows are streamed from the database (``.iterator()``, values only), so memory stays flat
however many rows there are.
"""

from collections.abc import Iterator

from django.db.models import QuerySet

from inventory.imports import PRODUCT_COLUMNS, STOCK_COLUMNS
from inventory.models import Product, StockLevel
from kernel.csvio import format_bool, format_decimal

CHUNK = 5000


def product_csv_rows(products: QuerySet | None = None) -> Iterator[list]:
    """One row per product, in ``PRODUCT_COLUMNS`` order, by sku."""
    queryset = Product.objects.all() if products is None else products
    values = queryset.order_by("sku").values_list(*PRODUCT_COLUMNS)
    for sku, name, barcode, price, weight, length, width, height, lead, active in values.iterator(
        chunk_size=CHUNK
    ):
        yield [
            sku,
            name,
            barcode,
            format_decimal(price),
            weight,
            format_decimal(length),
            format_decimal(width),
            format_decimal(height),
            lead,
            format_bool(active),
        ]


def stock_csv_rows(levels: QuerySet | None = None) -> Iterator[tuple]:
    """One row per stock level, in ``STOCK_COLUMNS`` order, by sku then warehouse."""
    queryset = StockLevel.objects.all() if levels is None else levels
    values = queryset.order_by("product__sku", "warehouse__code").values_list(
        "product__sku", "warehouse__code", "on_hand", "bin", "reorder_point"
    )
    yield from values.iterator(chunk_size=CHUNK)


HEADERS = {"products": PRODUCT_COLUMNS, "stock": STOCK_COLUMNS}
