"""The pack station: find the shipment, check each item into the box, weigh, ship."""

import pytest

from fulfillment.models import Shipment
from fulfillment.services import pick_list_complete, shipment_pick
from inventory.models import StockMovement
from orders.models import Order
from orders.services import order_hold
from tests.factories import assert_ledger_clean, quantities
from tests.floor.conftest import flash

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def picked(floor):
    """A picked 3-line shipment (wave done) and its order."""
    p0, p1, p2 = floor.products
    order = floor.order([(p0, 1), (p1, 2), (p2, 1)])
    pick_list = floor.wave(order)
    pick_list_complete(pick_list=pick_list)
    return order.shipments.get(), pick_list


def scan(client, shipment, code, **extra):
    return client.post(f"/floor/pack/{shipment.number}/scan/", {"code": code, **extra}, **HX)


@pytest.mark.parametrize("how", ["number", "lower", "tote", "order"])
def test_the_station_finds_the_shipment(floor_client, picked, how):
    shipment, pick_list = picked
    code = {
        "number": shipment.number,
        "lower": shipment.number.lower(),
        "tote": f"{pick_list.number}-1",
        "order": shipment.order.number,
    }[how]
    response = floor_client.get("/floor/pack/", {"shipment": code})
    assert response["Location"] == f"/floor/pack/{shipment.number}/"


def test_the_station_says_what_it_cannot_find(floor_client, picked):
    _, pick_list = picked
    response = floor_client.get("/floor/pack/", {"shipment": "SH-999999"})
    assert "No shipment, tote or order SH-999999" in flash(response)
    response = floor_client.get("/floor/pack/", {"shipment": f"{pick_list.number}-7"})
    assert "has totes 1 to 1, not 7" in flash(response)


def test_the_station_lists_picked_shipments(floor_client, picked):
    shipment, _ = picked
    assert shipment.number in floor_client.get("/floor/pack/").content.decode()


def test_checking_items_then_weighing_ships_with_rate_shopping(floor, floor_client, picked):
    shipment, _ = picked
    p0, p1, p2 = floor.products
    before = [quantities(p, floor.warehouse) for p in floor.products]
    assert "2 item(s) to go" in flash(scan(floor_client, shipment, p1.barcode, qty=2))
    assert "1 item(s) to go" in flash(scan(floor_client, shipment, "p000"))
    response = scan(floor_client, shipment, p2.barcode)
    assert "all items in the box" in flash(response)
    html = response.content.decode()
    assert 'name="weight_grams" value="804"' in html  # 200 + 201*2 + 202 from the products
    assert "correios/pac" in html and "correios/sedex" in html  # the override choices
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.PICKED  # checking items changes nothing
    response = floor_client.post(
        f"/floor/pack/{shipment.number}/ship/", {"weight_grams": "1.25kg", "service": ""}, **HX
    )
    assert f"{shipment.number} shipped with correios pac" in flash(response)
    html = response.content.decode()
    assert f"/fulfillment/shipments/{shipment.number}/label.pdf" in html
    assert f"/fulfillment/shipments/{shipment.number}/packing-slip.pdf" in html
    assert f'data-open="/floor/pack/{shipment.number}/print/"' in html
    shipment.refresh_from_db()
    assert (shipment.status, shipment.weight_grams, shipment.service) == ("shipped", 1250, "pac")
    assert shipment.tracking_number
    assert shipment.order.status == Order.Status.SHIPPED
    after = [quantities(p, floor.warehouse) for p in floor.products]
    assert after == [(b[0] - q, b[1] - q) for b, q in zip(before, (1, 2, 1), strict=True)]
    assert_ledger_clean()


def test_staff_can_override_the_service(floor_client, picked):
    shipment, _ = picked
    for code in ("P000", "2*P001", "P002"):
        scan(floor_client, shipment, code)
    floor_client.post(
        f"/floor/pack/{shipment.number}/ship/",
        {"weight_grams": "900", "service": "correios/sedex"},
    )
    shipment.refresh_from_db()
    assert (shipment.status, shipment.service) == ("shipped", "sedex")


def test_a_weight_scanned_first_ships_on_the_last_item(floor_client, picked):
    shipment, _ = picked
    assert "Weight 1,100 g" in flash(scan(floor_client, shipment, "1.1 kg"))
    scan(floor_client, shipment, "P000")
    scan(floor_client, shipment, "2*P001")
    response = scan(floor_client, shipment, "P002")
    assert "shipped" in flash(response)
    shipment.refresh_from_db()
    assert (shipment.status, shipment.weight_grams) == ("shipped", 1100)


