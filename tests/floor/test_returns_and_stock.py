"""Returns receiving and the stock pages (look-up, cycle count, goods in)."""

import re

import pytest

from fulfillment.services import shipment_pack, shipment_ship
from inventory.models import StockMovement
from returns.models import ReturnLine, ReturnRequest
from returns.services import return_approve, return_request
from tests.factories import assert_ledger_clean, make_warehouse, quantities
from tests.floor.conftest import flash

pytestmark = pytest.mark.django_db


@pytest.fixture
def rma(floor):
    """An approved return of 2 × P000 and 1 × P001 from an order shipped from SP-01."""
    p0, p1, _ = floor.products
    order = floor.order([(p0, 2), (p1, 1)])
    shipment = order.shipments.get()
    shipment_pack(shipment=shipment)
    shipment_ship(shipment=shipment)
    rma = return_request(
        order=order,
        lines=[
            {"sku": "P000", "quantity": 2, "reason": "size_fit"},
            {"sku": "P001", "quantity": 1, "reason": "damaged"},
        ],
    )
    return return_approve(return_request=rma)


def fields(rma, **per_sku):
    """The receive form's POST data: defaults, overridden per SKU."""
    data = {}
    for line in rma.lines.select_related("order_line"):
        p = f"l{line.pk}_"
        given = per_sku.get(line.order_line.sku, {})
        data[p + "qty"] = given.get("qty", line.quantity)
        data[p + "condition"] = given.get("condition", "new")
        data[p + "disposition"] = given.get("disposition", "restock")
        data[p + "warehouse"] = given.get("warehouse", "SP-01")
    return data


def test_scanning_the_rma_opens_it(floor_client, rma):
    response = floor_client.get("/floor/returns/", {"q": rma.number.lower()})
    assert response["Location"] == f"/floor/returns/{rma.number}/"


def test_looking_up_by_order_opens_its_approved_return(floor_client, rma):
    response = floor_client.get("/floor/returns/", {"q": rma.order.number})
    assert response["Location"] == f"/floor/returns/{rma.number}/"


def test_an_unknown_code_is_refused(floor_client, rma):
    assert "No return or order X-1" in flash(floor_client.get("/floor/returns/", {"q": "X-1"}))


def test_the_lookup_lists_approved_returns(floor_client, rma):
    assert rma.number in floor_client.get("/floor/returns/").content.decode()


def form_defaults(page: str, rma) -> dict:
    """What pressing Enter on the receive page posts: each field's pre-selected value."""
    data = {}
    for line in rma.lines.all():
        p = f"l{line.pk}_"
        qty = re.search(rf'name="{p}qty" value="(\d+)"', page)
        data[p + "qty"] = qty.group(1)
        for name in ("condition", "disposition", "warehouse"):
            select = re.search(rf'<select name="{p}{name}"[^>]*>(.*?)</select>', page, re.S)
            chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(1))
            data[p + name] = chosen.group(1) if chosen else ""
    return data


def test_enter_on_the_defaults_restocks_the_sound_line_but_not_the_damaged_one(
    floor, floor_client, rma
):
    p0, p1, _ = floor.products
    before = quantities(p0, floor.warehouse), quantities(p1, floor.warehouse)
    page = floor_client.get(f"/floor/returns/{rma.number}/").content.decode()
    assert "Confirm receipt" in page and 'value="SP-01" selected' in page
    assert "Declared damaged: inspect it" in page
    defaults = form_defaults(page, rma)
    damaged = rma.lines.get(order_line__sku="P001")
    assert defaults[f"l{damaged.pk}_condition"] == "damaged"
    assert defaults[f"l{damaged.pk}_disposition"] == ""  # inspect, then choose
    response = floor_client.post(f"/floor/returns/{rma.number}/", defaults, follow=True)
    assert "P001 was declared damaged: inspect it, then choose restock or scrap" in (
        response.content.decode()
    )
    rma.refresh_from_db()
    assert rma.status == ReturnRequest.Status.APPROVED
    assert (quantities(p0, floor.warehouse), quantities(p1, floor.warehouse)) == before


