"""Manager order actions posted from the order page: confirm, hold, release, cancel, reroute."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fulfillment.models import Shipment
from fulfillment.services import (
    order_cancel_and_release,
    order_confirm_and_allocate,
    order_release_and_allocate,
    shipment_reroute,
)
from inventory.models import Warehouse
from kernel.exceptions import DomainError
from kernel.views import manager_required
from orders.forms import ReasonForm, RerouteForm
from orders.models import Order
from orders.services import order_hold


@manager_required
@require_POST
def order_action(request, number, action):
    """Confirm (and route), hold with a reason, release (and route), cancel with a reason."""
    order = get_object_or_404(Order, number=number)
    back = redirect("orders:detail", order.number)
    needs_reason = action in ("hold", "cancel")
    form = ReasonForm(request.POST) if needs_reason else None
    if form is not None and not form.is_valid():
        messages.error(
            request,
            _("Say why the order is held")
            if action == "hold"
            else _("Say why the order is cancelled"),
        )
        return back
    try:
        if action == "confirm":
            order_confirm_and_allocate(order=order, actor=request.user)
        elif action == "hold":
            order_hold(order=order, reason=form.cleaned_data["reason"], actor=request.user)
        elif action == "release":
            order_release_and_allocate(order=order, actor=request.user)
        elif action == "cancel":
            order_cancel_and_release(
                order=order, reason=form.cleaned_data["reason"], actor=request.user
            )
        else:
            raise Http404("Unknown action")
    except DomainError as exc:
        messages.error(request, exc.message)
        return back
    order.refresh_from_db()
    done = {
        "confirm": _("%(number)s confirmed"),
        "hold": _("%(number)s put on hold"),
        "release": _("%(number)s released"),
    }
    text = done.get(action, _("%(number)s cancelled")) % {"number": order.number}
    if action in ("confirm", "release") and order.status == Order.Status.CONFIRMED:
        text += _("; allocation %(status)s") % {
            "status": order.get_allocation_status_display().lower()
        }
    messages.success(request, f"{text}.")
    return back


@manager_required
@require_POST
def order_reroute(request, number):
    """Move an allocated shipment to another point (or let routing choose)."""
    order = get_object_or_404(Order, number=number)
    back = redirect("orders:detail", order.number)
    form = RerouteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the shipment and say why it moves"))
        return back
    shipment = get_object_or_404(
        Shipment.objects.select_related("order"), number=form.cleaned_data["shipment"], order=order
    )
    warehouse = None
    if form.cleaned_data["warehouse"]:
        warehouse = get_object_or_404(Warehouse, code=form.cleaned_data["warehouse"])
    try:
        created = shipment_reroute(
            shipment=shipment,
            warehouse=warehouse,
            reason=form.cleaned_data["reason"],
            actor=request.user,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return back
    messages.success(
        request,
        _("%(number)s re-routed: %(where)s.")
        % {
            "number": shipment.number,
            "where": ", ".join(
                _("%(number)s at %(code)s") % {"number": s.number, "code": s.warehouse.code}
                for s in created
            ),
        },
    )
    return back
