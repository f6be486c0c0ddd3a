"""Purchase order documents for the supplier: a PDF (WeasyPrint, from
``templates/inventory/documents/purchase_order.html``) and a CSV of its lines
(``kernel.csvio``'s writer). Reads only."""

import io
from decimal import Decimal

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from inventory.models import PurchaseOrder, SupplierProduct
from kernel.csvio import format_decimal, write_csv

PO_CSV_COLUMNS = [
    "po_number",
    "supplier",
    "supplier_sku",
    "sku",
    "name",
    "barcode",
    "quantity",
    "unit_cost",
    "line_total",
    "currency",
    "expected_date",
    "deliver_to",
    "quantity_received",
]


def purchase_order_rows(po: PurchaseOrder) -> list[dict]:
    """The order's lines with the supplier's own SKU and the line totals. Two queries."""
    lines = list(po.lines.select_related("product").order_by("product__sku"))
    skus = dict(
        SupplierProduct.objects.filter(
            supplier_id=po.supplier_id, product_id__in=[x.product_id for x in lines]
        ).values_list("product_id", "supplier_sku")
    )
    return [
        {
            "line": line,
            "supplier_sku": skus.get(line.product_id, ""),
            "total": (line.unit_cost * line.quantity).quantize(Decimal("0.01")),
        }
        for line in lines
    ]


def render_purchase_order_pdf(po: PurchaseOrder) -> bytes:
    from weasyprint import HTML

    rows = purchase_order_rows(po)
    html = render_to_string(
        "inventory/documents/purchase_order.html",
        {
            "po": po,
            "rows": rows,
            "units": sum(r["line"].quantity for r in rows),
            "total": sum((r["total"] for r in rows), Decimal("0.00")),
            "company": getattr(settings, "OMS_COMPANY_NAME", "OMS Store"),
            "printed": timezone.localtime(),
        },
    )
    return HTML(string=html, base_url=None).write_pdf()


def _day(value) -> str:
    return value.isoformat() if value else ""


def purchase_order_csv(po: PurchaseOrder) -> str:
    out = io.StringIO()
    write_csv(
        (
            [
                po.number,
                po.supplier.code,
                r["supplier_sku"],
                r["line"].product.sku,
                r["line"].product.name,
                r["line"].product.barcode,
                r["line"].quantity,
                format_decimal(r["line"].unit_cost),
                format_decimal(r["total"]),
                po.currency,
                _day(r["line"].expected_date or po.expected_date),
                po.warehouse.code,
                r["line"].quantity_received,
            ]
            for r in purchase_order_rows(po)
        ),
        out,
        header=PO_CSV_COLUMNS,
    )
    return out.getvalue()


# --------------------------------------------------------------------------- exports

PURCHASE_ORDERS_CSV_COLUMNS = [
    "number",
    "status",
    "supplier",
    "warehouse",
    "currency",
    "sku",
    "quantity",
    "unit_cost",
    "quantity_received",
    "remaining",
    "expected_date",
    "created_at",
    "sent_at",
]
TRANSFERS_CSV_COLUMNS = [
    "number",
    "status",
    "source",
    "destination",
    "sku",
    "quantity",
    "quantity_received",
    "quantity_lost",
    "in_transit",
    "expected_date",
    "dispatched_at",
]


def purchase_orders_csv_rows(purchase_orders):
    """One row per line of each purchase order (the admin's and the API's export)."""
    from inventory.models import PurchaseOrderLine
    from kernel.csvio import format_when

    lines = PurchaseOrderLine.objects.filter(purchase_order__in=purchase_orders).select_related(
        "purchase_order__supplier", "purchase_order__warehouse", "product"
    )
    for line in lines.order_by("purchase_order__number", "product__sku"):
        po = line.purchase_order
        yield [
            po.number,
            po.status,
            po.supplier.code,
            po.warehouse.code,
            po.currency,
            line.product.sku,
            line.quantity,
            format_decimal(line.unit_cost),
            line.quantity_received,
            line.remaining if po.is_open else 0,
            _day(line.expected_date or po.expected_date),
            format_when(po.created_at),
            format_when(po.sent_at),
        ]


def transfers_csv_rows(transfers):
    from inventory.models import TransferLine
    from kernel.csvio import format_when

    lines = TransferLine.objects.filter(transfer__in=transfers).select_related(
        "transfer__source", "transfer__destination", "product"
    )
    for line in lines.order_by("transfer__number", "product__sku"):
        t = line.transfer
        yield [
            t.number,
            t.status,
            t.source.code,
            t.destination.code,
            line.product.sku,
            line.quantity,
            line.quantity_received,
            line.quantity_lost,
            line.in_transit if t.status in t.IN_TRANSIT_STATUSES else 0,
            _day(t.expected_date),
            format_when(t.dispatched_at),
        ]
