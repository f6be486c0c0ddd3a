"""What the product and stock imports share: columns, limits, small helpers."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection

from kernel.csvio import CsvTable, read_csv
from kernel.numbering import next_number

PRODUCT_COLUMNS = (
    "sku",
    "name",
    "barcode",
    "price",
    "weight_grams",
    "length_cm",
    "width_cm",
    "height_cm",
    "lead_time_days",
    "active",
)
PRODUCT_REQUIRED = ("sku", "name")
PRODUCT_DECIMALS = ("price", "length_cm", "width_cm", "height_cm")
STOCK_COLUMNS = ("sku", "warehouse", "on_hand", "bin", "reorder_point")
STOCK_REQUIRED = ("sku", "warehouse", "on_hand")

MAX_PRICE = Decimal("9999999999.99")
MAX_DIMENSION = Decimal("9999999.9")
MAX_INT = 2_147_483_647
MAX_LEAD_TIME_DAYS = 3650
IMPORT_NOTE = "CSV import"
DRY_RUN_BATCH = "(dry run)"


def _noop(done: int, total: int, phase: str = "") -> None:
    return None


def _lookup_chunk() -> int:
    return 20_000 if connection.vendor == "postgresql" else 900


def _batch(dry_run: bool) -> str:
    return DRY_RUN_BATCH if dry_run else next_number("import")


def batch_number(*, dry_run: bool = False) -> str:
    """The reference of one import's movements (IMP-000001); none for a dry run."""
    return _batch(dry_run)


def _as_table(data, columns, required, decimals=()) -> CsvTable:
    if isinstance(data, CsvTable):
        return data
    return read_csv(data, columns=columns, required=required, decimals=decimals)
