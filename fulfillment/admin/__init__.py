"""Admin for shipments, pick lists and carriers; and the order actions that route stock.

Shipments and pick lists are created by allocation and picking services, never in the
admin; statuses and quantities are read-only and change through actions. Carriers,
their services and rates are plain master data.

Fulfillment sits above orders, so this module completes the order admin: it registers
``FulfillmentOrderAdmin`` (``orders.admin.OrderAdmin`` plus the shipments inline and the
confirm / release / cancel actions, which allocate or release stock).

Split by subject: ``orders`` (the completed order admin), ``carriers`` (master data),
``shipments`` (shipments, parcels, tracking, tokens, manifests), ``pick_lists``. Importing
this package registers them all; the names stay importable from ``fulfillment.admin``.
"""

from fulfillment.admin.carriers import (
    CarrierAdmin,
    CarrierServiceAdmin,
    CarrierServiceInline,
    ShippingRateAdmin,
    ShippingRateInline,
)
from fulfillment.admin.orders import FulfillmentOrderAdmin, OrderShipmentInline
from fulfillment.admin.pick_lists import PickListAdmin, PickListShipmentInline
from fulfillment.admin.shipments import (
    SHIPMENT_READONLY,
    CarrierTokenAdmin,
    ManifestAdmin,
    ShipmentAdmin,
    ShipmentLineAdmin,
    ShipmentLineInline,
    ShipmentParcelAdmin,
    ShipmentParcelInline,
    TrackingEventAdmin,
    TrackingEventInline,
)

__all__ = [
    "SHIPMENT_READONLY",
    "CarrierAdmin",
    "CarrierServiceAdmin",
    "CarrierServiceInline",
    "CarrierTokenAdmin",
    "FulfillmentOrderAdmin",
    "ManifestAdmin",
    "OrderShipmentInline",
    "PickListAdmin",
    "PickListShipmentInline",
    "ShipmentAdmin",
    "ShipmentLineAdmin",
    "ShipmentLineInline",
    "ShipmentParcelAdmin",
    "ShipmentParcelInline",
    "ShippingRateAdmin",
    "ShippingRateInline",
    "TrackingEventAdmin",
    "TrackingEventInline",
]
