"""Edits before picking: quantities, lines added and removed, address, shipping service.
Each edit's stock, ledger, totals and event; refusals once picking started."""

from decimal import Decimal

import pytest
from django.core import mail
from django.test import TestCase

from fulfillment.exceptions import Conflict
from fulfillment.models import Carrier, CarrierService, Shipment, ShipmentLine
from fulfillment.services import (
    order_change_address,
    order_change_shipping,
    order_edit,
    order_line_add,
    order_line_change_quantity,
    order_line_remove,
    shipment_pick,
    shipment_ship,
    shipment_start_picking,
)
from fulfillment.services.order_locks import LineLocked
from inventory.models import StockMovement
from kernel.exceptions import InvalidTransition
from kernel.models import WebhookEvent, WebhookSubscription
from orders import notifications
from orders.exceptions import OrderInvalid
from orders.models import Order, OrderEvent
from orders.services import order_hold
from tests import factories as f

pytestmark = pytest.mark.django_db

S = Order.Status
A = Order.AllocationStatus
E = OrderEvent.Kind
SH = Shipment.Status
Kind = StockMovement.Kind


@pytest.fixture
def main():
    return f.make_warehouse("MAIN", priority=1, region="SP", city="Campinas")


@pytest.fixture
def north():
    return f.make_warehouse("NORTH", priority=5, region="PE", city="Recife")


@pytest.fixture
def mug():
    return f.make_product("MUG", price="7.50")


@pytest.fixture
def lamp():
    return f.make_product("LAMP", price="40.00")


@pytest.fixture
def confirmed(main, mug, lamp):
    """MUG x2 at 7.50 and LAMP x1 at 40.00, tax 5.50, shipping 5.00; all from MAIN."""
    f.receive(mug, main, 10)
    f.receive(lamp, main, 3)
    order = f.place([(mug, 2, "7.50"), (lamp, 1, "40.00")], shipping_total="5.00", tax_total="5.50")
    return f.confirm(order)


def line_of(order, product):
    return order.lines.get(product=product)


def assert_allocations_match(order):
    """Each line's allocated units are exactly what its open shipments hold, and every
    open shipment's reservation is in the stock levels."""
    from django.db.models import Sum

    from fulfillment.models import OPEN_SHIPMENT_STATUSES

    for line in order.lines.all():
        held = ShipmentLine.objects.filter(
            order_line=line, shipment__status__in=OPEN_SHIPMENT_STATUSES
        ).aggregate(n=Sum("quantity"))["n"]
        assert line.quantity_allocated == (held or 0), line.sku
    f.assert_ledger_clean()


def open_shipments(order):
    return list(order.shipments.exclude(status=SH.CANCELLED).order_by("pk"))


def test_raising_a_quantity_reserves_the_new_units_on_the_same_shipment(confirmed, main, mug):
    [shipment] = open_shipments(confirmed)
    result = order_line_change_quantity(
        order=confirmed, line=line_of(confirmed, mug), quantity=3, actor="ana"
    )

    assert f.quantities(mug, main) == (10, 3)
    assert f.movements(kind=Kind.RESERVE, product=mug)[-1] == ("reserve", 0, 1, shipment.number)
    assert [s.pk for s in open_shipments(confirmed)] == [shipment.pk]
    assert ShipmentLine.objects.get(shipment=shipment, order_line__product=mug).quantity == 3
    confirmed.refresh_from_db()
    # goods 55.00 -> 62.50 at the order's tax rate 10%: tax 5.50 -> 6.25
    assert (confirmed.subtotal, confirmed.tax_total, confirmed.total) == (
        Decimal("62.50"),
        Decimal("6.25"),
        Decimal("73.75"),
    )
    event = f.last_event(confirmed, E.EDITED)
    assert event.actor == "ana" and event.public
    assert "MUG quantity 2 -> 3" in event.message and "total 65.50 -> 73.75" in event.message
    assert result["changes"][0] == "MUG quantity 2 -> 3"
    assert confirmed.allocation_status == A.ALLOCATED
    f.assert_ledger_clean()


