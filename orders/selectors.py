from datetime import date

from django.db.models import Prefetch, QuerySet

from orders.models import Order, OrderEvent, OrderLine, Payment


def order_list_queryset() -> QuerySet[Order]:
    """Orders with what a list shows: channel, customer, lines (one query each)."""
    return Order.objects.select_related("channel", "customer").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("order").order_by("pk"))
    )


def order_detail_queryset() -> QuerySet[Order]:
    """Orders with lines, shipments (and their warehouse) and the timeline."""
    from django.apps import apps

    Shipment = apps.get_model("fulfillment", "Shipment")
    return order_list_queryset().prefetch_related(
        Prefetch("shipments", queryset=Shipment.objects.select_related("warehouse").order_by("pk")),
        Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "pk")),
        Prefetch("payments", queryset=Payment.objects.order_by("created_at", "pk")),
    )


def backorder_expected_dates(*, product_ids=None) -> dict[int, date | None]:
    """order line id -> the day its backordered units are expected (``None``: nothing
    due covers them yet), for every backordered line of a confirmed order. Lines are
    served oldest order first, as routing fills backorders when stock arrives, and each
    takes the incoming units (purchase orders sent, transfers in transit) in date order
    (``inventory.selectors.expected_dates``). Three queries."""
    from django.db.models import F

    from inventory.selectors import expected_dates

    lines = OrderLine.objects.filter(
        order__status=Order.Status.CONFIRMED,
        quantity__gt=F("quantity_allocated") + F("quantity_shipped") + F("quantity_cancelled"),
    )
    if product_ids is not None:
        lines = lines.filter(product_id__in=list(product_ids))
    demands = [
        (pk, product_id, quantity - allocated - shipped - cancelled)
        for pk, product_id, quantity, allocated, shipped, cancelled in lines.order_by(
            "order__placed_at", "order_id", "pk"
        ).values_list(
            "pk",
            "product_id",
            "quantity",
            "quantity_allocated",
            "quantity_shipped",
            "quantity_cancelled",
        )
        if product_id is not None
    ]
    return expected_dates(demands)
