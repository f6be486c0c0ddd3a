"""Receiving a purchase order by scan in a real browser, keyboard only: open the PO by
scanning its number, scan each product (one over the order), close the rest short;
then the stock, the ledger and the PO must say so."""

import pytest

from inventory.models import PurchaseOrder, StockLevel, Supplier
from inventory.purchasing import purchase_order_create, purchase_order_send
from tests.factories import assert_ledger_clean, make_product, make_warehouse
from tests.floor.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)
HANDHELD = {"width": 360, "height": 780}


@pytest.fixture
def delivery(live_server):
    wh = make_warehouse("SP-01", priority=1)
    mug = make_product("MUG-BLU", barcode="7891000000017")
    cup = make_product("CUP-RED", barcode="7891000000024")
    supplier = Supplier.objects.create(code="ACME", name="Acme Mugs")
    po = purchase_order_create(
        supplier=supplier,
        warehouse=wh,
        lines=[{"product": mug, "quantity": 2}, {"product": cup, "quantity": 3}],
    )
    purchase_order_send(purchase_order=po)
    make_user("ana", "warehouse", password=True)
    return po, wh, mug, cup


def test_receive_a_po_by_scanning(browser, live_server, delivery):
    po, wh, mug, cup = delivery
    context = browser.new_context(viewport=HANDHELD)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/floor/stock/receive/po/")
    page.keyboard.type("ana")
    page.keyboard.press("Tab")
    page.keyboard.type("ana-pw-2026")
    page.keyboard.press("Enter")
    page.wait_for_selector("input[name=number]")

    # The number box has the focus: scan the PO number from the delivery note.
    page.keyboard.type(po.number)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/floor/stock/receive/po/{po.number}/")

    def scan(code: str) -> None:
        page.keyboard.type(code)
        with page.expect_navigation():  # the scan posts, the page comes back
            page.keyboard.press("Enter")

    scan("7891000000017")  # MUG-BLU x1
    page.wait_for_selector("text=1 of 2 received, 1 to come")
    scan("2*7891000000017")  # two more: one over the order
    page.wait_for_selector(".flash.warning")
    assert "1 over the order (recorded)" in page.locator("#flash").inner_text()
    assert "+1 over" in page.locator('tr[data-sku="MUG-BLU"]').inner_text()
    scan("CUP-RED")  # a typed SKU works too
    page.wait_for_selector("text=1 of 3 received, 2 to come")
    scan("NOT-ON-PO")
    page.wait_for_selector(".flash.error")
    assert page.locator("#po-progress").inner_text() == "4 of 5"

    page.get_by_label(f"Nothing more will come of {po.number}").check()
    page.get_by_role("button", name="Close short (the rest will not come)").click()
    page.wait_for_selector("text=closed short; the rest is no longer due")
    context.close()

    po.refresh_from_db()
    assert po.status == PurchaseOrder.Status.RECEIVED
    assert StockLevel.objects.get(product=mug, warehouse=wh).on_hand == 3
    assert StockLevel.objects.get(product=cup, warehouse=wh).on_hand == 1
    assert "CUP-RED 2 of 3 not delivered" in po.events.get(kind="closed_short").message
    assert po.events.filter(kind="over_received").count() == 1
    assert_ledger_clean()
