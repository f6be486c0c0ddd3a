"""The customer page for staff: a customer's orders, returns and the internal notes on
their orders, reached from the order page's customer name."""

import pytest
from django.test import Client

from fulfillment.services import order_confirm_and_allocate, shipment_deliver, shipment_ship
from kernel.roles import MANAGER, WAREHOUSE
from orders.notes import order_note_add
from returns.services import return_request
from tests import factories as f
from tests.floor.conftest import make_user

pytestmark = pytest.mark.django_db

ANA = {"email": "ana@example.com", "name": "Ana Lima"}
BIA = {"email": "bia@example.com", "name": "Bia Souza"}


@pytest.fixture
def shop():
    product, warehouse = f.make_product("MUG-BLUE", price="30.00"), f.make_warehouse("SP-01")
    f.receive(product, warehouse, 50)
    delivered = order_confirm_and_allocate(
        order=f.place([(product, 2)], external_id="C-1", customer=ANA, financial_status="paid")
    )
    shipment = delivered.shipments.get()
    shipment_ship(shipment=shipment, carrier="table", tracking_number="TRK-C1")
    shipment_deliver(shipment=shipment)
    rma = return_request(order=delivered, lines=[{"sku": "MUG-BLUE", "quantity": 1}])
    pending = f.place([(product, 1)], external_id="C-2", customer=ANA)
    other = f.place([(product, 3)], external_id="C-3", customer=BIA)
    order_note_add(order=delivered, message="Asked for a gift receipt", actor="maria")
    order_note_add(order=pending, message="Wants it before Friday", actor="joao")
    order_note_add(order=other, message="Bia's own note", actor="maria")
    return {"delivered": delivered, "pending": pending, "other": other, "rma": rma}


@pytest.fixture
def manager():
    client = Client()
    client.force_login(make_user("maria", MANAGER, is_staff=True))
    return client


def test_the_customer_page_lists_their_orders_returns_and_notes(shop, manager):
    response = manager.get("/orders/customers/ana@example.com/")

    assert response.status_code == 200
    html = response.content.decode()
    delivered, pending, rma = shop["delivered"], shop["pending"], shop["rma"]
    orders = html[html.index('id="customer-orders"') : html.index('id="customer-returns"')]
    for shown in (delivered.number, pending.number, "Delivered", "Pending", "60.00", "30.00"):
        assert shown in orders, shown
    assert f'href="/orders/{delivered.number}/"' in orders
    assert orders.index(pending.number) < orders.index(delivered.number)  # newest first
    returns = html[html.index('id="customer-returns"') : html.index('id="customer-notes"')]
    assert rma.number in returns and "Requested" in returns and delivered.number in returns
    notes = html[html.index('id="customer-notes"') :]
    for shown in ("Asked for a gift receipt", "Wants it before Friday", "maria", "joao"):
        assert shown in notes, shown
    # another customer's order and note are not here
    assert shop["other"].number not in html
    assert "Bia&#x27;s own note" not in html and "Bia's own note" not in html


def test_the_order_page_links_the_customer_name_to_their_page(shop, manager):
    html = manager.get(f"/orders/{shop['pending'].number}/").content.decode()
    assert '<a href="/orders/customers/ana@example.com/" id="customer-link">Ana Lima</a>' in html


def test_the_e_mail_is_found_without_case(shop, manager):
    response = manager.get("/orders/customers/ANA@Example.com/")
    assert response.status_code == 200
    assert shop["pending"].number in response.content.decode()


def test_an_unknown_customer_is_the_not_found_page(shop, manager):
    response = manager.get("/orders/customers/nobody@example.com/")
    assert response.status_code == 404
    assert "ana@example.com" not in response.content.decode()


def test_the_customer_page_is_for_managers_only(shop):
    anonymous = Client().get("/orders/customers/ana@example.com/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    picker = Client()
    picker.force_login(make_user("pedro", WAREHOUSE))
    assert picker.get("/orders/customers/ana@example.com/").status_code == 403


def test_the_customer_page_makes_the_same_queries_for_many_orders(
    shop, manager, django_assert_max_num_queries
):
    product = shop["pending"].lines.get().product
    for n in range(30):
        order = f.place([(product, 1)], external_id=f"MANY-{n}", customer=ANA)
        order_note_add(order=order, message=f"note {n}", actor="maria")
    with django_assert_max_num_queries(12):
        response = manager.get("/orders/customers/ana@example.com/")
    assert response.content.decode().count('class="note"') == 32
