"""CSV imports of products and stock counts: whole-file validation, then one transaction.

``import_products`` upserts by sku; ``import_stock`` sets counted quantities and writes
the difference to the ledger as ``import`` movements whose reference is the import's
batch number (``IMP-000001``). Both validate the whole file in memory with a handful of
queries (all SKUs in one), raise :class:`kernel.csvio.CsvFileError` listing every bad row,
and only then write, in one transaction.

- ``common``: the columns, limits and helpers both share;
- ``products``: product rows, their validation and the upsert (COPY on PostgreSQL);
- ``stock``: stock rows and their validation; the counts are set by
  ``inventory.services.stock_set_counts``, the one service of every count (its COPY
  writer, ``inventory.counting_sql``, carries a file on PostgreSQL).
"""

from inventory.imports.common import (
    DRY_RUN_BATCH,
    IMPORT_NOTE,
    MAX_DIMENSION,
    MAX_INT,
    MAX_LEAD_TIME_DAYS,
    MAX_PRICE,
    PRODUCT_COLUMNS,
    PRODUCT_DECIMALS,
    PRODUCT_REQUIRED,
    STOCK_COLUMNS,
    STOCK_REQUIRED,
    batch_number,
)
from inventory.imports.products import ProductRow, import_products, validate_products
from inventory.imports.stock import (
    StockRow,
    import_stock,
    product_ids_by_sku,
    stock_import_row,
    validate_stock,
)
from kernel.csvio import CsvFileError

__all__ = [
    "DRY_RUN_BATCH",
    "IMPORT_NOTE",
    "MAX_DIMENSION",
    "MAX_INT",
    "MAX_LEAD_TIME_DAYS",
    "MAX_PRICE",
    "PRODUCT_COLUMNS",
    "PRODUCT_DECIMALS",
    "PRODUCT_REQUIRED",
    "STOCK_COLUMNS",
    "STOCK_REQUIRED",
    "CsvFileError",
    "ProductRow",
    "StockRow",
    "batch_number",
    "import_products",
    "import_stock",
    "product_ids_by_sku",
    "stock_import_row",
    "validate_products",
    "validate_stock",
]
