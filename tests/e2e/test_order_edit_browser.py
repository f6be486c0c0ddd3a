"""A manager edits a quantity on the order page in a real browser: the new total and
the ``edited`` event show, the stock follows; a line being picked says why it is locked."""

from decimal import Decimal

import pytest

from fulfillment.services import order_confirm_and_allocate, shipment_start_picking
from orders.models import OrderEvent
from tests.factories import assert_ledger_clean, make_product, make_warehouse, place, quantities
from tests.floor.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(live_server):
    main = make_warehouse("MAIN", priority=1)
    side = make_warehouse("SIDE", priority=9)
    mug = make_product("MUG", price="7.50", name="Blue mug")
    lamp = make_product("LAMP", price="40.00", name="Desk lamp")
    from tests.factories import receive

    receive(mug, main, 10)
    receive(lamp, side, 5)
    order = place([(mug, 1, "7.50"), (lamp, 1, "40.00")], shipping_total="5.00")
    order_confirm_and_allocate(order=order)
    order.refresh_from_db()
    make_user("boss", "manager", password=True, is_staff=True)
    return order, main, side, mug, lamp


def test_manager_edits_a_quantity_and_sees_the_new_total_and_event(
    browser, live_server, shop, artifacts
):
    order, main, side, mug, lamp = shop
    shipment_start_picking(shipment=order.shipments.get(warehouse=side))
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/orders/{order.number}/")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", "boss-pw-2026")
    page.keyboard.press("Enter")
    page.wait_for_selector("#order-edit-form")

    edit = page.locator("#order-edit-form")
    assert "Locked: picking has started" in edit.locator("tr", has_text="LAMP").inner_text()
    assert edit.get_by_label("Quantity of LAMP").count() == 0
    edit.get_by_label("Quantity of MUG").fill("3")
    with page.expect_navigation():
        edit.get_by_role("button", name="Save changes").click()

    page.wait_for_selector("text=MUG quantity 1 -> 3")
    grand = page.get_by_label("Order totals").locator("tr.grand").inner_text()
    assert "67.50" in grand  # 3 x 7.50 + 40.00 + 5.00 shipping
    edited = page.locator("ol.lines li", has_text="Edited")
    assert "MUG quantity 1 -> 3" in edited.inner_text() and "boss" in edited.inner_text()
    # the customer was told (the e-mail job runs in-process in the tests)
    assert page.locator("ol.lines li", has_text="Your order").count() == 1
    assert page.locator("#amount-due").count() == 0  # not paid yet: nothing "due" shown
    page.screenshot(path=str(artifacts / "order-edit.png"), full_page=True)
    context.close()

    order.refresh_from_db()
    assert order.total == Decimal("67.50")
    assert order.events.filter(kind=OrderEvent.Kind.EDITED, actor="boss").count() == 1
    assert quantities(mug, main) == (10, 3)
    assert_ledger_clean()
