"""A manager takes an order on the phone in a real browser: starts a draft, scans a SKU
(typed + Enter, as a handheld scanner does) and sees what is available, gets a refusal
for a wrong code with the scan box emptied and focused again each time, reloads the page
and finds the draft as left, fills in the customer and address, places it and lands on
the new order's page; the database must show the confirmed, reserved order."""

import re

import pytest

from inventory.models import StockLevel
from orders.models import Order
from tests.e2e.support import wait_until
from tests.e2e.test_csp_browser import WATCH
from tests.factories import assert_ledger_clean, channel, make_product, make_warehouse, receive
from tests.floor.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)
DESKTOP = {"width": 1366, "height": 900}
SCAN_READY = "() => { const s = document.querySelector('#scan'); " \
    "return s && document.activeElement === s && s.value === ''; }"  # fmt: skip


@pytest.fixture
def shop(live_server):
    sp = make_warehouse("SP-01", priority=1)
    rj = make_warehouse("RJ-01", priority=2, region="RJ")
    mug = make_product("MUG-WHT", name="Ceramic mug 350 ml, white", price="24.90",
                       barcode="7891000000109")  # fmt: skip
    receive(mug, sp, 4)
    receive(mug, rj, 2)
    channel("phone", kind="phone", auto_confirm=True, auto_confirm_require_payment=False)
    make_user("mia", "manager", password=True)
    return sp, mug


def test_a_manager_places_a_phone_order_by_scanning(browser, live_server, shop, artifacts):
    sp, mug = shop
    context = browser.new_context(viewport=DESKTOP)
    context.add_init_script(WATCH)
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "CSP violation" in m.text else None)
    page.goto(live_server.url + "/orders/")
    page.keyboard.type("mia")
    page.keyboard.press("Tab")
    page.keyboard.type("mia-pw-2026")
    page.keyboard.press("Enter")
    page.wait_for_url("**/orders/")

    page.locator("#new-order").click()  # the order list's button
    page.wait_for_url("**/orders/new/")
    page.locator("#start-draft").click()
    page.wait_for_url(re.compile(r".*/orders/new/\d+/$"))
    wait_until(page, SCAN_READY)  # the scan box has the focus

    # A scanner types the barcode and presses Enter: the line comes with what is free.
    page.keyboard.type("7891000000109")
    page.keyboard.press("Enter")
    page.wait_for_selector('tr[data-sku="MUG-WHT"]')
    row = page.locator('tr[data-sku="MUG-WHT"] .availability').inner_text()
    assert "6 available" in row and "SP-01 4 · RJ-01 2" in row
    assert "1 on the order, 6 available" in page.locator("#flash").inner_text()
    wait_until(page, SCAN_READY)

    # The same item again, typed as a SKU: two on the line.
    page.keyboard.type("MUG-WHT")
    page.keyboard.press("Enter")
    wait_until(page, "() => document.querySelector('tr[data-sku=\"MUG-WHT\"] input[name=quantity]')"
               ".value === '2'")  # fmt: skip
    wait_until(page, SCAN_READY)

    # A wrong code: refused, nothing added, the box empty and focused for the next scan.
    page.keyboard.type("7899999999999")
    page.keyboard.press("Enter")
    page.wait_for_selector(".flash.error")
    assert "Unknown barcode or SKU: 7899999999999" in page.locator("#flash").inner_text()
    wait_until(page, SCAN_READY)
    assert page.locator("#draft-lines-table tbody tr").count() == 1
    page.screenshot(path=str(artifacts / "staff-order-lines.png"), full_page=True)

    # A reload: the draft is as it was left.
    page.reload()
    assert page.locator('tr[data-sku="MUG-WHT"] input[name=quantity]').input_value() == "2"

    page.locator("#id_customer_email").fill("joana@example.com")
    page.locator("#id_customer_name").fill("Joana Prado")
    for field, value in {
        "name": "Joana Prado",
        "line1": "Av. Paulista 1000",
        "city": "São Paulo",
        "region": "SP",
        "postcode": "01310-100",
        "country": "BR",
    }.items():
        page.locator(f"#id_ship_{field}").fill(value)
    page.locator("#id_shipping_total").fill("15.00")
    page.locator("#place-order").click()
    page.wait_for_url(re.compile(r".*/orders/SO-\d+/$"))
    page.wait_for_selector("text=Confirmed")
    number = page.url.rstrip("/").rsplit("/", 1)[-1]
    assert f"Placed {number}" in page.locator("main").inner_text()
    page.screenshot(path=str(artifacts / "staff-order-placed.png"), full_page=True)
    context.close()
    assert violations == []  # htmx and floor.js ran under the Content-Security-Policy

    order = Order.objects.get(number=number)
    assert (order.channel.code, order.status, order.allocation_status) == (
        "phone",
        "confirmed",
        "allocated",
    )
    assert order.customer.email == "joana@example.com" and order.ship_city == "São Paulo"
    assert str(order.total) == "64.80"  # 2 x 24.90 + 15.00
    assert order.events.get(kind="placed").actor == "mia"
    level = StockLevel.objects.get(product=mug, warehouse=sp)
    assert (level.on_hand, level.reserved) == (4, 2)
    assert_ledger_clean()
