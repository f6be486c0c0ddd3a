from django.db.models import Prefetch, QuerySet

from fulfillment.models import Shipment, ShipmentLine


def shipment_queryset() -> QuerySet[Shipment]:
    return Shipment.objects.select_related("order", "warehouse", "pick_list").prefetch_related(
        Prefetch("lines", queryset=ShipmentLine.objects.select_related("order_line").order_by("pk"))
    )
