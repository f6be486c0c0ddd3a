"""Returns receiving on the warehouse floor: scan the RMA (or look it up by order), say
per line what came back, its condition and whether it is restocked (where) or scrapped,
confirm: ``return_receive`` moves the stock and the return becomes ``received``."""

from django.contrib import messages
from django.db.models import Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from fulfillment.models import Shipment, ShipmentLine
from inventory.models import Warehouse
from kernel.exceptions import DomainError
from kernel.views import floor_required, manager_required
from orders.models import Order
from returns.forms import ReturnReceiveForm, ReturnRefundForm
from returns.models import ReturnRequest
from returns.services import return_receive, return_refund, return_refund_proposal


@floor_required
def receive_lookup(request):
    """Scan an RMA number or an order number; lists the returns waiting to be received."""
    code = request.GET.get("q", "").strip()
    found = []
    if code:
        rma = ReturnRequest.objects.filter(number__iexact=code).first()
        if rma is not None:
            return redirect("returns_floor:receive", rma.number)
        order = Order.objects.filter(number__iexact=code).first()
        if order is None:
            messages.error(request, _("No return or order %(code)s") % {"code": code})
        else:
            found = list(order.returns.order_by("-created_at"))
            waiting = [r for r in found if r.status == ReturnRequest.Status.APPROVED]
            if len(waiting) == 1:
                return redirect("returns_floor:receive", waiting[0].number)
            if not found:
                messages.error(
                    request, _("Order %(number)s has no return") % {"number": order.number}
                )
    awaiting = list(
        ReturnRequest.objects.filter(status=ReturnRequest.Status.APPROVED)
        .select_related("order")
        .annotate(units=Sum("lines__quantity"))
        .order_by("created_at", "pk")[:50]
    )
    return render(
        request,
        "returns/receive_lookup.html",
        {"code": code, "found": found, "awaiting": awaiting},
    )


def _shipped_from(rma: ReturnRequest) -> dict[int, str]:
    """Order line id -> code of the point that shipped it (the default restock point)."""
    rows = (
        ShipmentLine.objects.filter(
            order_line__order_id=rma.order_id,
            shipment__status__in=[Shipment.Status.SHIPPED, Shipment.Status.DELIVERED],
        )
        .order_by("shipment_id")
        .values_list("order_line_id", "shipment__warehouse__code")
    )
    result: dict[int, str] = {}
    for line_id, code in rows:
        result.setdefault(line_id, code)
    return result


@floor_required
def receive(request, number):
    rma = get_object_or_404(ReturnRequest.objects.select_related("order"), number=number)
    lines = list(rma.lines.select_related("order_line__product", "restock_warehouse"))
    warehouses = list(Warehouse.objects.filter(active=True).order_by("priority", "code"))
    kwargs = {"lines": lines, "warehouses": warehouses, "shipped_from": _shipped_from(rma)}
    receivable = rma.status == ReturnRequest.Status.APPROVED
    if request.method == "POST" and receivable:
        form = ReturnReceiveForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                return_receive(return_request=rma, lines=form.service_lines(), actor=request.user)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                rma.refresh_from_db()
                summary = ", ".join(
                    f"{ln.order_line.sku} ×{ln.quantity_received} {ln.disposition}"
                    for ln in rma.lines.select_related("order_line")
                )
                messages.success(
                    request,
                    _("%(number)s received: %(summary)s.")
                    % {"number": rma.number, "summary": summary},
                )
                return redirect("returns_floor:receive_lookup")
        else:
            messages.error(request, _("Check the lines marked below"))
    else:
        form = ReturnReceiveForm(**kwargs)
        if request.method == "POST":
            messages.error(
                request,
                f"Return {rma.number} is {rma.get_status_display().lower()}; "
                "only approved returns can be received",
            )
    return render(
        request,
        "returns/receive_detail.html",
        {"rma": rma, "form": form, "receivable": receivable},
    )


@manager_required
def refund(request, number):
    """Refund a received return (managers): the returned lines at what was paid for them
    (after discounts) by default; tax and shipping are shown and refunded only when
    chosen. What the service refuses (above what was captured, more tax or shipping than
    the order had) is shown on the form."""
    rma = get_object_or_404(ReturnRequest.objects.select_related("order"), number=number)
    order = rma.order
    lines = [
        {
            "line": rl,
            "paid": rl.order_line.paid_for(rl.quantity_received, currency=order.currency),
        }
        for rl in rma.lines.select_related("order_line")
    ]
    refundable = rma.status == ReturnRequest.Status.RECEIVED
    form = ReturnRefundForm(request.POST or None)
    if request.method == "POST" and refundable and form.is_valid():
        try:
            made = return_refund(return_request=rma, actor=request.user, **form.service_kwargs())
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                _("Refunded %(amount)s %(currency)s for return %(number)s.")
                % {"amount": made.amount, "currency": made.currency, "number": rma.number},
            )
            return redirect("orders:detail", order.number)
    elif request.method == "POST" and not refundable:
        form.add_error(
            None, f"Return {rma.number} is {rma.get_status_display().lower()}; cannot refund"
        )
    return render(
        request,
        "returns/refund_form.html",
        {
            "rma": rma,
            "order": order,
            "lines": lines,
            "proposal": return_refund_proposal(rma),
            "form": form,
            "refundable": refundable,
        },
    )
