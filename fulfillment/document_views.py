"""Staff downloads of the warehouse documents (PDF): login and the warehouse or manager
role required. Thin: load by number, render, answer ``application/pdf``."""

from csp.decorators import csp_replace
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from fulfillment import documents
from fulfillment.models import Manifest, PickList, Shipment
from kernel.exceptions import DomainError
from kernel.roles import MANAGER, WAREHOUSE, has_role


def pdf_response(data: bytes, filename: str, *, inline: bool = True) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def staff_document(view):
    """Login required (else the login page), then the warehouse or manager role (else
    403); a domain error while rendering (nothing to print yet) is a 409 in plain text.
    Our own pages may frame the PDF (the pack station's print page shows the label and
    the slip side by side): ``X-Frame-Options: SAMEORIGIN`` and the CSP's
    ``frame-ancestors 'self'`` here, ``DENY`` and ``'none'`` elsewhere (browsers obey the
    CSP's directive over the older header)."""

    @xframe_options_sameorigin
    @csp_replace({"frame-ancestors": ["'self'"]})
    @login_required
    @require_GET
    def wrapper(request, *args, **kwargs):
        if not has_role(request.user, WAREHOUSE, MANAGER):
            raise PermissionDenied
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return HttpResponse(exc.message, status=409, content_type="text/plain")

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _shipment(number: str) -> Shipment:
    return get_object_or_404(Shipment.objects.select_related("order", "warehouse"), number=number)


@staff_document
def shipment_label(request, number: str):
    shipment = _shipment(number)
    return pdf_response(documents.render_label_pdf(shipment), f"label-{shipment.number}.pdf")


@staff_document
def shipment_packing_slip(request, number: str):
    shipment = _shipment(number)
    return pdf_response(
        documents.render_packing_slip_pdf([shipment]), f"packing-slip-{shipment.number}.pdf"
    )


@staff_document
def pick_list_pdf(request, number: str):
    pick_list = get_object_or_404(PickList, number=number)
    return pdf_response(documents.render_pick_list_pdf(pick_list), f"pick-list-{number}.pdf")


@staff_document
def pick_list_packing_slips(request, number: str):
    pick_list = get_object_or_404(PickList, number=number)
    shipments = pick_list.shipments.exclude(status=Shipment.Status.CANCELLED)
    return pdf_response(documents.render_packing_slip_pdf(shipments), f"packing-slips-{number}.pdf")


@staff_document
def manifest_pdf(request, number: str):
    manifest = get_object_or_404(Manifest.objects.select_related("warehouse"), number=number)
    return pdf_response(documents.render_manifest_pdf(manifest), f"manifest-{number}.pdf")
