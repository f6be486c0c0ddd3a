"""The order admin goes through the services: its add page opens the staff order page,
an address changed on its change page is an edit (re-routed, ledger, ``edited`` event,
customer told), refused with a form error once picking started; it links to the order
page's edit and cancel-lines forms."""

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.test import TestCase
from django.urls import reverse

from fulfillment.models import Shipment
from fulfillment.services import shipment_start_picking
from inventory.models import StockMovement
from kernel.roles import MANAGER
from orders import notifications
from orders.models import Order, OrderEvent
from tests import factories as f
from tests.test_admin import change_url, form_data

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:orders_order_add")


@pytest.fixture
def manager_client(client, django_user_model):
    user = django_user_model.objects.create_user("boss", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=MANAGER))
    client.force_login(user)
    return client


@pytest.fixture
def near_order():
    """MUG x2 on a nearest-routing channel, confirmed from MAIN (Campinas); NORTH (Recife)
    has stock too."""
    main = f.make_warehouse("MAIN", priority=1, region="SP", city="Campinas")
    north = f.make_warehouse("NORTH", priority=5, region="PE", city="Recife")
    mug = f.make_product("MUG", price="7.50")
    f.receive(mug, main, 5)
    f.receive(mug, north, 5)
    ch = f.channel("near", routing_strategy="nearest")
    order = f.confirm(f.place([(mug, 2)], channel_code=ch.code))
    return order, main, north, mug


def open_shipments(order):
    return list(order.shipments.exclude(status=Shipment.Status.CANCELLED).order_by("pk"))


def test_add_order_opens_the_staff_order_page(manager_client):
    changelist = manager_client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert ADD_URL in changelist  # the "Add order" button is offered

    response = manager_client.get(ADD_URL)

    assert response.status_code == 302
    assert response["Location"] == reverse("staff-orders:list")
    assert manager_client.get(ADD_URL, follow=True).status_code == 200


def test_add_page_writes_no_order_even_when_posted(manager_client):
    response = manager_client.post(ADD_URL, {"number": "SO-TYPED", "status": "confirmed"})
    assert response.status_code == 302
    assert not Order.objects.filter(number="SO-TYPED").exists()


def test_address_changed_in_the_admin_re_routes_through_the_edit(manager_client, near_order):
    order, main, north, mug = near_order
    [before] = open_shipments(order)
    data = form_data(manager_client.get(change_url(order)))
    data.update(ship_city="Recife", ship_region="PE", notes="moved, asked by phone")

    response = manager_client.post(change_url(order), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    order.refresh_from_db()
    assert (order.ship_city, order.ship_region, order.notes) == (
        "Recife",
        "PE",
        "moved, asked by phone",
    )
    [after] = open_shipments(order)
    assert after.warehouse == north and before.pk != after.pk
    assert f.quantities(mug, main) == (5, 0) and f.quantities(mug, north) == (5, 2)
    ledger = f.movements(product=mug)
    assert ("release", 0, -2, before.number) in ledger
    assert ("reserve", 0, 2, after.number) in ledger
    edited = list(order.events.filter(kind=OrderEvent.Kind.EDITED).order_by("pk"))
    assert [e.actor for e in edited] == ["boss", "boss"]
    assert edited[0].message == "Edited in the admin: notes"
    assert "city 'Campinas' -> 'Recife'" in edited[1].message
    assert "re-routed" in edited[1].message and edited[1].public
    f.assert_ledger_clean()


def test_admin_address_change_tells_the_customer(manager_client, near_order, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    order = near_order[0]
    mail.outbox.clear()
    data = form_data(manager_client.get(change_url(order)))
    data.update(ship_line1="Rua Nova 10")

    with TestCase.captureOnCommitCallbacks() as callbacks:
        assert manager_client.post(change_url(order), data).status_code == 302
    for callback in callbacks:  # the e-mail job only: webhooks would leave the machine
        if getattr(callback, "func", None) is notifications._enqueue:
            callback()

    assert [m.subject for m in mail.outbox] == [f"Your order {order.number} was changed"]


def test_admin_address_change_refused_once_picking_started(manager_client, near_order):
    order, main, north, mug = near_order
    [shipment] = open_shipments(order)
    shipment_start_picking(shipment=shipment)
    data = form_data(manager_client.get(change_url(order)))
    data.update(ship_city="Recife", ship_region="PE")

    response = manager_client.post(change_url(order), data)

    assert response.status_code == 200  # the form again, with the reason
    errors = str(response.context["errors"])
    assert f"picking has started for {shipment.number} (picking)" in errors
    order.refresh_from_db()
    assert order.ship_city != "Recife"
    assert not StockMovement.objects.filter(kind=StockMovement.Kind.RELEASE).exists()


def test_admin_bad_country_is_a_form_error(manager_client, near_order):
    order = near_order[0]
    data = form_data(manager_client.get(change_url(order)))
    data.update(ship_country="B1")

    response = manager_client.post(change_url(order), data)

    assert response.status_code == 200
    assert "2-letter ISO 3166-1" in str(response.context["adminform"].form.errors)
    order.refresh_from_db()
    assert order.ship_country == "BR"


def test_change_page_links_to_the_order_page_edit_and_cancel(manager_client, near_order):
    order = near_order[0]
    page = manager_client.get(change_url(order)).content.decode()
    detail = reverse("orders:detail", args=[order.number])
    assert f'href="{detail}#order-edit-form"' in page
    assert f'href="{detail}#cancel-lines-form"' in page