def test_restocking_a_line_declared_damaged_needs_the_sellable_tick(floor, floor_client, rma):
    p0, p1, _ = floor.products
    before = quantities(p0, floor.warehouse), quantities(p1, floor.warehouse)
    response = floor_client.post(f"/floor/returns/{rma.number}/", fields(rma), follow=True)
    assert "tick &#x27;Inspected: sellable as new&#x27; to confirm" in response.content.decode()
    assert quantities(p1, floor.warehouse) == before[1]
    damaged = rma.lines.get(order_line__sku="P001")
    data = {**fields(rma), f"l{damaged.pk}_sellable": "on"}
    response = floor_client.post(f"/floor/returns/{rma.number}/", data, follow=True)
    assert f"{rma.number} received" in flash(response)
    rma.refresh_from_db()
    assert rma.status == ReturnRequest.Status.RECEIVED
    assert quantities(p0, floor.warehouse) == (before[0][0] + 2, before[0][1])
    assert quantities(p1, floor.warehouse) == (before[1][0] + 1, before[1][1])
    assert_ledger_clean()


def test_scrap_and_partial_quantities_and_another_restock_point(floor, floor_client, rma):
    p0, p1, _ = floor.products
    rj = make_warehouse("RJ-01", priority=5)
    before = quantities(p1, floor.warehouse)
    data = fields(
        rma,
        P000={"qty": 1, "condition": "opened", "warehouse": "RJ-01"},
        P001={"condition": "damaged", "disposition": "scrap"},
    )
    floor_client.post(f"/floor/returns/{rma.number}/", data)
    lines = {ln.order_line.sku: ln for ln in rma.lines.select_related("order_line")}
    assert (lines["P000"].quantity_received, lines["P000"].condition) == (1, "opened")
    assert lines["P000"].restock_warehouse == rj
    assert lines["P001"].disposition == ReturnLine.Disposition.SCRAP
    assert quantities(p0, rj) == (1, 0)
    assert quantities(p1, floor.warehouse) == before  # scrapped: no stock


def test_more_than_was_returned_is_refused(floor_client, rma):
    response = floor_client.post(f"/floor/returns/{rma.number}/", fields(rma, P000={"qty": 5}))
    assert "Check the lines" in flash(response)
    rma.refresh_from_db()
    assert rma.status == ReturnRequest.Status.APPROVED


def test_a_return_not_approved_cannot_be_received(floor, floor_client, rma):
    rma.status = ReturnRequest.Status.REQUESTED  # (set up directly: only the page is tested)
    rma.save(update_fields=["status"])
    page = floor_client.get(f"/floor/returns/{rma.number}/").content.decode()
    assert "Not approved yet" in page and "Confirm receipt" not in page
    response = floor_client.post(f"/floor/returns/{rma.number}/", fields(rma))
    assert "only approved returns can be received" in flash(response)
    rma.refresh_from_db()
    assert rma.status == ReturnRequest.Status.REQUESTED


# --------------------------------------------------------------------------- stock


def test_stock_lookup_by_barcode_bin_or_sku(floor, floor_client):
    p0 = floor.products[0]
    level = p0.stock_levels.get()
    for code in (p0.barcode, "a-003", "p000"):
        response = floor_client.get("/floor/stock/", {"q": code})
        assert response["Location"] == f"/floor/stock/{level.pk}/", code


def test_stock_lookup_lists_several_hits(floor, floor_client):
    html = floor_client.get("/floor/stock/", {"q": "Product"}).content.decode()
    assert all(p.sku in html for p in floor.products)
    assert "Nothing found for ZZZ" in flash(floor_client.get("/floor/stock/", {"q": "ZZZ"}))


def test_cycle_count_writes_the_difference_with_the_counter(floor, floor_client):
    p0 = floor.products[0]
    level = p0.stock_levels.get()
    response = floor_client.post(f"/floor/stock/{level.pk}/", {"counted": 47}, follow=True)
    assert "on hand 50 → 47 (-3)" in flash(response)
    move = StockMovement.objects.get(kind=StockMovement.Kind.COUNT)
    assert (move.on_hand_delta, move.note, move.actor) == (-3, "cycle count by picker", "picker")
    assert "cycle count by picker" in response.content.decode()  # in the ledger table
    assert_ledger_clean()


def test_a_count_below_the_reserved_units_is_refused(floor, floor_client):
    p0 = floor.products[0]
    floor.order([(p0, 5)])
    level = p0.stock_levels.get()
    response = floor_client.post(f"/floor/stock/{level.pk}/", {"counted": 3}, follow=True)
    assert "are reserved for orders" in flash(response)
    assert quantities(p0, floor.warehouse) == (50, 5)


