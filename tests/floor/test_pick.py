"""Pick queue, waves and the pick list scanner."""

import pytest

from fulfillment.models import PickList, Shipment, ShipmentLine
from inventory.models import StockMovement
from orders.models import Order
from orders.services import order_hold
from tests.factories import assert_ledger_clean, quantities
from tests.floor.conftest import flash

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def picked(order) -> list[tuple[str, int, int]]:
    return list(
        ShipmentLine.objects.filter(shipment__order=order)
        .order_by("order_line__sku")
        .values_list("order_line__sku", "quantity", "quantity_picked")
    )


def scan(client, pick_list, code, **extra):
    return client.post(f"/floor/pick/{pick_list.number}/scan/", {"code": code, **extra}, **HX)


def test_queue_lists_ready_shipments_oldest_first(floor, floor_client):
    p0, p1, _ = floor.products
    first = floor.order([(p0, 1)], external_id="A")
    second = floor.order([(p1, 2)], external_id="B")
    html = floor_client.get("/floor/pick/?warehouse=SP-01").content.decode()
    assert html.index(first.shipments.get().number) < html.index(second.shipments.get().number)
    assert "Ready to pick: 2 shipments" in html


def test_queue_puts_the_earliest_ship_by_and_at_risk_first_and_shows_them(floor, floor_client):
    from datetime import timedelta

    p0 = floor.products[0]
    relaxed = floor.order([(p0, 1)], external_id="A")
    urgent = floor.order([(p0, 1)], external_id="B")
    risky = floor.order([(p0, 1)], external_id="C")
    Order.objects.filter(pk=relaxed.pk).update(ship_by=relaxed.placed_at + timedelta(days=5))
    Order.objects.filter(pk=urgent.pk).update(ship_by=urgent.placed_at + timedelta(days=1))
    Order.objects.filter(pk=risky.pk).update(
        ship_by=risky.placed_at + timedelta(days=3), at_risk=True, at_risk_reason="late"
    )
    html = floor_client.get("/floor/pick/?warehouse=SP-01").content.decode()
    where = [html.index(o.shipments.get().number) for o in (risky, urgent, relaxed)]
    assert where == sorted(where)
    assert "Ship by" in html and html.count(">at risk</span>") == 1


def test_scanning_an_order_number_puts_it_alone_on_a_wave(floor, floor_client):
    p0, p1, _ = floor.products
    floor.order([(p0, 1)], external_id="A")
    chosen = floor.order([(p1, 1)], external_id="B")
    response = floor_client.post(
        "/floor/pick/",
        {"warehouse": "SP-01", "count": 10, "action": "oldest", "code": chosen.number.lower()},
    )
    pick_list = PickList.objects.get()
    assert response["Location"] == f"/floor/pick/{pick_list.number}/"
    assert [s.order for s in pick_list.shipments.all()] == [chosen]


def test_scanning_a_shipment_not_ready_here_says_why(floor, floor_client):
    p0 = floor.products[0]
    order = floor.order([(p0, 1)], external_id="A")
    floor.wave(order)
    response = floor_client.post(
        "/floor/pick/",
        {"warehouse": "SP-01", "action": "oldest", "code": order.shipments.get().number},
        follow=True,
    )
    assert "is already on PL-" in flash(response)
    response = floor_client.post(
        "/floor/pick/", {"warehouse": "SP-01", "action": "oldest", "code": "SO-999"}, follow=True
    )
    assert "No order or shipment SO-999" in flash(response)
    assert PickList.objects.count() == 1


def test_wave_from_the_oldest_n(floor, floor_client):
    orders = [floor.order([(floor.products[0], 1)], external_id=f"N{i}") for i in range(3)]
    response = floor_client.post(
        "/floor/pick/", {"warehouse": "SP-01", "count": 2, "action": "oldest"}
    )
    pick_list = PickList.objects.get()
    assert response["Location"] == f"/floor/pick/{pick_list.number}/"
    assert {s.order for s in pick_list.shipments.all()} == set(orders[:2])
    assert orders[2].shipments.get().status == Shipment.Status.ALLOCATED
    assert pick_list.assigned_to.username == "picker"


