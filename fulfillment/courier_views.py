"""Floor pages for couriers beside the pack station: the boxes of a shipment that goes
in several ("add a box"), and the end-of-day manifest per carrier. Thin: validate the
form, call the service, say what happened, back to the page."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from fulfillment.forms import ParcelForm
from fulfillment.models import Shipment
from fulfillment.services.booking import shipment_add_parcel, shipment_remove_parcel
from fulfillment.services.manifests import manifest_create
from inventory.models import Warehouse
from kernel.exceptions import DomainError
from kernel.views import floor_required


def _back(shipment):
    return redirect("floor:pack_shipment", shipment.number)


@floor_required
@require_POST
def pack_add_parcel(request, number):
    shipment = get_object_or_404(Shipment.objects.select_related("order"), number=number)
    form = ParcelForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(e for errs in form.errors.values() for e in errs))
        return _back(shipment)
    try:
        parcel = shipment_add_parcel(shipment=shipment, actor=request.user, **form.cleaned_data)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _back(shipment)
    messages.success(request, f"Box {parcel.sequence} added ({parcel.weight_grams:,} g)")
    return _back(shipment)


@floor_required
@require_POST
def pack_remove_parcel(request, number, sequence):
    shipment = get_object_or_404(Shipment.objects.select_related("order"), number=number)
    try:
        shipment_remove_parcel(shipment=shipment, sequence=sequence, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _back(shipment)
    messages.info(request, f"Box {sequence} taken out")
    return _back(shipment)


@floor_required
@require_POST
def manifest(request):
    """Close the day for one carrier at one point: the manifest PDF opens."""
    warehouse = get_object_or_404(Warehouse, code=request.POST.get("warehouse", ""))
    carrier = request.POST.get("carrier", "").strip()
    try:
        made = manifest_create(carrier=carrier, warehouse=warehouse, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("floor:pack") + f"?warehouse={warehouse.code}")
    messages.success(
        request,
        f"Manifest {made.number}: {made.shipments.count()} shipment(s) for {carrier}"
        + (f" · {made.pickup_note}" if made.pickup_note else ""),
    )
    return redirect("documents:manifest", made.number)
