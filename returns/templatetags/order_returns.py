"""The order page's returns panel (``returns/partials/_order_returns.html``) and the
link of a replacement order to the order it replaces goods for. Reads only."""

from django import template

from kernel.roles import is_manager
from returns.models import ReturnRequest
from returns.order_forms import OrderReturnForm
from returns.selectors import order_returns, replacement_for, returnable_lines
from returns.services import refund_parts_left

register = template.Library()


@register.simple_tag(takes_context=True)
def order_returns_context(context, order) -> dict:
    """{"returns", "replacement_for", "form", "can_manage", "refundable"}. ``form``: the
    page's bound "Start a return" form when it came back with errors, else a fresh one
    (None when nothing shipped is left to return)."""
    request = context.get("request")
    form = context.get("return_form")
    if not isinstance(form, OrderReturnForm):
        lines = returnable_lines(order)
        form = OrderReturnForm(lines=lines) if lines else None
    returns = list(order_returns(order))
    received = any(r.status == ReturnRequest.Status.RECEIVED for r in returns)
    return {
        "returns": returns,
        "replacement_for": replacement_for(order),
        "form": form,
        "can_manage": bool(request and is_manager(request.user)),
        "refundable": refund_parts_left(order)["total"] if received else None,
    }
