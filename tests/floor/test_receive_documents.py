"""Floor pages: receiving a purchase order and a transfer by scan."""

import pytest

from inventory.models import PurchaseOrder, StockMovement, Supplier
from inventory.purchasing import purchase_order_create, purchase_order_send
from inventory.transfers import transfer_create, transfer_dispatch
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def po():
    wh = f.make_warehouse("SP-01", priority=1)
    supplier = Supplier.objects.create(code="ACME", name="Acme Mugs")
    mug = f.make_product("MUG-BLU", barcode="7891000000017")
    cup = f.make_product("CUP-RED")
    order = purchase_order_create(
        supplier=supplier,
        warehouse=wh,
        lines=[{"product": mug, "quantity": 3}, {"product": cup, "quantity": 2}],
    )
    return purchase_order_send(purchase_order=order)


def _page(po):
    return f"/floor/stock/receive/po/{po.number}/"


def test_scanning_a_po_number_opens_its_receiving_page(floor_client, po):
    response = floor_client.get("/floor/stock/receive/po/", {"number": po.number.lower()})
    assert response.status_code == 302 and response["Location"] == _page(po)
    response = floor_client.get("/floor/stock/receive/po/", {"number": "PO-999999"}, follow=True)
    assert "No purchase order or transfer PO-999999" in response.content.decode()


def test_each_scan_receives_against_the_po_and_an_over_receipt_is_shown(floor_client, po):
    mug = po.lines.get(product__sku="MUG-BLU").product
    floor_client.post(_page(po), {"code": "7891000000017"})
    response = floor_client.post(_page(po), {"code": "3*MUG-BLU"}, follow=True)

    page = response.content.decode()
    assert "4 of 3 received, 1 over the order (recorded)" in page
    assert "+1 over" in page
    assert f.movements(product=mug) == [
        ("receipt", 1, 0, po.number),
        ("receipt", 3, 0, po.number),
    ]
    po.refresh_from_db()
    assert po.status == "partially_received"  # CUP-RED still due
    assert StockMovement.objects.filter(reference=po.number).first().actor == "picker"


def test_a_product_not_on_the_po_is_refused_and_nothing_changes(floor_client, po):
    f.make_product("OTHER")
    response = floor_client.post(_page(po), {"code": "OTHER"}, follow=True)
    assert "Not on " in response.content.decode()
    response = floor_client.post(_page(po), {"code": "NO-SUCH"}, follow=True)
    assert "Unknown barcode or SKU: NO-SUCH" in response.content.decode()
    assert not StockMovement.objects.filter(reference=po.number).exists()


def test_close_short_from_the_page(floor_client, po):
    floor_client.post(_page(po), {"code": "2*MUG-BLU"})
    unconfirmed = floor_client.post(_page(po), {"close": "short"}, follow=True)
    assert "Tick that nothing more will come" in unconfirmed.content.decode()
    response = floor_client.post(_page(po), {"close": "short", "confirm": "yes"}, follow=True)
    po.refresh_from_db()
    assert po.status == PurchaseOrder.Status.RECEIVED
    assert "closed short" in response.content.decode()


def test_generic_receipt_with_a_po_number_goes_to_the_po_page(floor_client, po):
    response = floor_client.post(
        "/floor/stock/receive/",
        {"warehouse": "SP-01", "reference": po.number, "code": "MUG-BLU", "quantity": 1},
    )
    assert response["Location"] == _page(po)
    assert not StockMovement.objects.filter(reference=po.number).exists()


def test_transfer_arrival_by_scan_and_a_loss(floor_client):
    sp = f.make_warehouse("SP-01", priority=1)
    rj = f.make_warehouse("RJ-01", priority=2)
    mug = f.make_product("MUG-BLU")
    f.receive(mug, sp, 5)
    transfer = transfer_dispatch(
        transfer=transfer_create(source=sp, destination=rj, lines=[{"product": mug, "quantity": 5}])
    )
    page = f"/floor/stock/receive/transfer/{transfer.number}/"

    response = floor_client.post(page, {"code": "4*MUG-BLU"}, follow=True)
    assert "4 × MUG-BLU received; 1 still in transit" in response.content.decode()
    response = floor_client.post(
        page, {"sku": "MUG-BLU", "lost": 1, "note": "torn box"}, follow=True
    )

    transfer.refresh_from_db()
    assert transfer.status == "received"
    assert f.quantities(mug, rj) == (4, 0)
    assert "Lost in transit: MUG-BLU x1 (torn box)" in response.content.decode()
    f.assert_ledger_clean()


def test_stock_page_shows_what_is_due_at_that_point(floor_client, po):
    mug = po.lines.get(product__sku="MUG-BLU").product
    f.receive(mug, po.warehouse, 1)
    level = mug.stock_levels.get()
    body = floor_client.get(f"/floor/stock/{level.pk}/").content.decode()
    assert f'3 on <a href="/floor/stock/receive/po/{po.number}/">{po.number}</a>' in body
