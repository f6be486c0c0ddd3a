"""django-import-export resources of the admin's import and export buttons.

Imports validate the whole file first with the same rules as ``manage.py import_*``
(``inventory.imports``), run in one transaction and roll back if any row is invalid.
Stock rows go through ``inventory.imports.stock_import_row`` (the one count service,
``inventory.services.stock_set_counts``, underneath): each difference is an ``import``
movement with the import's batch number.
"""

from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets

from inventory.imports import (
    PRODUCT_COLUMNS,
    PRODUCT_DECIMALS,
    PRODUCT_REQUIRED,
    STOCK_COLUMNS,
    STOCK_REQUIRED,
    batch_number,
    stock_import_row,
    validate_products,
    validate_stock,
)
from inventory.models import Product, StockLevel, Warehouse
from kernel.csv_admin import ValidatedResourceMixin, row_error_text
from kernel.exceptions import DomainError


class ProductResource(ValidatedResourceMixin, resources.ModelResource):
    """Products by sku (upsert); unchanged rows are skipped."""

    csv_columns = PRODUCT_COLUMNS
    csv_required = PRODUCT_REQUIRED
    csv_decimals = PRODUCT_DECIMALS
    csv_keep_blank = PRODUCT_COLUMNS[2:]

    class Meta:
        model = Product
        fields = PRODUCT_COLUMNS
        export_order = PRODUCT_COLUMNS
        import_id_fields = ("sku",)
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def csv_validate(self, table):
        return {row.row: row for row in validate_products(table)}

    def csv_prepare_row(self, row, parsed) -> None:
        if parsed is None:
            return
        for column, value in parsed.values.items():
            if column in row:
                row[column] = ("1" if value else "0") if isinstance(value, bool) else str(value)

    def dehydrate_active(self, product) -> str:
        return "true" if product.active else "false"


class StockLevelResource(ValidatedResourceMixin, resources.ModelResource):
    """Stock counts by (sku, warehouse): the counted quantity is set through the stock
    services, the difference written to the ledger as an ``import`` movement."""

    sku = fields.Field(
        attribute="product", column_name="sku", widget=widgets.ForeignKeyWidget(Product, "sku")
    )
    warehouse = fields.Field(
        attribute="warehouse",
        column_name="warehouse",
        widget=widgets.ForeignKeyWidget(Warehouse, "code"),
    )

    csv_columns = STOCK_COLUMNS
    csv_required = STOCK_REQUIRED
    csv_keep_blank = ("bin", "reorder_point")

    class Meta:
        model = StockLevel
        fields = STOCK_COLUMNS
        export_order = STOCK_COLUMNS
        import_id_fields = ("sku", "warehouse")
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def get_queryset(self):
        return StockLevel.objects.select_related("product", "warehouse")

    def csv_validate(self, table):
        return {row.row: row for row in validate_stock(table)}

    def csv_prepare_row(self, row, parsed) -> None:
        if parsed is not None:
            row["on_hand"] = str(parsed.on_hand)
            if parsed.reorder_point is not None and "reorder_point" in row:
                row["reorder_point"] = str(parsed.reorder_point)

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self._batch = batch_number(dry_run=self._csv_dry_run)

    def do_instance_save(self, instance, is_create):
        try:
            level, _ = stock_import_row(
                product=instance.product,
                warehouse=instance.warehouse,
                counted=instance.on_hand,
                bin=instance.bin,
                reorder_point=instance.reorder_point,
                reference=self._batch,
                actor=self._csv_user,
            )
        except DomainError as exc:  # worded as the file's other row errors
            text = row_error_text(exc.message, str(instance.on_hand))
            raise ValidationError({"on_hand": [text]}) from exc
        instance.pk = level.pk
        instance.reserved = level.reserved
