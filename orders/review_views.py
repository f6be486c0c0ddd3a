"""The review queue (managers): orders on hold with their reasons, the auto-confirm
rules each failed, and the two ways out (approve: release, confirm and route; cancel).

Approving and cancelling reach into fulfillment (routing, releasing stock): orders sits
below it, so the services are named by dotted path, as ``orders.imports`` does.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kernel.exceptions import DomainError
from kernel.views import manager_required
from orders.autoconfirm import HOLD_PREFIX
from orders.models import Order, OrderEvent

APPROVE = "fulfillment.services.order_approve_held"
CANCEL = "fulfillment.services.order_cancel_and_release"
PAGE_SIZE = 50
SOURCES = {"auto": "Auto-confirm rules", "manual": "Held by a person"}


def review_queryset(source: str = ""):
    """Orders on hold, oldest ship-by first, with channel, customer, lines and their
    latest ``held`` event (which carries the auto-confirm rule results)."""
    queryset = Order.objects.filter(status=Order.Status.ON_HOLD)
    if source == "auto":
        queryset = queryset.filter(hold_reason__startswith=HOLD_PREFIX)
    elif source == "manual":
        queryset = queryset.exclude(hold_reason__startswith=HOLD_PREFIX)
    return (
        queryset.select_related("channel", "customer")
        .prefetch_related(
            Prefetch(
                "events",
                queryset=OrderEvent.objects.filter(kind=OrderEvent.Kind.HELD).order_by(
                    "-created_at", "-pk"
                ),
                to_attr="holds",
            )
        )
        .order_by("ship_by", "placed_at", "pk")
    )


@manager_required
def review_list(request):
    source = request.GET.get("source", "")
    source = source if source in SOURCES else ""
    page = Paginator(review_queryset(source), PAGE_SIZE).get_page(request.GET.get("page"))
    for order in page:
        last = order.holds[0] if order.holds else None
        rules = (last.data or {}).get("auto_confirm") if last else None
        order.failed_rules = [r for r in rules or [] if not r.get("passed")]
        order.held_at = last.created_at if last else None
        order.held_by = last.actor if last else ""
    totals = Order.objects.filter(status=Order.Status.ON_HOLD).aggregate(
        all=Count("pk"), auto=Count("pk", filter=Q(hold_reason__startswith=HOLD_PREFIX))
    )
    return render(
        request,
        "orders/review_list.html",
        {
            "page": page,
            "source": source,
            "sources": SOURCES,
            "totals": {**totals, "manual": totals["all"] - totals["auto"]},
        },
    )


@manager_required
@require_POST
def review_approve(request, number):
    order = get_object_or_404(Order, number=number)
    try:
        import_string(APPROVE)(order=order, actor=request.user)
    except DomainError as exc:
        messages.error(
            request, _("%(number)s: %(message)s") % {"number": order.number, "message": exc.message}
        )
    else:
        order.refresh_from_db()
        messages.success(
            request,
            f"{order.number} approved: {order.get_status_display().lower()}, "
            f"{order.get_allocation_status_display().lower()}",
        )
    return redirect(_back(request))


@manager_required
@require_POST
def review_cancel(request, number):
    order = get_object_or_404(Order, number=number)
    reason = (request.POST.get("reason") or "").strip()
    if not reason:
        messages.error(request, _("%(number)s: say why it is cancelled") % {"number": order.number})
        return redirect(_back(request))
    try:
        import_string(CANCEL)(order=order, reason=reason, actor=request.user)
    except DomainError as exc:
        messages.error(
            request, _("%(number)s: %(message)s") % {"number": order.number, "message": exc.message}
        )
    else:
        messages.success(request, _("%(number)s cancelled") % {"number": order.number})
    return redirect(_back(request))


def _back(request) -> str:
    source = request.POST.get("source", "")
    return f"/review/?source={source}" if source in SOURCES else "/review/"
