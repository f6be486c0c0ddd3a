"""Returns from the order page (managers, as in the returns admin and API): start a
return of shipped lines, with replacements for an exchange, and approve it (an exchange
places its linked replacement order). Both call the returns services; what they refuse
is shown on the order page, which is rendered again with the form (400)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kernel.exceptions import DomainError
from kernel.views import manager_required
from orders import views as order_views
from orders.models import Order
from returns.models import ReturnRequest
from returns.order_forms import OrderReturnForm
from returns.selectors import returnable_lines
from returns.services import return_approve, return_request


def _order_page(number: str) -> str:
    return reverse("orders:detail", args=[number]) + "#returns"


@manager_required
@require_POST
def order_return_start(request, number):
    """Open an RMA for the chosen lines; back to the order page, which lists it."""
    order = get_object_or_404(Order, number=number)
    form = OrderReturnForm(request.POST, lines=returnable_lines(order))
    if form.is_valid():
        try:
            rma = return_request(order=order, lines=form.service_lines(), actor=request.user)
        except DomainError as exc:
            form.add_service_error(exc.field, exc.message)
        else:
            messages.success(request, _("Return %(number)s requested.") % {"number": rma.number})
            return redirect(_order_page(order.number))
    response = order_views.order_detail(request, number, return_form=form)
    response.status_code = 400
    return response


@manager_required
@require_POST
def return_approve_view(request, number):
    """requested -> approved; for an exchange the replacement order is placed with it."""
    rma = get_object_or_404(ReturnRequest.objects.select_related("order"), number=number)
    try:
        return_approve(return_request=rma, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        rma.refresh_from_db()
        if rma.replacement_order_id:
            messages.success(
                request,
                _("Return %(number)s approved; replacement order %(replacement)s placed.")
                % {"number": rma.number, "replacement": rma.replacement_order.number},
            )
        else:
            messages.success(request, _("Return %(number)s approved.") % {"number": rma.number})
    return redirect(_order_page(rma.order.number))
