"""A manager handles an exchange from the order page in a real browser: starts a return
with a replacement line, approves it, follows the replacement order's link and comes
back by its "Replacement for order" link. The form is usable on a laptop (1366 px) and
a phone (390 px): every field reachable and the submit button on screen."""

import pytest

from fulfillment.services import shipment_ship
from orders.models import Order
from orders.services import order_mark_paid
from returns.models import ReturnRequest
from tests.e2e.conftest import DESKTOP, PHONE
from tests.factories import assert_ledger_clean, confirm, make_product, make_warehouse, place
from tests.floor.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shipped(live_server):
    """A paid order of 2 TSHIRT-M and 1 MUG, shipped from MAIN; TSHIRT-L in stock."""
    from tests.factories import receive

    main = make_warehouse("MAIN", priority=1)
    shirt = make_product("TSHIRT-M", price="19.90", name="T-shirt M")
    shirt_l = make_product("TSHIRT-L", price="19.90", name="T-shirt L")
    mug = make_product("MUG", price="7.50", name="Blue mug")
    for product in (shirt, shirt_l, mug):
        receive(product, main, 10)
    order = place([(shirt, 2), (mug, 1)], shipping_total="5.00")
    order_mark_paid(order=order)
    confirm(order)
    shipment_ship(shipment=order.shipments.get(), tracking_number="BR123")
    order.refresh_from_db()
    make_user("boss", "manager", password=True, is_staff=True)
    return order


def login(browser, url, viewport):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(url)
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", "boss-pw-2026")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    return context, page


def assert_on_screen(page, locator) -> None:
    """Visible and, once scrolled to, inside the viewport's width (not cut off)."""
    locator.scroll_into_view_if_needed()
    assert locator.is_visible()
    box = locator.bounding_box()
    width = page.viewport_size["width"]
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (box, width)


def test_return_form_is_usable_on_a_phone_and_says_what_is_missing(
    browser, live_server, shipped, shots
):
    context, page = login(browser, f"{live_server.url}/orders/{shipped.number}/", PHONE)
    form = page.locator("#start-return-form")
    submit = form.get_by_role("button", name="Start the return")
    assert_on_screen(page, submit)
    for label in (
        "Units of TSHIRT-M to return",
        "Reason for TSHIRT-M",
        "Replacement SKU for TSHIRT-M",
        "Replacement units for TSHIRT-M",
    ):
        field = form.get_by_label(label)
        assert_on_screen(page, field)  # a card per line: no sideways scrolling
        assert field.is_enabled(), label
    shots(page, "form")

    with page.expect_navigation():
        submit.click()  # nothing chosen

    assert "Choose at least one line to return" in page.locator("#start-return-errors").inner_text()
    assert_on_screen(page, page.locator("#start-return-form").get_by_role("button"))
    shots(page, "nothing-chosen")
    context.close()
    assert not ReturnRequest.objects.exists()


def test_manager_exchanges_a_shipped_line_and_follows_the_replacement_link_both_ways(
    browser, live_server, shipped, shots
):
    context, page = login(browser, f"{live_server.url}/orders/{shipped.number}/", DESKTOP)
    form = page.locator("#start-return-form")
    assert_on_screen(page, form.get_by_role("button", name="Start the return"))
    assert "2" in form.locator("tr", has_text="TSHIRT-M").inner_text()  # returnable
    form.get_by_label("Units of TSHIRT-M to return").fill("1")
    form.get_by_label("Reason for TSHIRT-M").select_option("size_fit")
    form.get_by_label("Replacement SKU for TSHIRT-M").fill("TSHIRT-L")
    shots(page, "filled")
    with page.expect_navigation():
        form.get_by_role("button", name="Start the return").click()

    rma = ReturnRequest.objects.get(order=shipped)
    assert f"Return {rma.number} requested." in page.locator("main").inner_text()
    row = page.locator(f"#return-{rma.number}")
    assert "Requested" in row.inner_text()
    assert "TSHIRT-M ×1 · Size or fit → TSHIRT-L ×1" in row.inner_text()
    # the form now offers only what is left to return
    assert page.get_by_label("Units of TSHIRT-M to return").get_attribute("max") == "1"
    shots(page, "requested")

    with page.expect_navigation():
        row.get_by_role("button", name="Approve").click()

    rma.refresh_from_db()
    replacement = rma.replacement_order
    assert replacement is not None
    text = page.locator("main").inner_text()
    assert f"Return {rma.number} approved; replacement order {replacement.number} placed." in text
    row = page.locator(f"#return-{rma.number}")
    assert "Approved" in row.inner_text()
    assert row.get_by_role("button", name="Approve").count() == 0
    link = row.get_by_role("link", name=replacement.number)
    assert link.is_visible()
    shots(page, "approved")

    with page.expect_navigation():
        link.click()

    assert page.locator("h1").inner_text() == replacement.number
    back = page.locator("#replacement-for")
    assert f"Replacement for order {shipped.number} (return {rma.number})" in back.inner_text()
    lines = page.locator("table.list").first.inner_text()
    assert "TSHIRT-L" in lines
    shots(page, "replacement")

    with page.expect_navigation():
        back.get_by_role("link", name=shipped.number).click()

    assert page.locator("h1").inner_text() == shipped.number
    assert (
        page.locator(f"#return-{rma.number}").get_by_role("link", name=replacement.number).count()
        == 1
    )
    context.close()

    assert Order.objects.filter(replacement_for=rma).count() == 1
    assert_ledger_clean()
