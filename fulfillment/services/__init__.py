"""Fulfillment services, split by subdomain; import from here."""

from fulfillment.services.allocation import (  # noqa: F401
    allocate_backorders,
    order_allocate,
    order_confirm_and_allocate,
    order_release_and_allocate,
    route_preview,
)
from fulfillment.services.cancellation import order_cancel_and_release  # noqa: F401
from fulfillment.services.intake import (  # noqa: F401
    order_accept,
    order_approve_held,
    order_place_and_confirm,
)
from fulfillment.services.line_cancel import order_cancel_lines  # noqa: F401
from fulfillment.services.order_change import (  # noqa: F401
    order_change_address,
    order_change_shipping,
    order_edit,
    order_line_add,
    order_line_change_quantity,
    order_line_remove,
)
from fulfillment.services.picking import (  # noqa: F401
    pick_list_complete,
    pick_list_complete_if_picked,
    pick_list_create,
    pick_list_pick,
    pick_list_short_pick,
)
from fulfillment.services.reroute import shipment_reroute, shipment_short_pick  # noqa: F401
from fulfillment.services.shipments import (  # noqa: F401
    shipment_cancel,
    shipment_deliver,
    shipment_pack,
    shipment_pick,
    shipment_ship,
    shipment_start_picking,
)
