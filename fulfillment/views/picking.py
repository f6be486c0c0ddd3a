"""Pick pages: the pick queue and waves, the pick list scanner, short picks."""

from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fulfillment import selectors
from fulfillment.exceptions import FulfillmentError
from fulfillment.forms import (
    ScanForm,
    ShortForm,
    WaveForm,
)
from fulfillment.models import PickList, Shipment
from fulfillment.services import (
    pick_list_complete_if_picked,
    pick_list_create,
    pick_list_pick,
    pick_list_short_pick,
)
from fulfillment.views.common import (
    DONE_LISTS,
    TO_PICK,
    Status,
    current_warehouse,
    floor_warehouses,
    form_error,
)
from inventory.models import Warehouse
from inventory.selectors import product_by_code
from kernel.exceptions import DomainError
from kernel.views import floor_required, is_htmx
from orders.models import Order


@floor_required
def pick_queue(request):
    """Shipments ready to pick at one point, and its open waves; create a wave."""
    if request.method == "POST":
        return _create_wave(request)
    warehouses = floor_warehouses()
    warehouse = current_warehouse(request, warehouses)
    ready_counts = dict(
        Shipment.objects.filter(
            status=Status.ALLOCATED, pick_list__isnull=True, order__status=Order.Status.CONFIRMED
        )
        .order_by()
        .values_list("warehouse_id")
        .annotate(n=Count("id"))
    )
    queue, waves = [], []
    if warehouse is not None:
        queue = list(selectors.pick_queue(warehouse=warehouse)[:100])
        not_cancelled = ~Q(shipments__status=Status.CANCELLED)
        waves = list(
            PickList.objects.filter(
                warehouse=warehouse,
                status__in=[PickList.Status.OPEN, PickList.Status.IN_PROGRESS],
            )
            .select_related("assigned_to")
            .annotate(
                n_shipments=Count("shipments", filter=not_cancelled, distinct=True),
                units=Sum("shipments__lines__quantity", filter=not_cancelled),
                picked=Sum("shipments__lines__quantity_picked", filter=not_cancelled),
            )
            .order_by("created_at", "pk")
        )
    return render(
        request,
        "fulfillment/pick_queue.html",
        {
            "warehouses": [(w, ready_counts.get(w.pk, 0)) for w in warehouses],
            "warehouse": warehouse,
            "queue": queue,
            "ready_total": ready_counts.get(warehouse.pk, 0) if warehouse else 0,
            "waves": waves,
            "form": WaveForm(initial={"count": 10}),
        },
    )