def test_wave_from_a_selection(floor, floor_client):
    a = floor.order([(floor.products[0], 1)], external_id="A")
    b = floor.order([(floor.products[1], 1)], external_id="B")
    number = b.shipments.get().number
    floor_client.post(
        "/floor/pick/", {"warehouse": "SP-01", "action": "selected", "shipments": [number]}
    )
    assert [s.number for s in PickList.objects.get().shipments.all()] == [number]
    assert a.shipments.get().pick_list is None


def test_wave_refuses_a_shipment_no_longer_ready(floor, floor_client):
    a = floor.order([(floor.products[0], 1)], external_id="A")
    floor.wave(a)
    response = floor_client.post(
        "/floor/pick/",
        {"warehouse": "SP-01", "action": "selected", "shipments": [a.shipments.get().number]},
        follow=True,
    )
    assert "No longer ready to pick" in flash(response)
    assert PickList.objects.count() == 1


def test_pick_list_sums_lines_per_product_in_bin_order(floor, floor_client):
    p0, p1, p2 = floor.products  # bins
    a = floor.order([(p0, 1), (p2, 2)], external_id="A")
    b = floor.order([(p0, 3), (p1, 1)], external_id="B")
    pick_list = floor.wave(a, b)
    html = floor_client.get(f"/floor/pick/{pick_list.number}/").content.decode()
    assert html.index("A-001") < html.index("A-002") < html.index("A-003")
    assert "0/4" in html  # P000: 1 + 3 over two shipments
    assert "0 / 7" in html


def test_scanning_barcode_sku_and_quantities_picks_units(floor, floor_client):
    p0, p1, p2 = floor.products
    order = floor.order([(p0, 1), (p1, 4), (p2, 2)])
    pick_list = floor.wave(order)
    assert "✓ 1 × P000 picked" in flash(scan(floor_client, pick_list, p0.barcode))
    assert "3 × P001 picked · 1 more" in flash(scan(floor_client, pick_list, "3*p001"))
    assert "1 × P001 picked" in flash(scan(floor_client, pick_list, "P001"))
    response = scan(floor_client, pick_list, p2.barcode, qty=2)
    assert picked(order) == [("P000", 1, 1), ("P001", 4, 4), ("P002", 2, 2)]
    assert "done: 1 shipment(s) picked" in flash(response)
    assert order.shipments.get().status == Shipment.Status.PICKED
    pick_list.refresh_from_db()
    assert pick_list.status == PickList.Status.DONE
    assert "All picked" in response.content.decode()


@pytest.mark.parametrize(
    "code,message",
    [
        ("7899999999999", "Unknown barcode or SKU: 7899999999999"),
        ("P002", "Wrong item: P002"),  # a real product, not on this list
        ("3*P000", "Over-pick: only 2 more of P000 needed, not 3"),
    ],
)
def test_a_wrong_scan_is_refused_loudly_and_changes_nothing(floor, floor_client, code, message):
    p0, p1, _ = floor.products
    order = floor.order([(p0, 2), (p1, 1)])
    pick_list = floor.wave(order)
    before = picked(order), list(StockMovement.objects.values_list("pk", flat=True))
    response = scan(floor_client, pick_list, code)
    assert response.status_code == 200
    assert message in flash(response)
    html = response.content.decode()
    assert 'class="flash error"' in html and 'data-sound="error"' in html
    assert (picked(order), list(StockMovement.objects.values_list("pk", flat=True))) == before


def test_over_pick_of_a_finished_line_is_refused(floor, floor_client):
    p0, p1, _ = floor.products
    order = floor.order([(p0, 1), (p1, 1)])
    pick_list = floor.wave(order)
    scan(floor_client, pick_list, "P000")
    assert "all 1 of P000 are already picked" in flash(scan(floor_client, pick_list, "P000"))
    assert picked(order)[0] == ("P000", 1, 1)