def test_lowering_a_quantity_releases_only_those_units(confirmed, main, mug, lamp):
    order_line_change_quantity(order=confirmed, line=line_of(confirmed, mug), quantity=1)

    assert f.quantities(mug, main) == (10, 1)
    assert f.quantities(lamp, main) == (3, 1)  # untouched
    [shipment] = open_shipments(confirmed)
    assert f.movements(kind=Kind.RELEASE) == [("release", 0, -1, shipment.number)]
    line = line_of(confirmed, mug)
    assert (line.quantity, line.quantity_allocated, line.quantity_cancelled) == (1, 1, 0)
    confirmed.refresh_from_db()
    assert (confirmed.subtotal, confirmed.total) == (Decimal("47.50"), Decimal("57.25"))
    f.assert_ledger_clean()


def test_a_new_unit_without_stock_stays_backordered(confirmed, main, lamp):
    order_line_change_quantity(order=confirmed, line=line_of(confirmed, lamp), quantity=5)

    assert f.quantities(lamp, main) == (3, 3)
    line = line_of(confirmed, lamp)
    assert (line.quantity_allocated, line.quantity_backordered) == (3, 2)
    assert f.statuses(confirmed)[1] == A.PARTIAL
    assert "LAMP 2 backordered" in f.last_event(confirmed, E.EDITED).message
    f.assert_ledger_clean()


def test_adding_a_line_by_sku_takes_the_product_price_and_routes_it(confirmed, north):
    vase = f.make_product("VASE", price="12.00")
    f.receive(vase, north, 4)

    order_line_add(order=confirmed, sku="VASE", quantity=2, actor="ana")

    line = line_of(confirmed, vase)
    assert (line.quantity, line.unit_price, line.quantity_allocated) == (2, Decimal("12.00"), 2)
    assert f.quantities(vase, north) == (4, 2)
    assert [s.warehouse.code for s in open_shipments(confirmed)] == ["MAIN", "NORTH"]
    confirmed.refresh_from_db()
    assert confirmed.subtotal == Decimal("79.00")
    assert "added VASE x2 at 12.00" in f.last_event(confirmed, E.EDITED).message
    f.assert_ledger_clean()


def test_removing_a_line_releases_it_and_keeps_its_history(confirmed, main, mug, lamp):
    order_line_remove(order=confirmed, line=line_of(confirmed, lamp))

    line = line_of(confirmed, lamp)
    assert (line.quantity, line.quantity_cancelled, line.quantity_allocated) == (1, 1, 0)
    assert f.quantities(lamp, main) == (3, 0)
    confirmed.refresh_from_db()
    assert (confirmed.subtotal, confirmed.tax_total) == (Decimal("15.00"), Decimal("1.50"))
    assert "LAMP removed (1 unit(s))" in f.last_event(confirmed, E.EDITED).message
    f.assert_ledger_clean()


def test_removing_the_last_line_is_refused(confirmed, mug, lamp):
    with pytest.raises(Conflict, match="cancel the order instead"):
        order_edit(
            order=confirmed, remove=[line_of(confirmed, mug).pk, line_of(confirmed, lamp).pk]
        )
    assert line_of(confirmed, mug).quantity_cancelled == 0


def test_removing_every_unit_of_a_shipment_cancels_it(main, mug):
    f.receive(mug, main, 5)
    other = f.make_product("PLATE")
    f.receive(other, f.make_warehouse("SIDE", priority=9), 5)
    order = f.confirm(f.place([(mug, 1), (other, 1)]))
    side = order.shipments.get(warehouse__code="SIDE")

    order_line_remove(order=order, line=line_of(order, other))

    side.refresh_from_db()
    assert side.status == SH.CANCELLED
    assert E.SHIPMENT_CANCELLED in f.event_kinds(order)
    f.assert_ledger_clean()


def test_address_change_moves_unpicked_shipments_to_the_nearest_point(main, north, mug):
    ch = f.channel("near", routing_strategy="nearest")
    f.receive(mug, main, 5)
    f.receive(mug, north, 5)
    order = f.confirm(f.place([(mug, 2)], channel_code=ch.code))
    [before] = open_shipments(order)
    assert before.warehouse.code == "MAIN"

    order_change_address(
        order=order,
        address={"city": "Recife", "region": "PE", "postcode": "50000-000"},
        actor="ana",
    )

    [after] = open_shipments(order)
    assert after.warehouse.code == "NORTH"
    assert f.quantities(mug, main) == (5, 0) and f.quantities(mug, north) == (5, 2)
    order.refresh_from_db()
    assert (order.ship_city, order.ship_region) == ("Recife", "PE")
    event = f.last_event(order, E.EDITED)
    assert "city 'Campinas' -> 'Recife'" in event.message and "re-routed" in event.message
    f.assert_ledger_clean()


