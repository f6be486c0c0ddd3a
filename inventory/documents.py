"""Purchase order documents for the supplier: a PDF (WeasyPrint, from
``templates/inventory/documents/purchase_order.html``) and a CSV of its lines
(``oms.csvio``'s writer). Reads only."""

import io
from decimal import Decimal

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from inventory.models import PurchaseOrder, SupplierProduct
from oms.csvio import format_decimal, write_csv

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