@pytest.mark.parametrize(
    "code,message",
    [
        ("7899999999999", "Unknown barcode or SKU"),
        ("NOPE", "Unknown barcode or SKU: NOPE"),
        ("3*P001", "Extra item: SH-"),
    ],
)
def test_wrong_or_extra_items_are_refused_loudly_and_change_nothing(
    floor_client, picked, code, message
):
    shipment, _ = picked
    scan(floor_client, shipment, "P000")
    response = scan(floor_client, shipment, code)
    assert message in flash(response)
    assert 'data-sound="error"' in response.content.decode()
    assert "1 / 4" in response.content.decode()  # still one item in the box
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.PICKED


def test_an_item_of_another_order_is_the_wrong_item(floor, floor_client):
    p0, p1, _ = floor.products
    order = floor.order([(p0, 1)])
    shipment = order.shipments.get()
    shipment_pick(shipment=shipment)
    response = scan(floor_client, shipment, p1.barcode)
    assert "Wrong item: P001" in flash(response) and "Take it out" in flash(response)


def test_a_second_scan_of_a_finished_item_is_extra(floor_client, picked):
    shipment, _ = picked
    scan(floor_client, shipment, "P000")
    assert "needs no more P000" in flash(scan(floor_client, shipment, "P000"))


def test_start_over_forgets_the_checked_items(floor_client, picked):
    shipment, _ = picked
    scan(floor_client, shipment, "P000")
    response = floor_client.post(f"/floor/pack/{shipment.number}/reset/", **HX)
    assert "0 / 4" in response.content.decode()


def test_shipping_before_every_item_is_checked_is_refused(floor_client, picked):
    shipment, _ = picked
    scan(floor_client, shipment, "P000")
    response = floor_client.post(
        f"/floor/pack/{shipment.number}/ship/", {"weight_grams": "900"}, follow=True
    )
    assert "3 item(s) of" in flash(response) and "not checked yet" in flash(response)
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.PICKED


def test_a_shipment_still_on_an_open_wave_is_refused(floor, floor_client):
    order = floor.order([(floor.products[0], 1)])
    pick_list = floor.wave(order)
    shipment = order.shipments.get()
    response = floor_client.get(f"/floor/pack/{shipment.number}/")
    assert f"still being picked on {pick_list.number}" in response.content.decode()
    assert "still being picked" in flash(scan(floor_client, shipment, "P000"))


def test_an_order_on_hold_is_set_aside(floor_client, picked):
    shipment, _ = picked
    order_hold(order=shipment.order, reason="address check")
    response = scan(floor_client, shipment, "P000")
    assert "is on hold (address check): set it aside" in flash(response)
    assert not StockMovement.objects.filter(reference=shipment.number, kind="ship").exists()


def test_print_page_embeds_the_label_and_the_slip(floor_client, picked):
    shipment, _ = picked
    html = floor_client.get(f"/floor/pack/{shipment.number}/print/").content.decode()
    assert f'src="/fulfillment/shipments/{shipment.number}/label.pdf"' in html
    assert f'src="/fulfillment/shipments/{shipment.number}/packing-slip.pdf"' in html


def test_shipping_twice_ships_once(floor_client, picked):
    shipment, _ = picked
    for code in ("P000", "2*P001", "P002"):
        scan(floor_client, shipment, code)
    url = f"/floor/pack/{shipment.number}/ship/"
    floor_client.post(url, {"weight_grams": "900"})
    response = floor_client.post(url, {"weight_grams": "900"}, follow=True)
    assert "has already shipped" in flash(response)
    assert StockMovement.objects.filter(reference=shipment.number, kind="ship").count() == 3


def test_a_warehouse_shipment_never_picked_is_refused_at_the_pack_station(floor, floor_client):
    order = floor.order([(floor.products[0], 1)])
    shipment = order.shipments.get()
    page = floor_client.get(f"/floor/pack/{shipment.number}/").content.decode()
    assert f"{shipment.number} was never picked: scan {order.number} at the pick queue" in page
    response = scan(floor_client, shipment, floor.products[0].barcode)
    assert "was never picked" in flash(response)
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.ALLOCATED


def test_a_store_may_pack_straight_from_allocated(floor, floor_client):
    from inventory.models import Warehouse

    Warehouse.objects.filter(pk=floor.warehouse.pk).update(kind=Warehouse.Kind.STORE)
    order = floor.order([(floor.products[0], 1)])
    shipment = order.shipments.get()
    response = scan(floor_client, shipment, floor.products[0].barcode)
    assert "all items in the box" in flash(response)
