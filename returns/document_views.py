"""Staff download of the return slip (PDF): login and the warehouse or manager role."""

from django.shortcuts import get_object_or_404

from fulfillment.document_views import pdf_response, staff_document
from returns.documents import render_return_slip_pdf
from returns.models import ReturnRequest


@staff_document
def return_slip(request, number: str):
    rma = get_object_or_404(ReturnRequest, number=number)
    return pdf_response(render_return_slip_pdf(rma), f"return-slip-{rma.number}.pdf")
