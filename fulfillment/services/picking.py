"""Pick lists (waves): several shipments of one warehouse picked in one walk."""

from collections.abc import Sequence

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from fulfillment.exceptions import FulfillmentError
from fulfillment.models import PICK_LIST_TRANSITIONS, PickList, Shipment, ShipmentLine
from fulfillment.services.reroute import shipment_short_pick
from fulfillment.services.shipments import shipment_pick, shipment_start_picking
from inventory.models import Product, Warehouse
from kernel.exceptions import InvalidTransition
from kernel.numbering import next_number
from orders.models import Order


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


TO_PICK = (Shipment.Status.ALLOCATED, Shipment.Status.PICKING)
CLOSED_LISTS = (PickList.Status.DONE, PickList.Status.CANCELLED)


@transaction.atomic
def pick_list_pick(*, pick_list: PickList, product: Product, quantity: int, actor=None) -> int:
    """Confirm ``quantity`` scanned units of ``product`` on the wave: they go to the
    wave's shipments that still need it, oldest order first (``shipment_pick`` per
    shipment, in order-id order like every multi-order lock). Refused, changing
    nothing, when the product is not on the list, for more units than are left, or for
    units that belong to orders on hold. Returns the units of the product still to pick.
    """
    if pick_list.status in CLOSED_LISTS:
        raise FulfillmentError(f"{pick_list.number} is {pick_list.status}: nothing left to pick")
    lines = list(
        ShipmentLine.objects.filter(shipment__pick_list=pick_list, order_line__product=product)
        .exclude(shipment__status=Shipment.Status.CANCELLED)
        .select_related("shipment__order", "shipment__warehouse")
        .order_by("shipment__order__placed_at", "shipment_id", "pk")
    )
    if not lines:
        raise FulfillmentError(
            f"Wrong item: {product.sku} ({product.name}) is not on {pick_list.number}. Put it back."
        )
    open_lines = [
        sl for sl in lines if sl.shipment.status in TO_PICK and sl.quantity_picked < sl.quantity
    ]
    left = sum(sl.quantity - sl.quantity_picked for sl in open_lines)
    if left == 0:
        needed = sum(sl.quantity for sl in lines)
        raise FulfillmentError(
            f"Over-pick: all {needed} of {product.sku} are already picked. Put it back."
        )
    if quantity > left:
        raise FulfillmentError(
            f"Over-pick: only {left} more of {product.sku} needed, not {quantity}."
        )
    active = [sl for sl in open_lines if sl.shipment.order.status != Order.Status.ON_HOLD]
    if quantity > sum(sl.quantity - sl.quantity_picked for sl in active):
        held = sorted(
            {sl.shipment.order.number for sl in open_lines}
            - {sl.shipment.order.number for sl in active}
        )
        raise FulfillmentError(
            f"The rest of {product.sku} is for order(s) on hold ({', '.join(held)}): "
            "leave it in the bin."
        )
    plan: dict[int, tuple[Shipment, dict[int, int]]] = {}
    remaining = quantity
    for sl in active:
        take = min(sl.quantity - sl.quantity_picked, remaining)
        if take:
            plan.setdefault(sl.shipment_id, (sl.shipment, {}))[1][sl.pk] = take
            remaining -= take
        if not remaining:
            break
    for shipment, quantities in sorted(plan.values(), key=lambda p: p[0].order_id):
        shipment_pick(shipment=shipment, quantities=quantities, actor=actor)
    return left - quantity


def pick_list_complete_if_picked(*, pick_list: PickList, actor=None) -> bool:
    """When every unit of the wave is picked, its shipments go to ``picked`` and the
    list to ``done`` (``pick_list_complete``). Shipments of orders on hold keep the wave
    open. True when the wave was completed now."""
    pick_list.refresh_from_db()
    if pick_list.status in CLOSED_LISTS:
        return False
    open_lines = ShipmentLine.objects.filter(
        shipment__pick_list=pick_list, shipment__status__in=TO_PICK
    )
    if open_lines.filter(quantity_picked__lt=F("quantity")).exists():
        return False
    if Shipment.objects.filter(
        pick_list=pick_list, status__in=TO_PICK, order__status=Order.Status.ON_HOLD
    ).exists():
        return False
    pick_list_complete(pick_list=pick_list, actor=actor)
    return True


def pick_list_short_pick(*, pick_list: PickList, product_id: int, found: int, actor=None) -> str:
    """ "Short" on a wave's line: the bin holds ``found`` units, fewer than the list asks
    for. The oldest open shipment line of the product takes the count and sends its
    shortfall back to routing (``shipment_short_pick``). Returns the SKU."""
    target = (
        ShipmentLine.objects.filter(
            shipment__pick_list=pick_list,
            shipment__status__in=TO_PICK,
            order_line__product_id=product_id,
            quantity_picked__lt=F("quantity"),
        )
        .select_related("shipment__order", "order_line")
        .order_by("shipment__order__placed_at", "shipment_id", "pk")
        .first()
    )
    if target is None or pick_list.status in CLOSED_LISTS:
        raise FulfillmentError("Nothing is left to pick on that line", field="line")
    shipment_short_pick(
        shipment=target.shipment, found=found, order_line=target.order_line, actor=actor
    )
    return target.order_line.sku
