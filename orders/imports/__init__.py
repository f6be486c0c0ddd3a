"""CSV import of orders: one row per line; rows sharing (channel, external_id) are one order.

The same placement rules as the API (``orders.services.order_place``): numbers from
``kernel.numbering``, a ``placed`` event, the customer found or created by e-mail, the
intake fingerprint (so a later API replay of the same order is recognised as a replay),
idempotency by (channel, external_id): an order already placed is left as it is and
counted as skipped. The whole file is validated first (SKUs, channels and existing
orders in a handful of queries); a bad row rejects the file with a report.

PostgreSQL: customers are created in bulk (COPY into a temporary table, then
set-based SQL); the orders' ids are drawn from their sequence and orders, lines and
events are COPied straight into their tables in a savepoint. If an order of the file
was placed meanwhile by the API (a unique violation on (channel, external_id)), that
savepoint is rolled back and they are written instead through temporary tables and
``INSERT ... SELECT ... ON CONFLICT DO NOTHING``, so that order is skipped, not
duplicated. Other databases (SQLite) take an ORM path with ``bulk_create`` that writes
the same rows.

Every new order then gets what every entry point gives it: ``order.created``, and the
one acceptance policy, ``fulfillment.services.intake.order_accept``, in the same
transaction (on an ``auto_confirm`` channel the auto-confirm rules decide between a
hold naming the failed rules and confirm + route). The orders app must not import
fulfillment (dependencies point inventory <- orders <- fulfillment), so that function
is looked up by its dotted path, as inventory names
``fulfillment.tasks.allocate_backorders``.

The package: ``drafts`` (columns, lines, order drafts), ``validation`` (the whole
file checked and grouped into drafts), ``writers`` (the COPY, SQL and ORM writers)
and ``runner`` (the import: read, validate, place, accept).
"""

from orders.imports.drafts import (
    EXPORT_EXTRA_COLUMNS,
    HEADER_FIELDS,
    OPTIONAL_COLUMNS,
    ORDER_ACCEPT,
    ORDER_COLUMNS,
    ORDER_DECIMALS,
    ORDER_REQUIRED,
    READ_COLUMNS,
    DraftLine,
    OrderDraft,
    ProductRef,
    products_by_sku,
)
from orders.imports.runner import import_orders
from orders.imports.validation import validate_orders

__all__ = [
    "EXPORT_EXTRA_COLUMNS",
    "HEADER_FIELDS",
    "OPTIONAL_COLUMNS",
    "ORDER_ACCEPT",
    "ORDER_COLUMNS",
    "ORDER_DECIMALS",
    "ORDER_REQUIRED",
    "READ_COLUMNS",
    "DraftLine",
    "OrderDraft",
    "ProductRef",
    "import_orders",
    "products_by_sku",
    "validate_orders",
]
