"""The pack station: resolve a scan, pack a shipment line by line, ship it, print."""

from django.contrib import messages
from django.db.models import Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fulfillment import selectors
from fulfillment.forms import (
    MAX_WEIGHT_GRAMS,
    ScanForm,
    ShipForm,
    parse_weight,
)
from fulfillment.models import PickList, Shipment
from fulfillment.services.booking import shipment_pack_and_ship
from fulfillment.services.shipping import shipment_rate_quotes
from fulfillment.views.common import Status, current_warehouse, floor_warehouses, form_error
from inventory.models import Warehouse
from inventory.selectors import product_by_code
from kernel.exceptions import DomainError
from kernel.views import floor_required, is_htmx
from orders.models import Order

PACKABLE = (Status.ALLOCATED, Status.PICKED, Status.PACKED)
SESSION_PACK = "floor_pack"


def resolve_pack_code(code: str) -> tuple[Shipment | None, str]:
    """What the packer scanned: a shipment number, a tote (``PL-000003-2``: the second
    shipment of that wave) or an order number with one shipment to pack."""
    code = (code or "").strip()
    shipment = Shipment.objects.filter(number__iexact=code).first()
    if shipment is not None:
        return shipment, ""
    head, sep, tote = code.rpartition("-")
    if sep and tote.isdigit() and head:
        pick_list = PickList.objects.filter(number__iexact=head).first()
        if pick_list is not None:
            shipments = selectors.pick_list_shipments(pick_list=pick_list)
            index = int(tote)
            if 1 <= index <= len(shipments):
                return shipments[index - 1], ""
            return None, _("%(number)s has totes 1 to %(last)s, not %(index)s") % {
                "number": pick_list.number,
                "last": len(shipments),
                "index": index,
            }
    order = Order.objects.filter(number__iexact=code).first()
    if order is not None:
        open_ = list(order.shipments.filter(status__in=PACKABLE).order_by("pk"))
        if len(open_) == 1:
            return open_[0], ""
        if not open_:
            return None, _("Order %(number)s has nothing to pack") % {"number": order.number}
        return None, _("Order %(number)s has %(n)s shipments: scan %(numbers)s") % {
            "number": order.number,
            "n": len(open_),
            "numbers": ", ".join(s.number for s in open_),
        }
    return None, _("No shipment, tote or order %(code)s") % {"code": code}


def _pack_refusal(shipment: Shipment) -> str:
    """Why this shipment cannot be packed here now ('' when it can)."""
    if shipment.status == Status.PICKING:
        if shipment.pick_list_id:
            return _("%(number)s is still being picked on %(wave)s: finish the wave first") % {
                "number": shipment.number,
                "wave": shipment.pick_list.number,
            }
        return _("%(number)s is still being picked: finish the wave first") % {
            "number": shipment.number
        }
    if shipment.status == Status.CANCELLED:
        return _("%(number)s is cancelled: put the items back") % {"number": shipment.number}
    if shipment.status == Status.ALLOCATED and shipment.warehouse.kind == Warehouse.Kind.WAREHOUSE:
        # Stores and 3PLs may ship straight from allocated; a warehouse picks first.
        return _("%(number)s was never picked: scan %(order)s at the pick queue first") % {
            "number": shipment.number,
            "order": shipment.order.number,
        }
    if shipment.order.status == Order.Status.ON_HOLD:
        order = shipment.order
        return _("Order %(number)s is on hold (%(reason)s): set it aside") % {
            "number": order.number,
            "reason": order.hold_reason,
        }
    if shipment.order.status == Order.Status.CANCELLED:
        return _("Order %(number)s is cancelled: put the items back") % {
            "number": shipment.order.number
        }
    return ""


def _pack_state(request, number: str) -> dict:
    """What was scanned at the pack station so far (kept in the session: checking items
    into the box changes no stock and no status until the shipment is packed)."""
    all_states = request.session.get(SESSION_PACK, {})
    return all_states.get(number) or {"scanned": {}, "weight": None}


def _save_pack_state(request, number: str, state: dict | None) -> None:
    all_states = dict(request.session.get(SESSION_PACK, {}))
    all_states.pop(number, None)
    if state is not None:
        all_states[number] = state
        while len(all_states) > 20:
            all_states.pop(next(iter(all_states)))
    request.session[SESSION_PACK] = all_states


def _shipment_or_404(number: str) -> Shipment:
    return get_object_or_404(
        Shipment.objects.select_related("order", "warehouse", "pick_list"), number=number
    )


def _quote_choice(rate) -> tuple[str, str]:
    when = f", by {rate.estimated_delivery:%d %b}" if rate.estimated_delivery else ""
    return rate.code, f"{rate.label} · {rate.price} {rate.currency} · {rate.transit_days} d{when}"