def test_a_count_far_from_on_hand_asks_for_a_reason_and_writes_nothing(floor, floor_client):
    p0 = floor.products[0]
    level = p0.stock_levels.get()
    response = floor_client.post(f"/floor/stock/{level.pk}/", {"counted": 5})
    html = response.content.decode()
    assert "Large difference:</strong> counted 5, on hand 50: -45 (90%)" in html
    assert "Confirm count of 5" in html and 'name="reason_code" required' in html
    assert quantities(p0, floor.warehouse) == (50, 0)
    assert not StockMovement.objects.filter(kind=StockMovement.Kind.COUNT).exists()
    # Confirming without a reason is refused too.
    response = floor_client.post(f"/floor/stock/{level.pk}/", {"counted": 5, "confirm": "on"})
    assert "Choose the reason for this difference" in response.content.decode()
    assert quantities(p0, floor.warehouse) == (50, 0)


def test_a_confirmed_large_count_carries_its_reason_code_to_the_stock_page(floor, floor_client):
    p0 = floor.products[0]
    level = p0.stock_levels.get()
    data = {"counted": 5, "confirm": "on", "reason_code": "lost"}
    response = floor_client.post(f"/floor/stock/{level.pk}/", data, follow=True)
    assert "on hand 50 → 5 (-45), reason: lost" in flash(response)
    move = StockMovement.objects.get(kind=StockMovement.Kind.COUNT)
    assert (move.on_hand_delta, move.reason_code) == (-45, "lost")
    html = floor_client.get("/floor/stock/").content.decode()
    assert "Counts and adjustments by reason" in html
    assert re.search(
        r"<td>Lost</td><td class=\"num\">1</td><td class=\"num\">\+0</td>"
        r"<td class=\"num\">−45</td>",
        html,
    )
    assert_ledger_clean()


def test_a_small_difference_needs_no_confirmation(floor, floor_client, settings):
    settings.OMS_COUNT_CONFIRM_UNITS, settings.OMS_COUNT_CONFIRM_PERCENT = 10, 20
    p0 = floor.products[0]
    level = p0.stock_levels.get()
    floor_client.post(f"/floor/stock/{level.pk}/", {"counted": 41})  # -9: under 10 units
    assert quantities(p0, floor.warehouse) == (41, 0)


def test_receiving_a_delivery_against_a_reference(floor, floor_client):
    p0, p1, _ = floor.products
    data = {"warehouse": "SP-01", "reference": "PO-77", "quantity": 1}
    response = floor_client.post("/floor/stock/receive/", {**data, "code": p0.barcode})
    assert response["Location"] == "/floor/stock/receive/?warehouse=SP-01&reference=PO-77"
    response = floor_client.post("/floor/stock/receive/", {**data, "code": "12*P001"}, follow=True)
    assert "12 × P001 received at SP-01, bin A-002 · on hand 62" in flash(response)
    html = response.content.decode()
    assert "Received under PO-77" in html and html.count('<td class="mono">P00') == 2
    assert quantities(p0, floor.warehouse) == (51, 0)
    assert StockMovement.objects.filter(reference="PO-77", kind="receipt").count() == 2


def test_receiving_an_unknown_product_is_refused(floor, floor_client):
    data = {"warehouse": "SP-01", "reference": "PO-77", "quantity": 1, "code": "NOPE"}
    response = floor_client.post("/floor/stock/receive/", data, follow=True)
    assert "Unknown barcode or SKU: NOPE" in flash(response)
    assert not StockMovement.objects.filter(reference="PO-77").exists()


def test_a_count_during_picking_adds_the_units_already_in_totes(floor, floor_client):
    p0 = floor.products[0]
    order = floor.order([(p0, 3)])
    pick_list = floor.wave(order)
    floor_client.post(f"/floor/pick/{pick_list.number}/scan/", {"code": "2*P000"})
    level = p0.stock_levels.get()
    assert "<dt>Picked</dt><dd>2 " in floor_client.get(f"/floor/stock/{level.pk}/").content.decode()
    response = floor_client.post(f"/floor/stock/{level.pk}/", {"counted": 48}, follow=True)
    assert "Counted 48 of P000 at SP-01 (+ 2 picked, not shipped): matches" in flash(response)
    assert quantities(p0, floor.warehouse) == (50, 3)
    assert not StockMovement.objects.filter(kind=StockMovement.Kind.COUNT).exists()
