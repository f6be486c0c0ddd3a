"""Internal notes: written with their author and time, shown to staff on the order page
apart from the timeline, never on the customer's tracking page or in their e-mails."""

import pytest
from django.test import Client
from django.utils import formats
from django.utils.timezone import localtime

from fulfillment.services import order_confirm_and_allocate, shipment_ship
from kernel.roles import MANAGER, WAREHOUSE
from orders.exceptions import OrderInvalid
from orders.models import OrderEvent
from orders.notes import NOTE_MAX_LENGTH, order_note_add, order_notes
from orders.notifications import build_message
from orders.services import order_add_note
from tests import factories as f
from tests.floor.conftest import make_user

pytestmark = pytest.mark.django_db

SECRET = "Customer called twice, suspected fraud: check before shipping"


@pytest.fixture
def order():
    product, warehouse = f.make_product("MUG-BLUE"), f.make_warehouse("SP-01")
    f.receive(product, warehouse, 5)
    return order_confirm_and_allocate(order=f.place([(product, 2)], external_id="N-1"))


@pytest.fixture
def boss():
    return make_user("maria", MANAGER, is_staff=True)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_note_is_an_internal_event_with_its_author(order, boss):
    note = order_note_add(order=order, message=f"  {SECRET}\n", actor=boss)

    stored = OrderEvent.objects.get(pk=note.pk)
    assert (stored.kind, stored.message, stored.actor, stored.public) == (
        OrderEvent.Kind.NOTE,
        SECRET,
        "maria",
        False,
    )
    assert stored.created_at is not None
    assert list(order_notes(order=order)) == [stored]


def test_an_empty_or_too_long_note_is_refused_and_nothing_is_written(order):
    before = order.events.count()
    for message in ("", "   \n ", "x" * (NOTE_MAX_LENGTH + 1)):
        with pytest.raises(OrderInvalid) as exc:
            order_note_add(order=order, message=message, actor="maria")
        assert exc.value.field == "message"
    assert order.events.count() == before
    order_note_add(order=order, message="x" * NOTE_MAX_LENGTH, actor="maria")  # the limit


def test_the_systems_own_notes_are_not_internal_notes(order):
    """E-mail logs, short picks, rate shopping... share kind ``note``: they stay on the
    timeline, not in the staff's notes."""
    order_add_note(order=order, message="E-mail sent to ana@example.com", actor="system")
    order_add_note(order=order, message="Gift wrapping added", public=True)
    assert list(order_notes(order=order)) == []


def test_the_order_page_shows_notes_with_author_and_time_apart_from_the_timeline(order, boss):
    client = client_for(boss)
    response = client.post(f"/orders/{order.number}/notes/", {"message": SECRET})
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{order.number}/#notes"

    html = client.get(f"/orders/{order.number}/").content.decode()
    note = order_notes(order=order).get()
    section = html[html.index('id="notes"') : html.index("Timeline")]
    assert SECRET in section
    assert "maria" in section
    assert formats.date_format(localtime(note.created_at), "SHORT_DATETIME_FORMAT") in section
    assert "Note added." in html


def test_an_empty_or_too_long_note_is_a_form_error_on_the_order_page(order, boss):
    client = client_for(boss)
    empty = client.post(f"/orders/{order.number}/notes/", {"message": "   "})
    assert empty.status_code == 400
    assert "Write the note first." in empty.content.decode()

    long_text = "y" * (NOTE_MAX_LENGTH + 1)
    too_long = client.post(f"/orders/{order.number}/notes/", {"message": long_text})
    assert too_long.status_code == 400
    html = too_long.content.decode()
    assert f"at most {NOTE_MAX_LENGTH} characters" in html
    assert long_text in html  # what was typed is kept in the form
    assert not order_notes(order=order).exists()


def test_only_managers_add_notes(order):
    picker = make_user("pedro", WAREHOUSE)
    assert (
        client_for(picker).post(f"/orders/{order.number}/notes/", {"message": "hi"}).status_code
        == 403
    )
    anonymous = Client().post(f"/orders/{order.number}/notes/", {"message": "hi"})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert (
        client_for(make_user("maria", MANAGER)).get(f"/orders/{order.number}/notes/").status_code
        == 405
    )
    assert not order_notes(order=order).exists()


def test_an_unknown_order_is_a_404(boss):
    assert client_for(boss).post("/orders/SO-999999/notes/", {"message": "hi"}).status_code == 404


def test_the_tracking_page_never_shows_an_internal_note(order, boss):
    order_note_add(order=order, message=SECRET, actor=boss)
    response = Client().get(f"/track/{order.tracking_token}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert order.number in html
    assert "suspected fraud" not in html
    assert "maria" not in html


def test_the_customer_e_mails_never_carry_an_internal_note(order, boss):
    order_note_add(order=order, message=SECRET, actor=boss)
    shipment = order.shipments.get()
    shipment_ship(shipment=shipment, carrier="table", tracking_number="TRK-N1")

    message = build_message(order, "shipped", shipment.number)
    bodies = [message.subject, message.body, *(content for content, _ in message.alternatives)]
    assert any("TRK-N1" in body for body in bodies)
    assert not any("suspected fraud" in body for body in bodies)
