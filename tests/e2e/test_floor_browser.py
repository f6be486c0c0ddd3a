"""A warehouse hire's shift in a real browser, with the keyboard alone: log in, create a
wave, pick it by scanning barcodes (typing + Enter), pack and ship a 3-line order,
receive a return; then the database must show the stock and the statuses."""

import re

import pytest

from fulfillment.models import PickList, Shipment
from fulfillment.services import shipment_pack, shipment_ship
from inventory.models import StockLevel
from orders.models import Order
from returns.models import ReturnRequest
from returns.services import return_approve, return_request
from tests.e2e.support import wait_until
from tests.factories import assert_ledger_clean
from tests.floor.conftest import Floor, make_user

pytestmark = pytest.mark.django_db(transaction=True)

CATALOGUE = [
    ("TSHIRT-BLK-M", "Cotton T-shirt, black, M", 180, "C-04-2"),
    ("MUG-WHT", "Ceramic mug 350 ml, white", 400, "B-12-1"),
    ("CABLE-USBC-1M", "USB-C cable 1 m", 60, "A-02-3"),
]
MAX_INPUTS = 10  # the goal for the 3-line order: scans/Enters, no mouse
HANDHELD = {"width": 360, "height": 780}  # a small handheld scanner


class Keyboard:
    """Types like a scanner (the code, then Enter) and counts what the user pressed."""

    def __init__(self, page):
        self.page = page
        self.inputs = 0

    def scan(self, text: str = "", *, count: bool = True) -> None:
        if text:
            self.page.keyboard.type(text)
        self.page.keyboard.press("Enter")
        if count:
            self.inputs += 1


def on_hand(product, warehouse) -> tuple[int, int]:
    level = StockLevel.objects.get(product=product, warehouse=warehouse)
    return level.on_hand, level.reserved


