"""Warehouse floor pages: the pick queue and waves, the pick list scanner, the pack station.

Every page works as plain HTML forms (POST, then a redirect back to the page). With htmx a
scan is posted in place and the answer is the page's panel only (``kernel.views.is_htmx``),
so the scan input comes back empty and focused, with the message under it. The pages
check the shape of a scan and call the services; the services enforce the rules.

Split by page: ``picking`` (queue, waves, scanner), ``packing`` (the pack station),
``orders`` (manager order actions); ``common`` holds what they share. The names stay
importable from ``fulfillment.views``.
"""

from fulfillment.views.common import (
    DONE_LISTS,
    TO_PICK,
    Status,
    current_warehouse,
    floor_warehouses,
    form_error,
)
from fulfillment.views.orders import order_action, order_reroute
from fulfillment.views.packing import (
    PACKABLE,
    SESSION_PACK,
    document_urls,
    pack,
    pack_print,
    pack_reset,
    pack_scan,
    pack_ship,
    pack_shipment,
    resolve_pack_code,
    service_choices,
)
from fulfillment.views.picking import pick_list_detail, pick_queue, pick_scan, pick_short

__all__ = [
    "DONE_LISTS",
    "PACKABLE",
    "SESSION_PACK",
    "Status",
    "TO_PICK",
    "current_warehouse",
    "document_urls",
    "floor_warehouses",
    "form_error",
    "order_action",
    "order_reroute",
    "pack",
    "pack_print",
    "pack_reset",
    "pack_scan",
    "pack_ship",
    "pack_shipment",
    "pick_list_detail",
    "pick_queue",
    "pick_scan",
    "pick_short",
    "resolve_pack_code",
    "service_choices",
]
