"""The order page's edit and cancel-lines forms (``orders/partials/_order_change.html``),
managers only. They read the posted fields, call ``order_edit`` / ``order_cancel_lines``
and come back to the order page with what changed, or with the refusal as a form error
(a line being picked says why).

Each rendered form carries a one-time ``form-key``: the key is stored in the change's
transaction, so a double click or a resubmitted page changes the order once (a second
submit waits for the first and is told it was saved); a refused change keeps no key."""

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from fulfillment.services.line_cancel import order_cancel_lines
from fulfillment.services.order_change import order_edit
from kernel.db import retry_on_conflict
from kernel.exceptions import DomainError
from kernel.models import IdempotencyKey
from kernel.views import manager_required
from orders.models import Order
from orders.services import ADDRESS_FIELDS


def _whole(value: str, label: str) -> int:
    try:
        return int(value.strip())
    except (AttributeError, ValueError):
        raise DomainError(f"{label}: enter a whole number") from None


def _edit_args(order: Order, post) -> dict:
    """What the form changes: only fields that differ from the order as shown."""
    quantities, remove, add = [], [], []
    for line in order.lines.order_by("pk"):
        if post.get(f"remove-{line.pk}"):
            remove.append(line.pk)
            continue
        raw = post.get(f"qty-{line.pk}")
        if raw is None:
            continue  # locked or nothing open: not on the form
        quantity = _whole(raw, f"Quantity of {line.sku}")
        expected = _whole(post.get(f"expected-{line.pk}", str(line.quantity)), line.sku)
        if quantity != expected:
            quantities.append({"line": line.pk, "quantity": quantity, "expected": expected})
    sku = (post.get("add-sku") or "").strip()
    if sku:
        add.append({"sku": sku, "quantity": _whole(post.get("add-quantity", "1"), "Quantity")})
    address = {
        k: post[f"ship-{k}"].strip()
        for k in ADDRESS_FIELDS
        if f"ship-{k}" in post and post[f"ship-{k}"].strip() != getattr(order, f"ship_{k}")
    }
    shipping = (post.get("shipping_total") or "").strip()
    return {
        "quantities": quantities,
        "remove": remove,
        "add": add,
        "address": address or None,
        "service": (post.get("service") or "").strip() or None,
        "shipping_total": shipping if shipping and shipping != str(order.shipping_total) else None,
    }


ALREADY = (
    "This form was saved already (a second click or a resubmitted page): nothing more changed."
)


@retry_on_conflict
def _once(request, call):
    """``call()`` in one transaction with the form's key; None when the key was used."""
    key = (request.POST.get("form-key") or "").strip()
    with transaction.atomic():  # a refusal rolls the key back with the change
        if key:
            try:
                with transaction.atomic():
                    IdempotencyKey.objects.create(
                        user_id=request.user.pk,
                        key=f"page:{key}"[:255],
                        method="POST",
                        path=request.path[:512],
                        status_code=302,
                    )
            except IntegrityError:
                return None
        return call()


@manager_required
@require_POST
def order_edit_view(request, number):
    order = get_object_or_404(Order, number=number)
    back = redirect("orders:detail", order.number)
    try:
        args = _edit_args(order, request.POST)
        result = _once(request, lambda: order_edit(order=order, actor=request.user, **args))
    except DomainError as exc:
        messages.error(request, exc.message)
        return back
    if result is None:
        messages.info(request, ALREADY)
        return back
    if result["changes"]:
        messages.success(request, f"{order.number} changed: " + "; ".join(result["changes"]))
    else:
        messages.info(request, "Nothing to change.")
    return back


@manager_required
@require_POST
def order_cancel_lines_view(request, number):
    order = get_object_or_404(Order, number=number)
    back = redirect("orders:detail", order.number)
    try:
        lines = []
        for line in order.lines.order_by("pk"):
            raw = request.POST.get(f"cancel-{line.pk}")
            if raw not in (None, "", "0"):
                lines.append({"line": line.pk, "quantity": _whole(raw, line.sku)})
        reason = request.POST.get("reason", "")
        result = _once(
            request,
            lambda: order_cancel_lines(order=order, lines=lines, reason=reason, actor=request.user),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return back
    if result is None:
        messages.info(request, ALREADY)
        return back
    message = f"{order.number}: " + ", ".join(result["changes"])
    if result["refund_due"]:
        message += f"; refund due {result['refund_due']} {order.currency}"
    messages.success(request, message)
    return back
