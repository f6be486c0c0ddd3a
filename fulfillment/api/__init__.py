"""REST API v1: the order workflow that reaches into fulfillment, and shipments.

Split by resource: ``orders`` (the order workflow viewset the router serves),
``serializers`` (shipment input and output), ``shipments`` and ``pick_lists`` (their
viewsets). The names stay importable from ``fulfillment.api``.
"""

from fulfillment.api.orders import OrderWorkflowViewSet
from fulfillment.api.pick_lists import (
    PickListFilter,
    PickListSerializer,
    PickListViewSet,
)
from fulfillment.api.serializers import (
    EARLIEST_EVENT,
    BookingSerializer,
    BookSerializer,
    PackSerializer,
    ParcelInSerializer,
    RateSerializer,
    RatesSerializer,
    ShipmentFilter,
    ShipmentLineSerializer,
    ShipmentParcelSerializer,
    ShipmentSerializer,
    ShipSerializer,
    TrackingEventInSerializer,
    TrackingEventSerializer,
    TrackingInSerializer,
    TrackingResultSerializer,
    VoidSerializer,
)
from fulfillment.api.shipments import (
    PDF_RESPONSES,
    SHIPMENT_ERRORS,
    JsonErrorsNegotiation,
    ShipmentViewSet,
)

__all__ = [
    "BookSerializer",
    "BookingSerializer",
    "EARLIEST_EVENT",
    "JsonErrorsNegotiation",
    "OrderWorkflowViewSet",
    "PDF_RESPONSES",
    "PackSerializer",
    "ParcelInSerializer",
    "PickListFilter",
    "PickListSerializer",
    "PickListViewSet",
    "RateSerializer",
    "RatesSerializer",
    "SHIPMENT_ERRORS",
    "ShipSerializer",
    "ShipmentFilter",
    "ShipmentLineSerializer",
    "ShipmentParcelSerializer",
    "ShipmentSerializer",
    "ShipmentViewSet",
    "TrackingEventInSerializer",
    "TrackingEventSerializer",
    "TrackingInSerializer",
    "TrackingResultSerializer",
    "VoidSerializer",
]