def test_address_change_that_keeps_the_best_point_moves_nothing(confirmed):
    [shipment] = open_shipments(confirmed)
    order_change_address(order=confirmed, address={"line1": "Rua B 2"})
    assert open_shipments(confirmed) == [shipment]
    assert f.movements(kind=Kind.RELEASE) == []


def test_bad_address_is_refused_with_the_field(confirmed):
    with pytest.raises(OrderInvalid) as exc:
        order_change_address(order=confirmed, address={"country": "Brazil"})
    assert exc.value.field == "shipping_address.country"


def test_shipping_service_and_price_change(confirmed):
    carrier = Carrier.objects.create(code="post", name="Post")
    CarrierService.objects.create(carrier=carrier, code="express", name="Express")

    order_change_shipping(order=confirmed, service="post/express", shipping_total="12.00")

    [shipment] = open_shipments(confirmed)
    assert (shipment.carrier, shipment.service) == ("post", "express")
    confirmed.refresh_from_db()
    assert (confirmed.shipping_total, confirmed.total) == (Decimal("12.00"), Decimal("72.50"))
    with pytest.raises(OrderInvalid) as exc:
        order_change_shipping(order=confirmed, service="post/teleport")
    assert exc.value.field == "service"


def test_lines_of_a_shipment_being_picked_are_locked_and_say_why(main, mug, lamp):
    f.receive(mug, main, 5)
    plate = f.make_product("PLATE")
    side = f.make_warehouse("SIDE", priority=9)
    f.receive(plate, side, 5)
    order = f.confirm(f.place([(mug, 1), (plate, 1)]))
    picking = order.shipments.get(warehouse=main)
    shipment_start_picking(shipment=picking)

    with pytest.raises(LineLocked) as exc:
        order_line_change_quantity(order=order, line=line_of(order, mug), quantity=2)
    assert exc.value.status_code == 409
    assert f"picking has started ({picking.number} is picking)" in exc.value.message
    with pytest.raises(Conflict, match="picking has started"):
        order_change_address(order=order, address={"city": "Recife"})

    # the other shipment's line stays editable
    order_line_change_quantity(order=order, line=line_of(order, plate), quantity=2)
    assert f.quantities(plate, side) == (5, 2)
    assert f.quantities(mug, main) == (5, 1)
    f.assert_ledger_clean()


def test_a_shipped_order_cannot_be_edited(confirmed, mug):
    [shipment] = open_shipments(confirmed)
    shipment_pick(shipment=shipment)
    shipment_ship(shipment=shipment)
    with pytest.raises(InvalidTransition) as exc:
        order_line_change_quantity(order=confirmed, line=line_of(confirmed, mug), quantity=5)
    assert exc.value.status_code == 409


def test_pending_order_edit_reserves_nothing(main, mug):
    f.receive(mug, main, 5)
    order = f.place([(mug, 1)])
    order_line_change_quantity(order=order, line=line_of(order, mug), quantity=4)
    assert f.quantities(mug, main) == (5, 0)
    assert f.confirm(order).allocation_status == A.ALLOCATED
    assert f.quantities(mug, main) == (5, 4)


def test_held_order_keeps_new_units_backordered_until_released(confirmed, main, mug):
    order_hold(order=confirmed, reason="customer call")
    order_line_change_quantity(order=confirmed, line=line_of(confirmed, mug), quantity=4)
    assert f.quantities(mug, main) == (10, 2)
    assert line_of(confirmed, mug).quantity_backordered == 2


def test_stale_expected_quantity_is_a_conflict(confirmed, mug):
    line = line_of(confirmed, mug)
    order_line_change_quantity(order=confirmed, line=line, quantity=3, expected=2)
    with pytest.raises(Conflict, match="changed meanwhile"):
        order_line_change_quantity(order=confirmed, line=line, quantity=4, expected=2)
    assert line_of(confirmed, mug).quantity == 3


