"""Order pages for managers: the list (filters shared with the API) and the detail with
its lines, shipments, returns (read by the ``order_returns`` tags of the returns app)
and timeline. The state changes the detail page offers
(confirm, hold, release, cancel, re-route) reach into fulfillment, so their views live in
``fulfillment.views`` (a lower app never imports a higher one)."""

from django.apps import apps
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from inventory.models import Warehouse
from kernel.views import filter_params, manager_required
from orders.forms import OrderPageFilter, allowed_actions
from orders.models import Channel, Order, OrderEvent
from orders.selectors import (
    backorder_expected_dates,
    order_detail_queryset,
    order_list_queryset,
)

PAGE_SIZE = 50


def _shipment_model():
    return apps.get_model("fulfillment", "Shipment")


def _add_shipment_links(shipments) -> None:
    """Each shipment's label and packing slip (staff PDFs) and the carrier's tracking
    page. (orders sits below fulfillment: the carrier model is named, not imported.)"""
    Carrier = apps.get_model("fulfillment", "Carrier")
    codes = {s.carrier for s in shipments if s.carrier}
    carriers = {c.code: c for c in Carrier.objects.filter(code__in=codes)} if codes else {}
    for s in shipments:
        carrier = carriers.get(s.carrier)
        s.carrier_tracking_url = carrier.tracking_url(s.tracking_number) if carrier else ""
        s.label_url = (
            reverse("documents:shipment-label", args=[s.number]) if s.tracking_number else ""
        )
        s.slip_url = (
            reverse("documents:shipment-packing-slip", args=[s.number])
            if s.status != "cancelled"
            else ""
        )


@manager_required
def order_list(request):
    Shipment = _shipment_model()
    queryset = order_list_queryset().prefetch_related(
        Prefetch("shipments", queryset=Shipment.objects.select_related("warehouse").order_by("pk"))
    )
    params = filter_params(request.GET)
    page_number = params.pop("page", [None])[-1]
    order_filter = OrderPageFilter(params or None, queryset=queryset)
    orders = order_filter.qs.order_by("-placed_at", "-id")
    page = Paginator(orders, PAGE_SIZE).get_page(page_number)
    return render(
        request,
        "orders/order_list.html",
        {
            "filter": order_filter,
            "page": page,
            "querystring": params.urlencode(),
            "statuses": Order.Status.choices,
            "selected_statuses": params.getlist("status"),
            "channels": Channel.objects.order_by("code").values_list("code", "name"),
            "warehouses": Warehouse.objects.order_by("priority", "code").values_list(
                "code", "name"
            ),
        },
    )


@manager_required
def order_detail(request, number, **extra):
    order = get_object_or_404(order_detail_queryset(), number=number)
    lines = list(order.lines.all())
    shipments = list(order.shipments.all())
    _add_shipment_links(shipments)
    backorder_applies = order.status in (Order.Status.CONFIRMED, Order.Status.ON_HOLD)
    for line in lines:
        line.backordered = max(line.quantity_backordered, 0) if backorder_applies else 0
    if any(line.backordered for line in lines) and order.status == Order.Status.CONFIRMED:
        expected = backorder_expected_dates(
            product_ids={line.product_id for line in lines if line.backordered}
        )
        for line in lines:
            line.expected = expected.get(line.pk)
    actions = allowed_actions(order, shipped_anything=any(ln.quantity_shipped for ln in lines))
    reroutable = [s for s in shipments if s.status == "allocated"]
    events = list(order.events.all())
    explanation = ""
    if order.at_risk:
        flagged = [e for e in events if e.kind == OrderEvent.Kind.AT_RISK]
        explanation = flagged[-1].message.removeprefix("At risk: ") if flagged else ""
    return render(
        request,
        "orders/order_detail.html",
        {
            "order": order,
            "lines": lines,
            "shipments": shipments,
            "events": events[::-1],
            "at_risk_explanation": explanation,
            "tracking_page_url": reverse("tracking-page", args=[order.tracking_token]),
            "actions": actions,
            "reroutable": reroutable,
            "warehouses": Warehouse.objects.filter(active=True).order_by("priority", "code")
            if reroutable
            else [],
            **extra,
        },
    )
