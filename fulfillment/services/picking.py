"""Pick lists (waves): several shipments of one warehouse picked in one walk."""

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from fulfillment.exceptions import FulfillmentError
from fulfillment.models import PICK_LIST_TRANSITIONS, PickList, Shipment
from fulfillment.services.shipments import shipment_pick, shipment_start_picking
from inventory.models import Warehouse
from oms.exceptions import InvalidTransition
from oms.numbering import next_number


def _move(pick_list: PickList, new_status: str, move: str, extra_fields=()) -> None:
    if new_status not in PICK_LIST_TRANSITIONS[pick_list.status]:
        raise InvalidTransition(
            entity="Pick list", number=pick_list.number, current=pick_list.status, move=move
        )
    pick_list.status = new_status
    pick_list.save(update_fields=["status", *extra_fields])


@transaction.atomic
def pick_list_create(
    *, warehouse: Warehouse, shipments: Sequence[Shipment], actor=None, assigned_to=None
) -> PickList:
    """Create a wave from allocated shipments of ``warehouse``; they move to ``picking``."""
    if not shipments:
        raise FulfillmentError("A pick list needs at least one shipment", field="shipments")
    for shipment in shipments:
        if shipment.warehouse_id != warehouse.pk:
            raise FulfillmentError(
                f"{shipment.number} ships from {shipment.warehouse.code}, not {warehouse.code}",
                field="shipments",
            )
        if shipment.pick_list_id:
            raise FulfillmentError(
                f"{shipment.number} is already on a pick list", field="shipments"
            )
    pick_list = PickList.objects.create(
        number=next_number("picklist"), warehouse=warehouse, assigned_to=assigned_to
    )
    for shipment in sorted(shipments, key=lambda s: s.order_id):
        shipment_start_picking(shipment=shipment, actor=actor)
        shipment.pick_list = pick_list
        shipment.save(update_fields=["pick_list"])
    return pick_list


@transaction.atomic
def pick_list_complete(*, pick_list: PickList, actor=None) -> PickList:
    """Mark every shipment on the list fully picked and the list done."""
    pick_list = PickList.objects.select_for_update().get(pk=pick_list.pk)
    for shipment in pick_list.shipments.select_related("order").order_by("order_id"):
        if shipment.status in (Shipment.Status.ALLOCATED, Shipment.Status.PICKING):
            shipment_pick(shipment=shipment, actor=actor)
    pick_list.completed_at = timezone.now()
    _move(pick_list, PickList.Status.DONE, "complete", extra_fields=["completed_at"])
    return pick_list
