"""The whole life of an order, through the services, ending with a clean stock ledger."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from fulfillment.models import PickList, Shipment
from fulfillment.services import (
    order_cancel_and_release,
    pick_list_complete,
    pick_list_create,
    shipment_deliver,
    shipment_pack,
    shipment_ship,
)
from inventory.models import StockMovement
from inventory.services import stock_adjust
from orders.models import Order, OrderEvent
from orders.services import order_mark_paid
from returns.models import ReturnRequest
from returns.services import (
    return_approve,
    return_close,
    return_receive,
    return_refund,
    return_request,
)
from tests import factories as f

S = Order.Status
A = Order.AllocationStatus
FS = Order.FulfillmentStatus
PAY = Order.FinancialStatus
E = OrderEvent.Kind
SH = Shipment.Status
Kind = StockMovement.Kind


def check_stock_ledger() -> str:
    out = StringIO()
    call_command("check_stock_ledger", stdout=out)
    assert "Stock ledger clean" in out.getvalue()
    return out.getvalue()


@pytest.mark.django_db
def test_receive_place_confirm_pick_pack_ship_deliver_return_restock_refund():
    wh = f.make_warehouse("SP-01", priority=1)
    shirt = f.make_product("TSHIRT-M", price="19.90", weight_grams=200)
    mug = f.make_product("MUG", price="7.50", weight_grams=350)

    # receive
    f.receive(shirt, wh, 10, reference="PO-1")
    f.receive(mug, wh, 5, reference="PO-1")
    assert f.quantities(shirt, wh) == (10, 0)

    # place
    order = f.place([(shirt, 2), (mug, 1)], external_id="1001", shipping_total="5.00")
    assert order.total == Decimal("52.30")
    assert f.statuses(order) == (S.PENDING, A.UNALLOCATED, FS.UNFULFILLED, PAY.PENDING)

    order_mark_paid(order=order)
    assert f.statuses(order) == (S.PENDING, A.UNALLOCATED, FS.UNFULFILLED, PAY.PAID)

    # confirm (allocates)
    f.confirm(order)
    assert f.statuses(order) == (S.CONFIRMED, A.ALLOCATED, FS.UNFULFILLED, PAY.PAID)
    shipment = order.shipments.get()
    assert f.quantities(shirt, wh) == (10, 2)
    assert f.quantities(mug, wh) == (5, 1)

    # pick (through a pick list)
    pick_list = pick_list_create(warehouse=wh, shipments=[shipment])
    shipment.refresh_from_db()
    assert shipment.status == SH.PICKING
    pick_list_complete(pick_list=pick_list)
    shipment.refresh_from_db()
    pick_list.refresh_from_db()
    assert (shipment.status, pick_list.status) == (SH.PICKED, PickList.Status.DONE)
    assert f.statuses(order) == (S.CONFIRMED, A.ALLOCATED, FS.UNFULFILLED, PAY.PAID)

    # pack
    shipment_pack(shipment=shipment)
    assert (shipment.status, shipment.weight_grams) == (SH.PACKED, 750)
    assert f.statuses(order) == (S.CONFIRMED, A.ALLOCATED, FS.UNFULFILLED, PAY.PAID)

    # ship
    shipment_ship(shipment=shipment, carrier="table", tracking_number="TRK1")
    assert f.statuses(order) == (S.SHIPPED, A.ALLOCATED, FS.FULFILLED, PAY.PAID)
    assert f.quantities(shirt, wh) == (8, 0)
    assert f.quantities(mug, wh) == (4, 0)

    # deliver
    shipment_deliver(shipment=shipment)
    assert f.statuses(order) == (S.DELIVERED, A.ALLOCATED, FS.FULFILLED, PAY.PAID)

    # return
    rma = return_request(
        order=order, lines=[{"sku": "TSHIRT-M", "quantity": 1, "reason": "size_fit"}]
    )
    return_approve(return_request=rma)
    assert f.statuses(order) == (S.DELIVERED, A.ALLOCATED, FS.FULFILLED, PAY.PAID)

    # receive, restock
    return_receive(return_request=rma)
    assert f.quantities(shirt, wh) == (9, 0)
    assert order.lines.get(sku="TSHIRT-M").quantity_returned == 1

    # refund
    refund = return_refund(return_request=rma)
    assert refund.amount == Decimal("19.90")
    rma.refresh_from_db()
    assert rma.status == ReturnRequest.Status.REFUNDED
    assert f.statuses(order) == (S.DELIVERED, A.ALLOCATED, FS.FULFILLED, PAY.PARTIALLY_REFUNDED)
    assert order.refunded_total == Decimal("19.90")
    return_close(return_request=rma)

    # the timeline, in order
    assert f.event_kinds(order) == [
        E.PLACED,
        E.PAYMENT,
        E.CONFIRMED,
        E.ALLOCATED,
        E.PICKED,
        E.PACKED,
        E.SHIPPED,  # the shipment
        E.SHIPPED,  # the order: all items shipped
        E.DELIVERED,  # the shipment
        E.DELIVERED,  # the order
        E.RETURN_REQUESTED,
        E.RETURN_APPROVED,
        E.RETURN_RECEIVED,
        E.PAYMENT,
        E.REFUNDED,
    ]

    # the ledger, in order: every change of on_hand or reserved, with its reference
    assert f.movements(product=shirt) == [
        (Kind.RECEIPT, 10, 0, "PO-1"),
        (Kind.RESERVE, 0, 2, shipment.number),
        (Kind.SHIP, -2, -2, shipment.number),
        (Kind.RETURN_RESTOCK, 1, 0, rma.number),
    ]
    assert f.movements(product=mug) == [
        (Kind.RECEIPT, 5, 0, "PO-1"),
        (Kind.RESERVE, 0, 1, shipment.number),
        (Kind.SHIP, -1, -1, shipment.number),
    ]
    f.assert_ledger_clean()
    assert "2 stock levels" in check_stock_ledger()


@pytest.mark.django_db
def test_split_backordered_order_filled_later_and_cancelled_one_ends_clean(
    django_capture_on_commit_callbacks, q_sync
):
    north = f.make_warehouse("NORTH", priority=1)
    south = f.make_warehouse("SOUTH", priority=2)
    shirt = f.make_product("TSHIRT-M")
    f.receive(shirt, north, 2)
    f.receive(shirt, south, 1)

    order = f.confirm(f.place([(shirt, 5)], external_id="A-1"))
    assert f.statuses(order) == (S.CONFIRMED, A.PARTIAL, FS.UNFULFILLED, PAY.PENDING)
    assert [s.warehouse.code for s in order.shipments.order_by("pk")] == ["NORTH", "SOUTH"]

    other = f.confirm(f.place([(shirt, 1)], external_id="A-2"))
    assert f.statuses(other)[1] == A.UNALLOCATED

    for shipment in order.shipments.order_by("pk"):
        shipment_ship(shipment=shipment)
    assert f.statuses(order) == (S.CONFIRMED, A.PARTIAL, FS.PARTIAL, PAY.PENDING)

    # stock arrives: the older order takes all of it, A-2 keeps waiting
    with django_capture_on_commit_callbacks(execute=True):
        f.receive(shirt, north, 2)
    assert f.statuses(order) == (S.CONFIRMED, A.ALLOCATED, FS.PARTIAL, PAY.PENDING)
    assert f.statuses(other)[1] == A.UNALLOCATED

    with django_capture_on_commit_callbacks(execute=True):
        f.receive(shirt, south, 4)
    assert f.statuses(other)[1] == A.ALLOCATED

    # the last shipment of A-1 ships; A-2 is cancelled and its reservation released
    shipment_ship(shipment=order.shipments.filter(status=SH.ALLOCATED).get())
    assert f.statuses(order) == (S.SHIPPED, A.ALLOCATED, FS.FULFILLED, PAY.PENDING)
    order_cancel_and_release(order=other, reason="customer")
    assert f.statuses(other) == (S.CANCELLED, A.UNALLOCATED, FS.UNFULFILLED, PAY.PENDING)
    stock_adjust(product=shirt, warehouse=south, counted=3, reason="cycle count")

    assert f.quantities(shirt, north) == (0, 0)
    assert f.quantities(shirt, south) == (3, 0)
    f.assert_ledger_clean()
    check_stock_ledger()


@pytest.mark.django_db(transaction=True)
def test_receipt_fills_a_backorder_after_a_real_commit(q_sync):
    """No test transaction around it: the receipt commits, its on_commit hook queues
    fulfillment.tasks.allocate_backorders, django-q2 runs it in-process."""
    wh = f.make_warehouse("MAIN", priority=1)
    shirt = f.make_product("TSHIRT-M")
    order = f.confirm(f.place([(shirt, 2)]))
    assert f.statuses(order)[:2] == (S.CONFIRMED, A.UNALLOCATED)

    f.receive(shirt, wh, 5)

    assert f.statuses(order) == (S.CONFIRMED, A.ALLOCATED, FS.UNFULFILLED, PAY.PENDING)
    assert f.quantities(shirt, wh) == (5, 2)
    assert f.event_kinds(order)[-1] == E.ALLOCATED
    f.assert_ledger_clean()
