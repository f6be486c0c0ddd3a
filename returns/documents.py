"""The return slip PDF (WeasyPrint, ``templates/returns/documents/return_slip.html``):
the RMA number as a Code 128 barcode the receiving dock scans, the lines to send back
with their reasons, and where to send the parcel. Reads only."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from fulfillment.documents import code128_svg, html_to_pdf
from returns.models import ReturnRequest
from returns.services import _shipping_warehouses


def render_return_slip_pdf(return_request: ReturnRequest) -> bytes:
    rma = ReturnRequest.objects.select_related("order").get(pk=return_request.pk)
    lines = list(rma.lines.select_related("order_line").order_by("pk"))
    shipped_from = _shipping_warehouses(rma.order)
    warehouse = next(
        (shipped_from[line.order_line_id] for line in lines if line.order_line_id in shipped_from),
        None,
    )
    context = {
        "rma": rma,
        "order": rma.order,
        "lines": lines,
        "units": sum(line.quantity for line in lines),
        "warehouse": warehouse,
        "barcode": code128_svg(rma.number, width_mm=80, height_mm=18),
        "company": settings.OMS_COMPANY_NAME,
        "printed": timezone.localdate(),
    }
    return html_to_pdf(render_to_string("returns/documents/return_slip.html", context))