def _create_wave(request):
    warehouse = get_object_or_404(Warehouse, code=request.POST.get("warehouse", ""), active=True)
    back = f"{reverse('floor:pick_queue')}?warehouse={warehouse.code}"
    form = WaveForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return redirect(back)
    ready = selectors.pick_queue(warehouse=warehouse)
    code = form.cleaned_data.get("code", "")
    if form.cleaned_data["action"] == "oldest" and code:
        shipments, why_not = selectors.ready_to_pick_by_code(warehouse=warehouse, code=code)
        if not shipments:
            messages.error(request, why_not)
            return redirect(back)
    elif form.cleaned_data["action"] == "selected":
        numbers = form.cleaned_data["shipments"]
        shipments = list(ready.filter(number__in=numbers))
        gone = sorted(set(numbers) - {s.number for s in shipments})
        if gone:
            messages.error(request, _("No longer ready to pick: %s") % ", ".join(gone[:10]))
            return redirect(back)
    else:
        shipments = list(ready[: form.cleaned_data["count"]])
    if not shipments:
        messages.error(
            request, _("No shipments are ready to pick at %(code)s") % {"code": warehouse.code}
        )
        return redirect(back)
    try:
        pick_list = pick_list_create(
            warehouse=warehouse, shipments=shipments, actor=request.user, assigned_to=request.user
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    units = sum(s.units or 0 for s in shipments)
    messages.success(
        request,
        _(
            "Wave %(number)s: %(shipments)s shipment(s), %(units)s unit(s). "
            "Walk the list and scan each item."
        )
        % {"number": pick_list.number, "shipments": len(shipments), "units": units},
    )
    return redirect("floor:pick_list", pick_list.number)


# --------------------------------------------------------------------------- pick list


def _pick_list_or_404(number: str) -> PickList:
    return get_object_or_404(
        PickList.objects.select_related("warehouse", "assigned_to"), number=number
    )


def _pick_context(pick_list: PickList) -> dict:
    lines = selectors.pick_list_lines(pick_list=pick_list)
    shipments = selectors.pick_list_shipments(pick_list=pick_list)
    units = sum(row["quantity"] for row in lines)
    picked = sum(row["picked"] for row in lines)
    held = [s for s in shipments if s.status in TO_PICK and s.order.status == Order.Status.ON_HOLD]
    return {
        "pick_list": pick_list,
        "lines": lines,
        "next_line": next((row for row in lines if row["left"] > 0), None),
        "totes": list(enumerate(shipments, start=1)),
        "units": units,
        "picked": picked,
        "percent": int(picked * 100 / units) if units else 100,
        "held": held,
        "done": pick_list.status == PickList.Status.DONE,
        "closed": pick_list.status in DONE_LISTS,
    }


@floor_required
def pick_list_detail(request, number):
    pick_list = _pick_list_or_404(number)
    return render(request, "fulfillment/picklist_detail.html", _pick_context(pick_list))


def _pick_response(request, pick_list: PickList):
    if is_htmx(request):
        pick_list.refresh_from_db()
        return render(request, "fulfillment/partials/pick_panel.html", _pick_context(pick_list))
    return redirect("floor:pick_list", pick_list.number)


@floor_required
@require_POST
def pick_scan(request, number):
    """One scan on the pick list: barcode or SKU, ``3*SKU`` or a quantity field."""
    pick_list = _pick_list_or_404(number)
    form = ScanForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return _pick_response(request, pick_list)
    code, quantity = form.cleaned_data["code"], form.cleaned_data["quantity"]
    product = product_by_code(code)
    try:
        if product is None:
            raise FulfillmentError(_("Unknown barcode or SKU: %(code)s") % {"code": code})
        left = pick_list_pick(
            pick_list=pick_list, product=product, quantity=quantity, actor=request.user
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return _pick_response(request, pick_list)
    messages.success(
        request,
        (
            _("✓ %(quantity)s × %(sku)s picked · %(left)s more to pick")
            if left
            else _("✓ %(quantity)s × %(sku)s picked · line complete")
        )
        % {"quantity": quantity, "sku": product.sku, "left": left},
    )
    _finish(request, pick_list)
    return _pick_response(request, pick_list)


def _finish(request, pick_list: PickList) -> None:
    try:
        if pick_list_complete_if_picked(pick_list=pick_list, actor=request.user):
            count = pick_list.shipments.filter(status=Status.PICKED).count()
            messages.success(
                request,
                _("Wave %(number)s done: %(count)s shipment(s) picked, to packing.")
                % {"number": pick_list.number, "count": count},
            )
    except DomainError as exc:
        messages.error(request, exc.message)


@floor_required
@require_POST
def pick_short(request, number):
    """ "Short" on a line: the bin holds fewer units than the list asks for. The count
    is recorded and the shortfall goes back to routing (``shipment_short_pick``)."""
    pick_list = _pick_list_or_404(number)
    form = ShortForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return _pick_response(request, pick_list)
    try:
        sku = pick_list_short_pick(
            pick_list=pick_list,
            product_id=form.cleaned_data["line"],
            found=form.cleaned_data["found"],
            actor=request.user,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return _pick_response(request, pick_list)
    messages.warning(
        request,
        _(
            "Short pick of %(sku)s recorded: %(found)s left in the bin. "
            "The count is in the stock ledger and the missing units went back to routing."
        )
        % {"sku": sku, "found": form.cleaned_data["found"]},
    )
    _finish(request, pick_list)
    return _pick_response(request, pick_list)


# --------------------------------------------------------------------------- pack station