def test_scanned_units_go_to_the_oldest_order_first(floor, floor_client):
    p0, p1, _ = floor.products
    old = floor.order([(p0, 2)], external_id="OLD")
    new = floor.order([(p0, 2), (p1, 1)], external_id="NEW")
    pick_list = floor.wave(new, old)
    scan(floor_client, pick_list, "3*P000")
    assert picked(old) == [("P000", 2, 2)]
    assert picked(new) == [("P000", 2, 1), ("P001", 1, 0)]
    assert old.shipments.get().status == Shipment.Status.PICKED
    assert new.shipments.get().status == Shipment.Status.PICKING


def test_without_javascript_a_scan_redirects_back_with_the_message(floor, floor_client):
    order = floor.order([(floor.products[0], 2)])
    pick_list = floor.wave(order)
    response = floor_client.post(f"/floor/pick/{pick_list.number}/scan/", {"code": "P000"})
    assert response.status_code == 302
    assert response["Location"] == f"/floor/pick/{pick_list.number}/"
    page = floor_client.get(response["Location"])
    assert "✓ 1 × P000 picked" in flash(page)
    assert '<html lang="en">' in page.content.decode()  # a whole page, not a panel


def test_short_pick_records_the_count_and_reroutes_the_shortfall(floor, floor_client):
    p0, p1, _ = floor.products
    order = floor.order([(p0, 3), (p1, 1)])
    pick_list = floor.wave(order)
    scan(floor_client, pick_list, "P000")  # one picked; the bin should hold 49 more
    response = floor_client.post(
        f"/floor/pick/{pick_list.number}/short/", {"line": p0.pk, "found": 1}, **HX
    )
    assert "Short pick of P000 recorded" in flash(response)
    # on hand: 1 found + 1 picked (on hand until shipped); the count is in the ledger
    assert quantities(p0, floor.warehouse)[0] == 2
    count = StockMovement.objects.filter(kind=StockMovement.Kind.COUNT, product=p0).get()
    assert count.on_hand_delta == -48 and count.actor == "picker"
    # the shipment keeps 2 (1 picked + 1 in the bin); 1 unit goes back to routing
    assert picked(order) == [("P000", 2, 1), ("P001", 1, 0)]
    line = order.lines.get(sku="P000")
    assert line.quantity_allocated == 2
    scan(floor_client, pick_list, "P000")
    response = scan(floor_client, pick_list, "P001")
    assert order.shipments.get().status == Shipment.Status.PICKED
    assert "done" in flash(response)
    assert_ledger_clean()


def test_short_with_a_count_that_is_not_short_is_refused(floor, floor_client):
    p0 = floor.products[0]
    order = floor.order([(p0, 2)])
    pick_list = floor.wave(order)
    response = floor_client.post(
        f"/floor/pick/{pick_list.number}/short/", {"line": p0.pk, "found": 50}, **HX
    )
    assert "is not short" in flash(response)
    assert quantities(p0, floor.warehouse) == (50, 2)


def test_units_of_an_order_on_hold_stay_in_the_bin(floor, floor_client):
    p0 = floor.products[0]
    held = floor.order([(p0, 1)], external_id="H")
    other = floor.order([(p0, 1)], external_id="O")
    pick_list = floor.wave(held, other)
    order_hold(order=held, reason="fraud check")
    html = floor_client.get(f"/floor/pick/{pick_list.number}/").content.decode()
    assert "on hold" in html
    scan(floor_client, pick_list, "P000")
    assert "on hold" in flash(scan(floor_client, pick_list, "P000"))
    assert picked(held) == [("P000", 1, 0)] and picked(other) == [("P000", 1, 1)]
    pick_list.refresh_from_db()
    assert pick_list.status == PickList.Status.OPEN  # waits for the hold
    assert held.status == Order.Status.ON_HOLD
