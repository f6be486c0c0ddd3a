"""CSV export of orders, one row per line (the import's columns plus number and states,
then the line's discount).

Rows are streamed from the database (``.iterator()``, values only), so memory stays flat
however many orders there are.
"""

from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone

from kernel.money import format_money
from orders.imports import EXPORT_EXTRA_COLUMNS, ORDER_COLUMNS
from orders.models import OrderLine

ORDER_EXPORT_COLUMNS = (*ORDER_COLUMNS, *EXPORT_EXTRA_COLUMNS)
CHUNK = 5000
_VALUES = (
    "order__channel__code",
    "order__external_id",
    "order__placed_at",
    "order__customer__email",
    "order__customer__name",
    "order__ship_name",
    "order__ship_line1",
    "order__ship_line2",
    "order__ship_city",
    "order__ship_region",
    "order__ship_postcode",
    "order__ship_country",
    "order__currency",
    "sku",
    "quantity",
    "unit_price",
    "order__shipping_total",
    "order__number",
    "order__status",
    "order__allocation_status",
    "order__fulfillment_status",
    "order__financial_status",
    "discount_total",
)


def order_csv_rows(orders: QuerySet | None = None) -> Iterator[list]:
    """One row per order line in ``ORDER_EXPORT_COLUMNS`` order, orders in id order.

    ``orders``: an Order queryset to export (e.g. the admin's filtered changelist)."""
    lines = OrderLine.objects.all()
    if orders is not None:
        lines = lines.filter(order__in=orders.values("pk"))
    values = lines.order_by("order_id", "id").values_list(*_VALUES)
    tz = timezone.get_current_timezone()
    last_placed = last_text = None
    for row in values.iterator(chunk_size=CHUNK):
        row = list(row)
        placed = row[2]
        if placed != last_placed:
            last_placed = placed
            last_text = placed.astimezone(tz).isoformat() if placed else ""
        row[2] = last_text
        row[1] = row[1] or ""
        row[3] = row[3] or ""
        row[4] = row[4] or ""
        # amounts with the currency's own decimals (KWD 1.235, JPY 1500)
        row[15] = format_money(row[15], row[12])
        row[16] = format_money(row[16], row[12])
        row[22] = format_money(row[22], row[12])
        yield row
