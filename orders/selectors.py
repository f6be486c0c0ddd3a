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