def service_choices(shipment: Shipment) -> list[tuple[str, str]]:
    """The services the packer may choose instead of rate shopping's pick, cheapest first
    (carriers that do not answer are left out)."""
    try:
        return [_quote_choice(rate) for rate in shipment_rate_quotes(shipment=shipment)]
    except DomainError:
        return []


def document_urls(number: str) -> dict[str, str]:
    """The label and packing slip PDFs of a shipment (``fulfillment.document_urls``)."""
    urls = {}
    for key, name in (("label", "shipment-label"), ("slip", "shipment-packing-slip")):
        try:
            urls[key] = reverse(f"documents:{name}", args=[number])
        except NoReverseMatch:
            continue
    return urls


def _pack_context(request, shipment: Shipment, *, just_shipped=False, ship_form=None) -> dict:
    lines = list(shipment.lines.select_related("order_line__product").order_by("pk"))
    state = _pack_state(request, shipment.number)
    packed = shipment.status in (Status.PACKED, Status.SHIPPED, Status.DELIVERED)
    rows = []
    for line in lines:
        done = (
            line.quantity if packed else min(state["scanned"].get(str(line.pk), 0), line.quantity)
        )
        rows.append({"line": line, "product": line.order_line.product, "done": done})
    units = sum(line.quantity for line in lines)
    left = sum(r["line"].quantity - r["done"] for r in rows)
    estimate = sum(r["product"].weight_grams * r["line"].quantity for r in rows)
    if shipment.status in (Status.SHIPPED, Status.DELIVERED):
        phase = "shipped"
    elif _pack_refusal(shipment):
        phase = "refused"
    elif left == 0:
        phase = "ship"
    else:
        phase = "scan"
    weight = state.get("weight") or shipment.weight_grams or estimate or None
    if phase == "ship" and ship_form is None:
        ship_form = ShipForm(initial={"weight_grams": weight}, services=service_choices(shipment))
    docs = document_urls(shipment.number) if phase == "shipped" else {}
    return {
        "shipment": shipment,
        "rows": rows,
        "units": units,
        "left": left,
        "checked": units - left,
        "percent": int((units - left) * 100 / units) if units else 100,
        "weight": state.get("weight"),
        "estimate": estimate,
        "phase": phase,
        "refusal": _pack_refusal(shipment) if phase == "refused" else "",
        "ship_form": ship_form,
        "docs": docs,
        "print_url": reverse("floor:pack_print", args=[shipment.number]) if docs else "",
        "just_shipped": just_shipped,
    }


def _pack_response(request, shipment: Shipment, **extra):
    if is_htmx(request):
        shipment.refresh_from_db()
        return render(
            request,
            "fulfillment/partials/pack_panel.html",
            _pack_context(request, shipment, **extra),
        )
    return redirect("floor:pack_shipment", shipment.number)


@floor_required
def pack(request):
    """The pack station: scan a shipment number, a tote or an order number."""
    code = request.GET.get("shipment", "").strip()
    if code:
        shipment, error = resolve_pack_code(code)
        if shipment is not None:
            return redirect("floor:pack_shipment", shipment.number)
        messages.error(request, error)
    warehouses = floor_warehouses()
    warehouse = current_warehouse(request, warehouses)
    ready = []
    if warehouse is not None:
        ready = list(
            Shipment.objects.filter(warehouse=warehouse, status__in=[Status.PICKED, Status.PACKED])
            .select_related("order", "pick_list")
            .annotate(units=Sum("lines__quantity"))
            .order_by("order__placed_at", "pk")[:50]
        )
    return render(
        request,
        "fulfillment/pack_station.html",
        {"warehouses": warehouses, "warehouse": warehouse, "ready": ready, "code": code},
    )


@floor_required
def pack_shipment(request, number):
    shipment = _shipment_or_404(number)
    return render(request, "fulfillment/pack_detail.html", _pack_context(request, shipment))


