"""fulfillment.services: routing/allocation, shipment lifecycle, pick lists, backorders."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from fulfillment.exceptions import FulfillmentError
from fulfillment.models import PickList, Shipment, ShipmentLine
from fulfillment.services import (
    allocate_backorders,
    order_allocate,
    pick_list_complete,
    pick_list_create,
    shipment_cancel,
    shipment_deliver,
    shipment_pack,
    shipment_pick,
    shipment_ship,
    shipment_start_picking,
)
from inventory.models import StockMovement
from inventory.services import stock_adjust, stock_transfer
from kernel.exceptions import InvalidTransition
from orders.models import Order, OrderEvent
from orders.services import order_hold, order_mark_paid, order_release
from tests import factories as f

pytestmark = pytest.mark.django_db

S = Order.Status
A = Order.AllocationStatus
FS = Order.FulfillmentStatus
PAY = Order.FinancialStatus
E = OrderEvent.Kind
SH = Shipment.Status
Kind = StockMovement.Kind


@pytest.fixture
def main():
    return f.make_warehouse("MAIN", priority=1)


@pytest.fixture
def store():
    return f.make_warehouse("STORE", priority=5)


@pytest.fixture
def shirt():
    return f.make_product("TSHIRT-M", price="19.90", weight_grams=200)


@pytest.fixture
def mug():
    return f.make_product("MUG", price="7.50", weight_grams=350)


def shipment_lines(shipment) -> list[tuple[str, int]]:
    return list(
        ShipmentLine.objects.filter(shipment=shipment)
        .order_by("pk")
        .values_list("order_line__sku", "quantity")
    )


def line_quantities(order) -> list[tuple[str, int, int, int]]:
    """(sku, allocated, shipped, backordered) per line."""
    return [
        (ln.sku, ln.quantity_allocated, ln.quantity_shipped, ln.quantity_backordered)
        for ln in order.lines.order_by("pk")
    ]


# --------------------------------------------------------------------------- allocation


def test_confirm_allocates_from_the_first_warehouse_by_priority(main, store, shirt):
    f.receive(shirt, main, 5)
    f.receive(shirt, store, 5)
    order = f.place([(shirt, 3)])

    f.confirm(order, actor="staff")

    assert f.statuses(order) == (S.CONFIRMED, A.ALLOCATED, FS.UNFULFILLED, PAY.PENDING)
    shipment = order.shipments.get()
    assert re.fullmatch(r"SH-\d{6}", shipment.number)
    assert (shipment.warehouse, shipment.status) == (main, SH.ALLOCATED)
    assert shipment_lines(shipment) == [("TSHIRT-M", 3)]
    assert line_quantities(order) == [("TSHIRT-M", 3, 0, 0)]
    assert f.quantities(shirt, main) == (5, 3)
    assert f.quantities(shirt, store) == (5, 0)
    assert f.movements(kind=Kind.RESERVE) == [(Kind.RESERVE, 0, 3, shipment.number)]
    reserve = StockMovement.objects.get(kind=Kind.RESERVE)
    assert (reserve.note, reserve.actor) == (f"order {order.number}", "staff")

    assert f.event_kinds(order) == [E.PLACED, E.CONFIRMED, E.ALLOCATED]
    event = f.last_event(order, E.ALLOCATED)
    # the explanation says where and why; its wording beyond that belongs to routing
    assert event.message.startswith(f"Routed by priority: {shipment.number} from MAIN. ")
    assert "TSHIRT-M x3 from MAIN (first by priority with enough stock)" in event.message
    assert event.data["strategy"] == "priority"
    assert event.data["shipments"] == [{"number": shipment.number, "warehouse": "MAIN"}]
    f.assert_ledger_clean()


def test_priority_skips_a_point_that_cannot_ship_the_whole_line(main, store, shirt):
    f.receive(shirt, main, 2)
    f.receive(shirt, store, 5)

    order = f.confirm(f.place([(shirt, 3)]))

    shipment = order.shipments.get()
    assert shipment.warehouse == store
    assert f.quantities(shirt, main) == (2, 0)
    assert f.quantities(shirt, store) == (5, 3)
    assert f.statuses(order)[1] == A.ALLOCATED


def test_a_line_no_single_point_can_ship_is_split_one_shipment_per_point(main, store, shirt):
    f.receive(shirt, main, 2)
    f.receive(shirt, store, 2)

    order = f.confirm(f.place([(shirt, 3)]))

    assert f.statuses(order) == (S.CONFIRMED, A.ALLOCATED, FS.UNFULFILLED, PAY.PENDING)
    first, second = order.shipments.order_by("pk")
    assert (first.warehouse, shipment_lines(first)) == (main, [("TSHIRT-M", 2)])
    assert (second.warehouse, shipment_lines(second)) == (store, [("TSHIRT-M", 1)])
    assert f.quantities(shirt, main) == (2, 2)
    assert f.quantities(shirt, store) == (2, 1)
    assert line_quantities(order) == [("TSHIRT-M", 3, 0, 0)]
    assert "TSHIRT-M x3 split: 2 from MAIN, 1 from STORE" in f.last_event(order).message
    f.assert_ledger_clean()


def test_lines_from_different_points_make_one_shipment_per_point(main, store, shirt, mug):
    f.receive(shirt, main, 5)
    f.receive(mug, store, 5)
    other = f.make_product("CAP")
    f.receive(other, main, 5)

    order = f.confirm(f.place([(shirt, 1), (mug, 2), (other, 1)]))

    shipments = list(order.shipments.order_by("pk"))
    assert [s.warehouse.code for s in shipments] == ["MAIN", "STORE"]
    assert shipment_lines(shipments[0]) == [("TSHIRT-M", 1), ("CAP", 1)]
    assert shipment_lines(shipments[1]) == [("MUG", 2)]
    assert f.statuses(order)[1] == A.ALLOCATED


def test_what_cannot_be_reserved_stays_backordered(main, store, shirt, mug):
    f.receive(shirt, main, 2)

    order = f.confirm(f.place([(shirt, 5), (mug, 1)]))

    assert f.statuses(order) == (S.CONFIRMED, A.PARTIAL, FS.UNFULFILLED, PAY.PENDING)
    assert line_quantities(order) == [("TSHIRT-M", 2, 0, 3), ("MUG", 0, 0, 1)]
    assert f.quantities(shirt, main) == (2, 2)
    assert shipment_lines(order.shipments.get()) == [("TSHIRT-M", 2)]
    assert f.event_kinds(order) == [E.PLACED, E.CONFIRMED, E.ALLOCATED, E.BACKORDERED]
    event = f.last_event(order, E.BACKORDERED)
    assert event.message.startswith("Backordered: TSHIRT-M x3, MUG x1")
    assert event.data["backordered"] == {"TSHIRT-M": 3, "MUG": 1}
    f.assert_ledger_clean()


def test_nothing_in_stock_leaves_the_order_unallocated(main, shirt):
    order = f.confirm(f.place([(shirt, 2)]))

    assert f.statuses(order) == (S.CONFIRMED, A.UNALLOCATED, FS.UNFULFILLED, PAY.PENDING)
    assert not order.shipments.exists()
    assert f.event_kinds(order) == [E.PLACED, E.CONFIRMED, E.BACKORDERED]
    assert not StockMovement.objects.filter(kind=Kind.RESERVE).exists()


def test_inactive_points_and_reserved_stock_are_not_routed_to(main, store, shirt):
    f.receive(shirt, main, 5)
    f.receive(shirt, store, 5)
    main.active = False
    main.save()

    order = f.confirm(f.place([(shirt, 4)]))
    assert order.shipments.get().warehouse == store

    second = f.confirm(f.place([(shirt, 4)]))
    assert f.statuses(second)[1] == A.PARTIAL
    assert shipment_lines(second.shipments.get()) == [("TSHIRT-M", 1)]
    assert f.quantities(shirt, main) == (5, 0)
    assert f.quantities(shirt, store) == (5, 5)


def test_allocate_does_nothing_for_an_order_that_is_not_confirmed(main, shirt):
    f.receive(shirt, main, 5)
    order = f.place([(shirt, 1)])

    assert order_allocate(order=order) == []

    assert f.statuses(order) == (S.PENDING, A.UNALLOCATED, FS.UNFULFILLED, PAY.PENDING)
    assert f.quantities(shirt, main) == (5, 0)


def test_allocating_again_reserves_only_the_backordered_rest(main, store, shirt):
    f.receive(shirt, main, 2)
    order = f.confirm(f.place([(shirt, 5)]))
    f.receive(shirt, store, 10)  # on_commit does not fire inside the test transaction

    new = order_allocate(order=order)

    assert [(s.warehouse.code, shipment_lines(s)) for s in new] == [("STORE", [("TSHIRT-M", 3)])]
    assert f.statuses(order)[1] == A.ALLOCATED
    assert order.shipments.count() == 2
    assert f.quantities(shirt, store) == (10, 3)
    assert order_allocate(order=order) == []  # nothing left to allocate
    assert order.shipments.count() == 2
    f.assert_ledger_clean()


# --------------------------------------------------------------------------- shipment lifecycle


def test_pick_pack_ship_deliver_with_the_order_states_after_every_step(main, shirt, mug):
    f.receive(shirt, main, 10)
    f.receive(mug, main, 10)
    order = f.place([(shirt, 2), (mug, 1)])
    order_mark_paid(order=order)
    assert f.statuses(order) == (S.PENDING, A.UNALLOCATED, FS.UNFULFILLED, PAY.PAID)

    f.confirm(order)
    assert f.statuses(order) == (S.CONFIRMED, A.ALLOCATED, FS.UNFULFILLED, PAY.PAID)
    shipment = order.shipments.get()

    shipment_start_picking(shipment=shipment)
    assert shipment.status == SH.PICKING
    assert f.statuses(order) == (S.CONFIRMED, A.ALLOCATED, FS.UNFULFILLED, PAY.PAID)

    shipment_pick(shipment=shipment, actor="picker")
    assert shipment.status == SH.PICKED
    assert [ln.quantity_picked for ln in shipment.lines.order_by("pk")] == [2, 1]
    assert f.statuses(order) == (S.CONFIRMED, A.ALLOCATED, FS.UNFULFILLED, PAY.PAID)
    event = f.last_event(order)
    assert (event.kind, event.message, event.actor) == (
        E.PICKED,
        f"{shipment.number} picked at MAIN",
        "picker",
    )
    assert event.data == {"shipment": shipment.number}

    shipment_pack(shipment=shipment)
    assert shipment.status == SH.PACKED
    assert shipment.weight_grams == 2 * 200 + 350
    assert [ln.quantity_packed for ln in shipment.lines.order_by("pk")] == [2, 1]
    assert f.statuses(order) == (S.CONFIRMED, A.ALLOCATED, FS.UNFULFILLED, PAY.PAID)
    assert f.last_event(order).message == f"{shipment.number} packed, 750 g"
    assert f.quantities(shirt, main) == (10, 2)  # nothing leaves before shipping

    shipment_ship(
        shipment=shipment,
        carrier="table",
        service="standard",
        tracking_number="TRK-1",
        shipping_cost="4.999",
    )
    shipment.refresh_from_db()
    assert shipment.status == SH.SHIPPED
    assert shipment.shipped_at is not None
    assert (shipment.carrier, shipment.service, shipment.tracking_number) == (
        "table",
        "standard",
        "TRK-1",
    )
    assert str(shipment.shipping_cost) == "5.00"
    assert f.statuses(order) == (S.SHIPPED, A.ALLOCATED, FS.FULFILLED, PAY.PAID)
    assert f.quantities(shirt, main) == (8, 0)
    assert f.quantities(mug, main) == (9, 0)
    assert line_quantities(order) == [("TSHIRT-M", 0, 2, 0), ("MUG", 0, 1, 0)]
    assert sorted(f.movements(kind=Kind.SHIP)) == sorted(
        [(Kind.SHIP, -2, -2, shipment.number), (Kind.SHIP, -1, -1, shipment.number)]
    )
    shipped = f.last_event(order, E.SHIPPED)
    assert shipped.message == "All items shipped"
    first_shipped = order.events.filter(kind=E.SHIPPED).order_by("pk").first()
    assert (
        first_shipped.message == f"{shipment.number} shipped from MAIN with table, tracking TRK-1"
    )
    assert first_shipped.public is True
    assert first_shipped.data["tracking_number"] == "TRK-1"

    shipment_deliver(shipment=shipment)
    assert shipment.status == SH.DELIVERED
    assert shipment.delivered_at is not None
    assert f.statuses(order) == (S.DELIVERED, A.ALLOCATED, FS.FULFILLED, PAY.PAID)
    assert f.event_kinds(order)[-2:] == [E.DELIVERED, E.DELIVERED]
    f.assert_ledger_clean()


def test_partial_pick_keeps_the_shipment_picking(main, shirt):
    f.receive(shirt, main, 10)
    order = f.confirm(f.place([(shirt, 5)]))
    shipment = order.shipments.get()
    line = shipment.lines.get()

    shipment_pick(shipment=shipment, quantities={line.pk: 2})
    line.refresh_from_db()
    assert (shipment.status, line.quantity_picked) == (SH.PICKING, 2)

    with pytest.raises(FulfillmentError, match="2 of 5 already picked") as exc:
        shipment_pick(shipment=shipment, quantities={line.pk: 4})
    assert exc.value.field == "quantity"

    with pytest.raises(FulfillmentError, match="is not on"):
        shipment_pick(shipment=shipment, quantities={line.pk + 999: 1})

    shipment_pick(shipment=shipment, quantities={line.pk: 3})
    line.refresh_from_db()
    assert (shipment.status, line.quantity_picked) == (SH.PICKED, 5)
    assert f.statuses(order) == (S.CONFIRMED, A.ALLOCATED, FS.UNFULFILLED, PAY.PENDING)

    with pytest.raises(InvalidTransition, match=r"is picked; cannot pick$"):
        shipment_pick(shipment=shipment)


def test_pack_picks_everything_first_and_checks_the_weight(main, shirt):
    f.receive(shirt, main, 10)
    order = f.confirm(f.place([(shirt, 2)]))
    shipment = order.shipments.get()

    with pytest.raises(FulfillmentError) as exc:
        shipment_pack(shipment=shipment, weight_grams=0)
    assert exc.value.field == "weight_grams"
    shipment.refresh_from_db()
    assert shipment.status == SH.ALLOCATED  # the whole pack rolled back

    shipment_pack(shipment=shipment, weight_grams=480)
    assert (shipment.status, shipment.weight_grams) == (SH.PACKED, 480)
    assert [ln.quantity_packed for ln in shipment.lines.all()] == [2]
    assert f.event_kinds(order)[-2:] == [E.PICKED, E.PACKED]

    with pytest.raises(InvalidTransition, match=r"is packed; cannot pack$"):
        shipment_pack(shipment=shipment)


def test_ship_is_accepted_straight_from_allocated(main, shirt):
    f.receive(shirt, main, 4)
    order = f.confirm(f.place([(shirt, 3)]))
    shipment = order.shipments.get()

    shipment_ship(shipment=shipment)

    shipment.refresh_from_db()
    assert shipment.status == SH.SHIPPED
    line = shipment.lines.get()
    assert (line.quantity_picked, line.quantity_packed) == (3, 3)
    assert f.quantities(shirt, main) == (1, 0)
    assert f.movements(kind=Kind.SHIP) == [(Kind.SHIP, -3, -3, shipment.number)]
    assert f.statuses(order) == (S.SHIPPED, A.ALLOCATED, FS.FULFILLED, PAY.PENDING)
    assert f.last_event(order, E.SHIPPED).message == "All items shipped"
    f.assert_ledger_clean()


def test_shipping_twice_is_refused(main, shirt):
    f.receive(shirt, main, 4)
    order = f.confirm(f.place([(shirt, 3)]))
    shipment = order.shipments.get()
    shipment_ship(shipment=shipment)

    with pytest.raises(InvalidTransition) as exc:
        shipment_ship(shipment=shipment)

    assert str(exc.value) == f"Shipment {shipment.number} is shipped; cannot ship"
    assert f.quantities(shirt, main) == (1, 0)
    assert len(f.movements(kind=Kind.SHIP)) == 1


def test_shipping_a_cancelled_shipment_is_refused(main, shirt):
    f.receive(shirt, main, 4)
    order = f.confirm(f.place([(shirt, 3)]))
    shipment = order.shipments.get()
    shipment_cancel(shipment=shipment, reason="damaged stock")

    with pytest.raises(InvalidTransition) as exc:
        shipment_ship(shipment=shipment)

    assert str(exc.value) == f"Shipment {shipment.number} is cancelled; cannot ship"
    assert f.quantities(shirt, main) == (4, 0)
    assert not StockMovement.objects.filter(kind=Kind.SHIP).exists()
    assert f.statuses(order) == (S.CONFIRMED, A.UNALLOCATED, FS.UNFULFILLED, PAY.PENDING)
    f.assert_ledger_clean()


def test_deliver_before_shipping_is_refused(main, shirt):
    f.receive(shirt, main, 4)
    order = f.confirm(f.place([(shirt, 1)]))
    shipment = order.shipments.get()

    with pytest.raises(InvalidTransition, match=r"is allocated; cannot deliver$"):
        shipment_deliver(shipment=shipment)

    shipment_ship(shipment=shipment)
    shipment_deliver(shipment=shipment)
    with pytest.raises(InvalidTransition, match=r"is delivered; cannot deliver$"):
        shipment_deliver(shipment=shipment)
    assert f.statuses(order)[0] == S.DELIVERED


@pytest.mark.parametrize(
    "action, move",
    [
        (lambda s: shipment_start_picking(shipment=s), "start picking"),
        (lambda s: shipment_pick(shipment=s), "pick"),
        (lambda s: shipment_pack(shipment=s), "pack"),
        (lambda s: shipment_ship(shipment=s), "ship"),
    ],
    ids=["start_picking", "pick", "pack", "ship"],
)
def test_actions_on_an_order_on_hold_are_refused(main, shirt, action, move):
    f.receive(shirt, main, 4)
    order = f.confirm(f.place([(shirt, 2)]))
    shipment = order.shipments.get()
    order_hold(order=order, reason="fraud check")

    with pytest.raises(InvalidTransition) as exc:
        action(shipment)

    assert str(exc.value) == (
        f"Shipment {shipment.number} is allocated; cannot {move}: "
        f"order {order.number} is on hold (fraud check)"
    )
    shipment.refresh_from_db()
    assert shipment.status == SH.ALLOCATED
    assert f.quantities(shirt, main) == (4, 2)
    assert f.statuses(order) == (S.ON_HOLD, A.ALLOCATED, FS.UNFULFILLED, PAY.PENDING)

    order_release(order=order)
    action(shipment)  # allowed again once released
    shipment.refresh_from_db()
    assert shipment.status != SH.ALLOCATED


def test_two_shipments_ship_and_deliver_one_by_one(main, store, shirt, mug):
    f.receive(shirt, main, 5)
    f.receive(mug, store, 5)
    order = f.confirm(f.place([(shirt, 1), (mug, 2)]))
    first, second = order.shipments.order_by("pk")

    shipment_ship(shipment=first)
    assert f.statuses(order) == (S.CONFIRMED, A.ALLOCATED, FS.PARTIAL, PAY.PENDING)

    shipment_deliver(shipment=first)
    assert f.statuses(order) == (S.CONFIRMED, A.ALLOCATED, FS.PARTIAL, PAY.PENDING)

    shipment_ship(shipment=second)
    assert f.statuses(order) == (S.SHIPPED, A.ALLOCATED, FS.FULFILLED, PAY.PENDING)

    shipment_deliver(shipment=second)
    assert f.statuses(order) == (S.DELIVERED, A.ALLOCATED, FS.FULFILLED, PAY.PENDING)
    assert f.quantities(shirt, main) == (4, 0)
    assert f.quantities(mug, store) == (3, 0)
    f.assert_ledger_clean()


def test_shipping_the_allocated_part_of_a_backordered_order(main, shirt):
    f.receive(shirt, main, 2)
    order = f.confirm(f.place([(shirt, 5)]))

    shipment_ship(shipment=order.shipments.get())

    assert f.statuses(order) == (S.CONFIRMED, A.PARTIAL, FS.PARTIAL, PAY.PENDING)
    assert line_quantities(order) == [("TSHIRT-M", 0, 2, 3)]
    assert f.quantities(shirt, main) == (0, 0)

    f.receive(shirt, main, 3)
    second = order_allocate(order=order)[0]
    assert f.statuses(order) == (S.CONFIRMED, A.ALLOCATED, FS.PARTIAL, PAY.PENDING)
    shipment_ship(shipment=second)
    assert f.statuses(order) == (S.SHIPPED, A.ALLOCATED, FS.FULFILLED, PAY.PENDING)
    f.assert_ledger_clean()


# --------------------------------------------------------------------------- shipment cancel


def test_shipment_cancel_releases_its_reservation(main, shirt, mug):
    f.receive(shirt, main, 5)
    f.receive(mug, main, 5)
    order = f.confirm(f.place([(shirt, 2), (mug, 1)]))
    shipment = order.shipments.get()
    shipment_pick(shipment=shipment)

    shipment_cancel(shipment=shipment, reason="box damaged", actor="staff")

    assert shipment.status == SH.CANCELLED
    assert shipment.cancelled_at is not None
    assert f.quantities(shirt, main) == (5, 0)
    assert f.quantities(mug, main) == (5, 0)
    assert sorted(f.movements(kind=Kind.RELEASE)) == sorted(
        [(Kind.RELEASE, 0, -2, shipment.number), (Kind.RELEASE, 0, -1, shipment.number)]
    )
    assert line_quantities(order) == [("TSHIRT-M", 0, 0, 2), ("MUG", 0, 0, 1)]
    assert f.statuses(order) == (S.CONFIRMED, A.UNALLOCATED, FS.UNFULFILLED, PAY.PENDING)
    event = f.last_event(order)
    assert (event.kind, event.message) == (
        E.SHIPMENT_CANCELLED,
        f"{shipment.number} from MAIN cancelled: box damaged",
    )
    with pytest.raises(InvalidTransition, match=r"is cancelled; cannot cancel$"):
        shipment_cancel(shipment=shipment)
    f.assert_ledger_clean()


def test_shipment_cancel_with_reallocate_routes_the_order_again(main, store, shirt):
    f.receive(shirt, main, 2)
    f.receive(shirt, store, 5)
    order = f.confirm(f.place([(shirt, 2)]))
    shipment = order.shipments.get()
    assert shipment.warehouse == main
    # the bin at MAIN turns out empty: count it, then re-route
    shipment_cancel(shipment=shipment, reason="bin empty")
    stock_adjust(product=shirt, warehouse=main, counted=0, reason="bin empty")
    order_allocate(order=order)

    new = order.shipments.exclude(pk=shipment.pk).get()
    assert new.warehouse == store
    assert f.quantities(shirt, main) == (0, 0)
    assert f.quantities(shirt, store) == (5, 2)
    assert f.statuses(order)[1] == A.ALLOCATED

    shipment_cancel(shipment=new, reason="store closed", reallocate=True)
    again = order.shipments.filter(status=SH.ALLOCATED).get()
    assert again.warehouse == store and again.pk != new.pk
    assert f.quantities(shirt, store) == (5, 2)
    f.assert_ledger_clean()


def test_shipped_shipment_cannot_be_cancelled(main, shirt):
    f.receive(shirt, main, 5)
    order = f.confirm(f.place([(shirt, 2)]))
    shipment = order.shipments.get()
    shipment_ship(shipment=shipment)

    with pytest.raises(InvalidTransition, match=r"is shipped; cannot cancel$"):
        shipment_cancel(shipment=shipment)

    assert f.quantities(shirt, main) == (3, 0)


# --------------------------------------------------------------------------- pick lists


def test_pick_list_create_moves_shipments_to_picking_and_complete_picks_them(main, shirt, mug):
    f.receive(shirt, main, 10)
    f.receive(mug, main, 10)
    orders = [f.confirm(f.place([(shirt, 1), (mug, i)])) for i in (1, 2, 3)]
    shipments = [o.shipments.get() for o in orders]

    pick_list = pick_list_create(warehouse=main, shipments=shipments)

    assert re.fullmatch(r"PL-\d{6}", pick_list.number)
    assert pick_list.status == PickList.Status.OPEN
    for shipment in shipments:
        shipment.refresh_from_db()
        assert (shipment.status, shipment.pick_list_id) == (SH.PICKING, pick_list.pk)
    for order in orders:
        assert f.statuses(order) == (S.CONFIRMED, A.ALLOCATED, FS.UNFULFILLED, PAY.PENDING)

    pick_list_complete(pick_list=pick_list, actor="picker")

    pick_list.refresh_from_db()
    assert pick_list.status == PickList.Status.DONE
    assert pick_list.completed_at is not None
    for shipment, order in zip(shipments, orders, strict=True):
        shipment.refresh_from_db()
        assert shipment.status == SH.PICKED
        assert all(ln.quantity_picked == ln.quantity for ln in shipment.lines.all())
        assert f.last_event(order).kind == E.PICKED
    assert f.quantities(mug, main) == (10, 6)  # picking moves no stock

    with pytest.raises(InvalidTransition, match=r"is done; cannot complete$"):
        pick_list_complete(pick_list=pick_list)


def test_pick_list_refuses_shipments_from_another_warehouse_or_already_listed(main, store, shirt):
    f.receive(shirt, main, 10)
    f.receive(shirt, store, 10)
    here = f.confirm(f.place([(shirt, 1)])).shipments.get()
    main.priority = 50
    main.save()
    there = f.confirm(f.place([(shirt, 1)])).shipments.get()
    assert there.warehouse == store

    with pytest.raises(FulfillmentError, match="ships from STORE, not MAIN"):
        pick_list_create(warehouse=main, shipments=[here, there])
    with pytest.raises(FulfillmentError) as exc:
        pick_list_create(warehouse=main, shipments=[])
    assert exc.value.field == "shipments"
    assert not PickList.objects.exists()
    here.refresh_from_db()
    assert here.status == SH.ALLOCATED

    pick_list_create(warehouse=main, shipments=[here])
    with pytest.raises(FulfillmentError, match="already on a pick list"):
        pick_list_create(warehouse=main, shipments=[here])
    assert PickList.objects.count() == 1


def test_pick_list_numbers_are_unique_and_human_readable(main, shirt):
    f.receive(shirt, main, 10)
    shipments = [f.confirm(f.place([(shirt, 1)])).shipments.get() for _ in range(3)]

    numbers = [pick_list_create(warehouse=main, shipments=[s]).number for s in shipments]
    shipment_numbers = [s.number for s in shipments]

    assert len(set(numbers)) == 3 and len(set(shipment_numbers)) == 3
    assert all(re.fullmatch(r"PL-\d{6}", n) for n in numbers)
    assert all(re.fullmatch(r"SH-\d{6}", n) for n in shipment_numbers)


# --------------------------------------------------------------------------- backorders


def _backordered(shirt, *, placed_at):
    order = f.confirm(f.place([(shirt, 2)], placed_at=placed_at))
    assert f.statuses(order)[:2] == (S.CONFIRMED, A.UNALLOCATED)
    return order


def test_received_stock_fills_backorders_oldest_placed_first(
    main, shirt, django_capture_on_commit_callbacks, q_sync
):
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    newer = _backordered(shirt, placed_at=now)  # created first, placed later
    older = _backordered(shirt, placed_at=now - timedelta(hours=3))
    pending = f.place([(shirt, 1)], placed_at=now - timedelta(days=2))  # not confirmed

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        f.receive(shirt, main, 3)

    assert len(callbacks) == 1
    assert f.statuses(older) == (S.CONFIRMED, A.ALLOCATED, FS.UNFULFILLED, PAY.PENDING)
    assert f.statuses(newer) == (S.CONFIRMED, A.PARTIAL, FS.UNFULFILLED, PAY.PENDING)
    assert f.statuses(pending) == (S.PENDING, A.UNALLOCATED, FS.UNFULFILLED, PAY.PENDING)
    assert shipment_lines(older.shipments.get()) == [("TSHIRT-M", 2)]
    assert shipment_lines(newer.shipments.get()) == [("TSHIRT-M", 1)]
    assert f.quantities(shirt, main) == (3, 3)
    assert f.event_kinds(older)[-1] == E.ALLOCATED
    assert f.event_kinds(newer)[-2:] == [E.ALLOCATED, E.BACKORDERED]
    assert f.last_event(newer).message.startswith("Backordered: TSHIRT-M x1")
    assert f.last_event(newer).data["backordered"] == {"TSHIRT-M": 1}

    with django_capture_on_commit_callbacks(execute=True):
        f.receive(shirt, main, 1)
    assert f.statuses(newer)[1] == A.ALLOCATED
    assert f.quantities(shirt, main) == (4, 4)
    f.assert_ledger_clean()


def test_stock_transferred_in_fills_backorders_too(
    main, store, shirt, django_capture_on_commit_callbacks, q_sync
):
    f.receive(shirt, main, 5)
    main.active = False
    main.save()
    order = _backordered(shirt, placed_at=datetime(2026, 11, 26, tzinfo=UTC))

    with django_capture_on_commit_callbacks(execute=True):
        stock_transfer(product=shirt, source=main, destination=store, quantity=5)

    assert f.statuses(order)[1] == A.ALLOCATED
    assert order.shipments.get().warehouse == store
    assert f.quantities(shirt, store) == (5, 2)


def test_allocate_backorders_leaves_held_and_cancelled_orders_alone(main, shirt):
    held = _backordered(shirt, placed_at=datetime(2026, 11, 20, tzinfo=UTC))
    order_hold(order=held, reason="check")
    waiting = _backordered(shirt, placed_at=datetime(2026, 11, 26, tzinfo=UTC))
    f.receive(shirt, main, 2)

    assert allocate_backorders(product_ids=[shirt.pk]) == 1

    assert f.statuses(held)[:2] == (S.ON_HOLD, A.UNALLOCATED)
    assert f.statuses(waiting)[:2] == (S.CONFIRMED, A.ALLOCATED)
    assert allocate_backorders(product_ids=[shirt.pk]) == 0
    f.assert_ledger_clean()
