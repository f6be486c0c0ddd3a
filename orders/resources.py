"""django-import-export resource of the admin's order import and export buttons.

A CSV row is an order *line*; rows sharing (channel, external_id) are one order, so the
import does not go row by row: it hands the whole file to ``orders.imports`` (the path
of ``manage.py import_orders``: the placement rules of the API, one transaction) and
reports one preview row per order, new or skipped. The export writes one row per line
of the orders in the admin's current (filtered) changelist.
"""

import tablib
from import_export import fields, resources
from import_export.results import Result, RowResult

from kernel.csv_admin import dataset_table, invalid_result
from kernel.csvio import CsvFileError
from orders.exports import ORDER_EXPORT_COLUMNS, order_csv_rows
from orders.imports import (
    ORDER_COLUMNS,
    ORDER_DECIMALS,
    ORDER_REQUIRED,
    READ_COLUMNS,
    import_orders,
)
from orders.models import Order


class OrderResource(resources.ModelResource):
    """Orders, one CSV row per line (columns of DESIGN.md, "CSV contracts")."""

    # Declared so the admin's export form lists the columns; values come from
    # ``orders.exports.order_csv_rows``.
    channel = fields.Field(column_name="channel", readonly=True)
    external_id = fields.Field(column_name="external_id", readonly=True)
    placed_at = fields.Field(column_name="placed_at", readonly=True)
    customer_email = fields.Field(column_name="customer_email", readonly=True)
    customer_name = fields.Field(column_name="customer_name", readonly=True)
    ship_name = fields.Field(column_name="ship_name", readonly=True)
    ship_line1 = fields.Field(column_name="ship_line1", readonly=True)
    ship_line2 = fields.Field(column_name="ship_line2", readonly=True)
    ship_city = fields.Field(column_name="ship_city", readonly=True)
    ship_region = fields.Field(column_name="ship_region", readonly=True)
    ship_postcode = fields.Field(column_name="ship_postcode", readonly=True)
    ship_country = fields.Field(column_name="ship_country", readonly=True)
    currency = fields.Field(column_name="currency", readonly=True)
    sku = fields.Field(column_name="sku", readonly=True)
    quantity = fields.Field(column_name="quantity", readonly=True)
    unit_price = fields.Field(column_name="unit_price", readonly=True)
    shipping_total = fields.Field(column_name="shipping_total", readonly=True)
    number = fields.Field(column_name="number", readonly=True)
    status = fields.Field(column_name="status", readonly=True)
    allocation_status = fields.Field(column_name="allocation_status", readonly=True)
    fulfillment_status = fields.Field(column_name="fulfillment_status", readonly=True)
    financial_status = fields.Field(column_name="financial_status", readonly=True)

    class Meta:
        model = Order
        fields = ORDER_EXPORT_COLUMNS
        export_order = ORDER_EXPORT_COLUMNS
        import_id_fields = ()
        use_transactions = True

    # ------------------------------------------------------------------ export

    def export(self, queryset=None, **kwargs):
        orders = queryset if queryset is not None else Order.objects.all()
        selected = kwargs.get("export_fields") or None
        columns = list(ORDER_EXPORT_COLUMNS)
        picks = None
        if selected:
            picks = [i for i, c in enumerate(columns) if c in selected]
            columns = [columns[i] for i in picks]
        dataset = tablib.Dataset(headers=columns)
        for row in order_csv_rows(orders):
            dataset.append([row[i] for i in picks] if picks is not None else row)
        return dataset

    # ------------------------------------------------------------------ import

    def import_data(self, dataset, dry_run=False, raise_errors=False, **kwargs):
        """Validate the whole file, place its new orders in one transaction (rolled back
        for a dry run), and report one row per order."""
        if dataset.headers:
            dataset.headers = [
                str(h or "").replace("\ufeff", "").strip().lower() for h in dataset.headers
            ]
        user = kwargs.get("user")
        details: dict = {}
        try:
            table = dataset_table(
                dataset, columns=READ_COLUMNS, required=ORDER_REQUIRED, decimals=ORDER_DECIMALS
            )
            import_orders(table, dry_run=dry_run, actor=user, details=details)
        except CsvFileError as exc:
            if raise_errors:
                raise
            return invalid_result(exc, dataset, ORDER_COLUMNS)
        result = Result()
        result.diff_headers = ["order", *ORDER_COLUMNS[:3], "lines", "total"]
        result.total_rows = len(dataset)
        placed = details.get("placed", [])
        orders = {} if dry_run else Order.objects.in_bulk([pk for _, pk in placed])
        for draft, pk in placed:
            row = RowResult()
            row.import_type = RowResult.IMPORT_TYPE_NEW
            row.object_id = None if dry_run else pk
            row.instance = orders.get(pk)
            row.object_repr = row.instance.number if row.instance else draft.label
            row.diff = self._diff(draft, row.object_repr)
            result.append_row_result(row)
            result.increment_row_result_total(row)
        for draft in details.get("skipped", []):
            row = RowResult()
            row.import_type = RowResult.IMPORT_TYPE_SKIP
            row.object_id = draft.existing[0]
            row.object_repr = draft.existing[1]
            row.diff = self._diff(draft, f"{draft.existing[1]} (already placed)")
            result.append_row_result(row)
            result.increment_row_result_total(row)
        return result

    @staticmethod
    def _diff(draft, label: str) -> list:
        placed_at = draft.header.get("placed_at")
        return [
            label,
            draft.channel.code,
            draft.external_id or "",
            placed_at.isoformat() if placed_at else "",
            str(len(draft.lines)),
            f"{draft.total} {draft.header['currency']}",
        ]