@floor_required
@require_POST
def pack_scan(request, number):
    """One scan at the pack station: an item of the shipment, or the weight ("1250g")."""
    shipment = _shipment_or_404(number)
    refusal = _pack_refusal(shipment)
    if shipment.status in (Status.SHIPPED, Status.DELIVERED):
        refusal = _("%(number)s has already shipped") % {"number": shipment.number}
    if refusal:
        messages.error(request, refusal)
        return _pack_response(request, shipment)
    state = _pack_state(request, shipment.number)
    raw = request.POST.get("code", "")
    weight = parse_weight(raw)
    if weight is not None:
        if not 0 < weight <= MAX_WEIGHT_GRAMS:
            messages.error(
                request,
                _("A parcel weighs 1 g to %(max)s g, not %(raw)s")
                % {"max": f"{MAX_WEIGHT_GRAMS:,}", "raw": raw},
            )
        else:
            state["weight"] = weight
            _save_pack_state(request, shipment.number, state)
            messages.success(request, _("Weight %(weight)s g") % {"weight": f"{weight:,}"})
        return _pack_response(request, shipment)
    form = ScanForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return _pack_response(request, shipment)
    code, quantity = form.cleaned_data["code"], form.cleaned_data["quantity"]
    product = product_by_code(code)
    lines = list(shipment.lines.select_related("order_line").order_by("pk"))
    if product is None:
        messages.error(request, _("Unknown barcode or SKU: %(code)s") % {"code": code})
        return _pack_response(request, shipment)
    mine = [line for line in lines if line.order_line.product_id == product.pk]
    if not mine:
        messages.error(
            request,
            _("Wrong item: %(sku)s (%(name)s) is not in %(number)s. Take it out.")
            % {"sku": product.sku, "name": product.name, "number": shipment.number},
        )
        return _pack_response(request, shipment)
    scanned = dict(state["scanned"])
    if shipment.status == Status.PACKED:
        left = 0
    else:
        left = sum(line.quantity - scanned.get(str(line.pk), 0) for line in mine)
    if quantity > left:
        messages.error(
            request,
            (
                _("Extra item: %(number)s needs only %(left)s more of %(sku)s. Take it out.")
                if left
                else _("Extra item: %(number)s needs no more %(sku)s. Take it out.")
            )
            % {"number": shipment.number, "left": left, "sku": product.sku},
        )
        return _pack_response(request, shipment)
    remaining = quantity
    for line in mine:
        take = min(line.quantity - scanned.get(str(line.pk), 0), remaining)
        if take > 0:
            scanned[str(line.pk)] = scanned.get(str(line.pk), 0) + take
            remaining -= take
    state["scanned"] = scanned
    _save_pack_state(request, shipment.number, state)
    total_left = sum(line.quantity - scanned.get(str(line.pk), 0) for line in lines)
    messages.success(
        request,
        (
            _("✓ %(quantity)s × %(sku)s · %(left)s item(s) to go")
            if total_left
            else _("✓ %(quantity)s × %(sku)s · all items in the box")
        )
        % {"quantity": quantity, "sku": product.sku, "left": total_left},
    )
    if total_left == 0 and state.get("weight"):
        return _ship(request, shipment, state["weight"], "")
    return _pack_response(request, shipment)


@floor_required
@require_POST
def pack_ship(request, number):
    """Last step: weight (and optionally a service) -> pack, book the label, ship."""
    shipment = _shipment_or_404(number)
    form = ShipForm(request.POST, services=service_choices(shipment))
    if not form.is_valid():
        messages.error(request, form_error(form))
        if is_htmx(request):
            return render(
                request,
                "fulfillment/partials/pack_panel.html",
                _pack_context(request, shipment, ship_form=form),
            )
        return redirect("floor:pack_shipment", shipment.number)
    return _ship(request, shipment, form.cleaned_data["weight_grams"], form.cleaned_data["service"])


def _ship(request, shipment: Shipment, weight: int, service: str):
    context = _pack_context(request, shipment)
    if context["phase"] == "shipped":
        messages.info(request, _("%(number)s has already shipped") % {"number": shipment.number})
        return _pack_response(request, shipment)
    if context["phase"] != "ship":
        messages.error(
            request,
            context["refusal"]
            or _("%(left)s item(s) of %(number)s are not checked yet")
            % {"left": context["left"], "number": shipment.number},
        )
        return _pack_response(request, shipment)
    try:
        shipment = shipment_pack_and_ship(
            shipment=shipment, weight_grams=weight, service_code=service, actor=request.user
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return _pack_response(request, shipment)
    _save_pack_state(request, shipment.number, None)
    messages.success(
        request,
        _("%(number)s shipped") % {"number": shipment.number}
        + (
            (
                _(" with %(carrier)s %(service)s")
                % {"carrier": shipment.carrier, "service": shipment.service}
            ).rstrip()
            if shipment.carrier
            else ""
        )
        + (
            _(", tracking %(tracking)s") % {"tracking": shipment.tracking_number}
            if shipment.tracking_number
            else ""
        )
        + _(". Print the label and packing slip, then scan the next shipment."),
    )
    return _pack_response(request, shipment, just_shipped=True)


@floor_required
@require_POST
def pack_reset(request, number):
    """Start the shipment over: forget the items checked so far."""
    shipment = _shipment_or_404(number)
    _save_pack_state(request, shipment.number, None)
    messages.info(
        request, _("%(number)s: start over, scan every item again") % {"number": shipment.number}
    )
    return _pack_response(request, shipment)


@floor_required
def pack_print(request, number):
    """The label and the packing slip side by side, for the browser's print dialog."""
    shipment = _shipment_or_404(number)
    return render(
        request,
        "fulfillment/pack_print.html",
        {"shipment": shipment, "docs": document_urls(shipment.number)},
    )


# --------------------------------------------------------------------------- order actions
# The order detail page is orders' (orders.views); these state changes reach into
# routing and stock, so they live here, above orders. Managers only.