def test_edit_publishes_order_updated_and_emails_the_customer(confirmed, mug, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    WebhookSubscription.objects.create(
        url="https://hooks.example/oms", event_types=["order.updated"]
    )
    mail.outbox.clear()

    with TestCase.captureOnCommitCallbacks() as callbacks:
        order_line_change_quantity(order=confirmed, line=line_of(confirmed, mug), quantity=3)
    for callback in callbacks:  # the e-mail job only: the webhook would leave the machine
        if getattr(callback, "func", None) is notifications._enqueue:
            callback()

    event = WebhookEvent.objects.get(event_type="order.updated")
    assert event.payload["number"] == confirmed.number
    assert "MUG quantity 2 -> 3" in event.payload["changes"]
    assert [m.subject for m in mail.outbox] == [f"Your order {confirmed.number} was changed"]
    assert "3 x Product MUG" in mail.outbox[0].body


def test_shipping_price_alone_recomputes_the_total(confirmed):
    result = order_change_shipping(order=confirmed, shipping_total="0.00", actor="ana")

    confirmed.refresh_from_db()
    assert (confirmed.shipping_total, confirmed.total) == (Decimal("0.00"), Decimal("60.50"))
    assert result["changes"] == ["shipping 5.00 -> 0.00", "total 65.50 -> 60.50"]
    assert "shipping 5.00 -> 0.00" in f.last_event(confirmed, E.EDITED).message


def test_an_edit_that_changes_nothing_writes_no_event(confirmed, mug):
    line = line_of(confirmed, mug)
    result = order_line_change_quantity(order=confirmed, line=line, quantity=2)
    assert result == {"order": result["order"], "changes": [], "event": None}
    assert not confirmed.events.filter(kind=E.EDITED).exists()


def test_address_and_quantity_in_one_edit_end_at_the_new_point(main, north, mug):
    ch = f.channel("near", routing_strategy="nearest")
    f.receive(mug, main, 5)
    f.receive(mug, north, 5)
    order = f.confirm(f.place([(mug, 2)], channel_code=ch.code))

    order_edit(
        order=order,
        quantities=[{"line": line_of(order, mug).pk, "quantity": 4}],
        address={"city": "Recife", "region": "PE"},
    )

    assert [s.warehouse.code for s in open_shipments(order)] == ["NORTH"]
    assert f.quantities(mug, main) == (5, 0) and f.quantities(mug, north) == (5, 4)
    assert line_of(order, mug).quantity_allocated == 4
    assert_allocations_match(order)


def test_many_edits_in_a_row_keep_allocations_and_ledger_true(main, north, mug, lamp):
    ch = f.channel("near2", routing_strategy="nearest")
    f.receive(mug, main, 6)
    f.receive(mug, north, 6)
    f.receive(lamp, north, 2)
    order = f.confirm(f.place([(mug, 3)], channel_code=ch.code))
    steps = [
        {"add": [{"sku": "LAMP", "quantity": 1}]},
        {"address": {"city": "Recife", "region": "PE"}},
        {"quantities": [{"line": line_of(order, mug).pk, "quantity": 8}]},
        {"address": {"city": "Campinas", "region": "SP"}},
        {"quantities": [{"line": line_of(order, mug).pk, "quantity": 2}]},
        {"remove": [line_of(order, mug).pk], "add": [{"sku": "MUG", "quantity": 1}]},
    ]
    for step in steps:
        order_edit(order=order, **step)
        assert_allocations_match(order)
    assert f.quantities(lamp, north) == (2, 1)


def test_address_change_and_new_line_in_one_edit_share_the_new_shipment(main, north, mug, lamp):
    ch = f.channel("near3", routing_strategy="nearest")
    f.receive(mug, main, 5)
    f.receive(mug, north, 5)
    f.receive(lamp, north, 5)
    order = f.confirm(f.place([(mug, 1)], channel_code=ch.code))

    order_edit(
        order=order,
        add=[{"sku": "LAMP", "quantity": 2}],
        address={"city": "Recife", "region": "PE"},
    )

    [shipment] = open_shipments(order)
    assert shipment.warehouse.code == "NORTH"
    assert sorted(shipment.lines.values_list("order_line__sku", "quantity")) == [
        ("LAMP", 2),
        ("MUG", 1),
    ]
    assert_allocations_match(order)
