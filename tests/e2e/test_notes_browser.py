"""In a real browser: a manager adds an internal note on the order page and sees it with
their name; the customer's tracking page, opened from the same order page, does not
show it; the customer's name leads to their page, which lists the note."""

import pytest

from fulfillment.services import order_confirm_and_allocate
from orders.notes import order_notes
from tests import factories as f
from tests.floor.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)

NOTE = "Customer asked to leave the parcel with the neighbour at no. 12"


def test_a_manager_adds_a_note_the_tracking_page_does_not_show(browser, live_server):
    product, warehouse = f.make_product("MUG-BLUE"), f.make_warehouse("SP-01")
    f.receive(product, warehouse, 5)
    order = order_confirm_and_allocate(order=f.place([(product, 1)], external_id="E2E-N1"))
    make_user("maria", "manager", password=True, is_staff=True)

    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=username]", "maria")
    page.fill("input[name=password]", "maria-pw-2026")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/dashboard/")

    page.goto(live_server.url + f"/orders/{order.number}/")
    notes = page.locator("#notes")
    assert "No notes yet." in notes.inner_text()
    # an empty note is refused by the page with its message (the browser's own
    # "required" check is bypassed to reach the server's)
    page.locator("#note-form").evaluate("form => form.setAttribute('novalidate', '')")
    page.fill("#notes textarea[name=message]", "   ")
    page.click("#notes button[type=submit]")
    assert "Write the note first." in page.locator("#note-errors").inner_text()

    page.fill("#notes textarea[name=message]", NOTE)
    page.click("#notes button[type=submit]")
    page.wait_for_url(live_server.url + f"/orders/{order.number}/#notes")
    listed = page.locator("#notes .note").first
    assert NOTE in listed.inner_text()
    assert "maria" in listed.inner_text()
    assert order_notes(order=order).get().actor == "maria"

    with context.expect_page() as opened:
        page.click("text=Tracking page")
    tracking = opened.value
    tracking.wait_for_load_state()
    assert order.number in tracking.content()
    assert "neighbour" not in tracking.content()
    assert "maria" not in tracking.content()
    tracking.close()

    page.click("#customer-link")
    page.wait_for_url(live_server.url + "/orders/customers/ana@example.com/")
    assert order.number in page.locator("#customer-orders").inner_text()
    assert NOTE in page.locator("#customer-notes").inner_text()
    context.close()