def shot(page, artifacts, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def flash(page) -> str:
    return page.locator("#flash").inner_text()


@pytest.fixture
def shift(live_server):
    """SP-01 with three binned products, a confirmed 3-line order to ship, and an
    earlier order, shipped, whose approved return is on its way back."""
    floor = Floor(catalogue=CATALOGUE)
    user = make_user("ana", "warehouse", password=True)
    p0, p1, p2 = floor.products
    earlier = floor.order([(p0, 2)], external_id="E-1")
    shipment = earlier.shipments.get()
    shipment_pack(shipment=shipment)
    shipment_ship(shipment=shipment, carrier="correios", service="pac")
    rma = return_request(
        order=earlier,
        lines=[{"order_line": earlier.lines.get(), "quantity": 2, "reason": "size_fit"}],
    )
    return_approve(return_request=rma)
    order = floor.order([(p0, 1), (p1, 1), (p2, 1)], external_id="E-2")
    return floor, user, order, rma


def test_warehouse_shift_by_keyboard(browser, live_server, shift, artifacts):
    floor, user, order, rma = shift
    p0, p1, p2 = floor.products
    before = {p.sku: on_hand(p, floor.warehouse) for p in floor.products}
    context = browser.new_context(viewport=HANDHELD)
    page = context.new_page()
    page.set_default_timeout(15_000)
    popups = []
    context.on("page", lambda p: popups.append(p))  # the print page the pack station opens
    # The label and slip PDFs are Step 5's and tested there: not rendered here (speed).
    context.route("**/*.pdf", lambda route: route.abort())
    kb = Keyboard(page)

    # Log in (not counted: the shift starts once, not per order).
    page.goto(live_server.url + "/")
    assert "/accounts/login/" in page.url
    shot(page, artifacts, "01-login")
    page.keyboard.type("ana")
    page.keyboard.press("Tab")
    page.keyboard.type("ana-pw-2026")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Welcome, ana")
    shot(page, artifacts, "02-home-warehouse")

    # Home -> pick queue: the Pick tile has the focus.
    kb.scan()
    page.wait_for_url("**/floor/pick/")
    shot(page, artifacts, "03-pick-queue")

    # A wave of the oldest shipments: the count field has the focus, Enter creates it.
    kb.scan()
    page.wait_for_url(re.compile(r".*/floor/pick/PL-\d+/$"))
    pick_list = PickList.objects.get()
    assert pick_list.shipments.get().order == order
    shot(page, artifacts, "04-pick-list")

    # A wrong product is refused loudly and changes nothing (not counted: a mistake).
    kb.scan("7899999999999", count=False)
    page.wait_for_selector(".flash.error")
    assert "Unknown barcode" in flash(page)
    shot(page, artifacts, "05-pick-wrong-scan")
    assert Shipment.objects.get(order=order).lines.filter(quantity_picked__gt=0).count() == 0

    # Walk the list: scan the barcode shown on each line, in bin order.
    walking = [row.strip() for row in page.locator("ol.lines li .sku").all_inner_texts()]
    assert walking == ["CABLE-USBC-1M", "MUG-WHT", "TSHIRT-BLK-M"]  # bins A-.., B-.., C-..
    by_sku = {p.sku: p for p in floor.products}
    for i, sku in enumerate(walking):
        kb.scan(by_sku[sku].barcode)
        wait_until(page, "n => document.querySelectorAll('ol.lines li.done').length >= n", i + 1)
        if i == 0:
            shot(page, artifacts, "06-pick-list-progress")
    page.wait_for_selector("text=All picked")
    shot(page, artifacts, "07-pick-list-done")
    shipment = Shipment.objects.get(order=order)
    assert shipment.status == Shipment.Status.PICKED
    assert PickList.objects.get().status == PickList.Status.DONE

    # Pack: the done wave asks for a shipment number; then each item, then the weight.
    kb.scan(shipment.number)
    page.wait_for_url(f"**/floor/pack/{shipment.number}/")
    shot(page, artifacts, "08-pack-station")
    kb.scan("P999", count=False)  # not a product: refused, nothing changes
    page.wait_for_selector(".flash.error")
    assert "Unknown barcode or SKU: P999" in flash(page)
    # The three items as fast as a scanner types: no waiting for the server in between.
    kb.scan(p0.barcode)
    kb.scan(p1.sku.lower())  # a SKU typed by hand works too, in any case
    page.wait_for_selector("text=2 / 3")
    shot(page, artifacts, "09-pack-progress")
    kb.scan(p2.barcode)
    page.wait_for_selector("input[name=weight_grams]")
    wait_until(page, "document.activeElement.name === 'weight_grams'")
    shot(page, artifacts, "10-pack-weigh-and-ship")
    kb.scan()  # the weight is prefilled from the products: Enter ships
    page.wait_for_selector(".done-box")
    shot(page, artifacts, "11-pack-shipped")

    assert kb.inputs <= MAX_INPUTS, f"{kb.inputs} inputs for a 3-line order"
    assert kb.inputs == 10  # home Enter, wave Enter, 3 picks, shipment, 3 items, weight
    shipment.refresh_from_db()
    order.refresh_from_db()
    assert shipment.status == Shipment.Status.SHIPPED
    assert shipment.carrier == "correios" and shipment.tracking_number
    assert order.status == Order.Status.SHIPPED
    for product in floor.products:
        on, reserved = on_hand(product, floor.warehouse)
        assert (on, reserved) == (before[product.sku][0] - 1, before[product.sku][1] - 1)
    for popup in popups:
        popup.close()

    # Returns: scan the RMA, Enter confirms the defaults (all back, new, restock).
    page.goto(live_server.url + "/floor/returns/")
    shot(page, artifacts, "12-returns-lookup")
    kb.scan(rma.number, count=False)
    page.wait_for_url(f"**/floor/returns/{rma.number}/")
    shot(page, artifacts, "13-return-receive")
    stock_before = on_hand(p0, floor.warehouse)
    kb.scan(count=False)
    page.wait_for_selector(f"text={rma.number} received")
    shot(page, artifacts, "14-return-received")
    rma.refresh_from_db()
    assert rma.status == ReturnRequest.Status.RECEIVED
    assert on_hand(p0, floor.warehouse) == (stock_before[0] + 2, stock_before[1])

    # Stock: find a SKU, count it.
    page.goto(live_server.url + "/floor/stock/")
    kb.scan(p2.sku, count=False)
    page.wait_for_url("**/floor/stock/*/")
    kb.scan("40", count=False)
    page.wait_for_selector("text=Counted 40")
    shot(page, artifacts, "15-stock-count")
    assert on_hand(p2, floor.warehouse)[0] == 40
    assert_ledger_clean()
    context.close()


def test_manager_pages_in_the_browser(browser, live_server, shift, artifacts):
    floor, _, order, _ = shift
    make_user("maria", "manager", is_staff=True, password=True)
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/accounts/login/?next=/orders/")
    page.keyboard.type("maria")
    page.keyboard.press("Tab")
    page.keyboard.type("maria-pw-2026")
    page.keyboard.press("Enter")
    page.wait_for_url("**/orders/")
    shot(page, artifacts, "20-orders-list")
    page.goto(f"{live_server.url}/orders/{order.number}/")
    page.fill("form[action$='/hold/'] input[name=reason]", "Customer called")
    page.locator("form[action$='/hold/'] button").click()
    page.wait_for_selector("text=put on hold")
    shot(page, artifacts, "21-order-detail")
    order.refresh_from_db()
    assert order.status == Order.Status.ON_HOLD
    context.close()
