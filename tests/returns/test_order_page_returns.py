"""Returns from the order page: a manager starts a return (with an exchange line),
approves it, and both orders link to each other; bad input is a form error on the page
that changes nothing; only managers (as in the returns admin and API) may."""

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fulfillment.services import shipment_deliver, shipment_ship
from kernel.roles import MANAGER, WAREHOUSE
from orders.models import Order
from orders.services import order_mark_paid
from returns.models import ReturnLine, ReturnRequest
from returns.services import return_approve, return_receive, return_request
from tests import factories as f

pytestmark = pytest.mark.django_db


def staff(client, group):
    user = User.objects.create_user(f"u-{group}", password="pw-123456")
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return client


@pytest.fixture
def order():
    """Paid: 3 TSHIRT-M delivered, 1 MUG delivered, 2 LAMP still unshipped (no stock)."""
    main = f.make_warehouse("MAIN", priority=1)
    shirt = f.make_product("TSHIRT-M", price="19.90")
    shirt_l = f.make_product("TSHIRT-L", price="19.90")
    mug = f.make_product("MUG", price="7.50")
    lamp = f.make_product("LAMP", price="40.00")
    for product in (shirt, shirt_l, mug):
        f.receive(product, main, 10)
    order = f.place([(shirt, 3), (mug, 1), (lamp, 2)], shipping_total="5.00")
    order_mark_paid(order=order)
    f.confirm(order)
    shipment = order.shipments.get()
    shipment_ship(shipment=shipment)
    shipment_deliver(shipment=shipment)
    order.refresh_from_db()
    return order


def line_id(order, sku):
    return order.lines.get(sku=sku).pk


def start(client, order, **fields):
    data = {}
    for line in order.lines.all():
        data[f"l{line.pk}_reason"] = "other"
    data.update(fields)
    return client.post(f"/returns/order/{order.number}/start/", data)


def test_the_form_lists_only_shipped_lines_with_what_may_come_back(client, order):
    staff(client, MANAGER)
    return_request(order=order, lines=[{"sku": "TSHIRT-M", "quantity": 1, "reason": "other"}])

    page = client.get(f"/orders/{order.number}/").content.decode()

    assert 'id="start-return-form"' in page
    shirt, mug, lamp = (line_id(order, s) for s in ("TSHIRT-M", "MUG", "LAMP"))
    assert f'name="l{shirt}_qty" value="0" min="0" max="2"' in page  # 3 shipped, 1 claimed
    assert f'name="l{mug}_qty" value="0" min="0" max="1"' in page
    assert f'name="l{lamp}_qty"' not in page  # never shipped
    for reason in ReturnLine.Reason.values:
        assert f'<option value="{reason}"' in page


def test_manager_starts_an_exchange_approves_it_and_both_orders_link(client, order):
    staff(client, MANAGER)
    shirt = line_id(order, "TSHIRT-M")

    response = start(
        client,
        order,
        **{
            f"l{shirt}_qty": "2",
            f"l{shirt}_reason": "size_fit",
            f"l{shirt}_replacement_sku": "TSHIRT-L",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == f"/orders/{order.number}/#returns"
    rma = ReturnRequest.objects.get(order=order)
    line = rma.lines.get()
    assert (line.order_line.sku, line.quantity, line.reason) == ("TSHIRT-M", 2, "size_fit")
    assert (line.replacement_product.sku, line.replacement_quantity) == ("TSHIRT-L", 2)
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert f'id="return-{rma.number}"' in page and "Requested" in page
    assert f'action="/returns/{rma.number}/approve/"' in page

    approved = client.post(f"/returns/{rma.number}/approve/", follow=True)

    rma.refresh_from_db()
    assert rma.status == ReturnRequest.Status.APPROVED
    replacement = rma.replacement_order
    assert replacement is not None
    body = approved.content.decode()
    assert f"replacement order {replacement.number} placed" in body
    assert f'href="/orders/{replacement.number}/" class="mono replacement-link"' in body
    assert f'action="/returns/{rma.number}/approve/"' not in body  # approved: no button
    back = client.get(f"/orders/{replacement.number}/").content.decode()
    assert f'href="/orders/{order.number}/" id="replacement-for-link"' in back
    assert "Replacement for order" in back and rma.number in back
    assert Order.objects.filter(replacement_for=rma).count() == 1


@pytest.mark.parametrize(
    "fields, field_error",
    [
        ({"TSHIRT-M_qty": "4"}, "less than or equal to 3"),
        ({"TSHIRT-M_qty": "1", "TSHIRT-M_replacement_sku": "NOPE"}, "Unknown or inactive SKU"),
        (
            {
                "TSHIRT-M_qty": "1",
                "TSHIRT-M_replacement_sku": "TSHIRT-L",
                "TSHIRT-M_replacement_qty": "2",
            },
            "replacement_quantity must be 1..1",
        ),
        ({"TSHIRT-M_qty": "1", "TSHIRT-M_replacement_qty": "1"}, "needs a replacement_sku"),
        ({"TSHIRT-M_qty": "x"}, "Enter a whole number"),
        ({"TSHIRT-M_qty": "0", "TSHIRT-M_replacement_sku": "TSHIRT-L"}, "Say how many units"),
        ({}, "Choose at least one line to return"),
        ({"TSHIRT-M_qty": "1", "TSHIRT-M_reason": "bored"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_a_form_error_on_the_order_page_and_changes_nothing(
    client, order, fields, field_error
):
    staff(client, MANAGER)
    events = order.events.count()
    shirt = line_id(order, "TSHIRT-M")
    data = {k.replace("TSHIRT-M", f"l{shirt}"): v for k, v in fields.items()}

    response = start(client, order, **data)

    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="start-return-errors"' in body
    assert field_error in body
    assert 'id="start-return-form"' in body  # the form is back, with what was typed
    assert not ReturnRequest.objects.exists()
    assert order.events.count() == events


def test_a_return_made_since_the_page_loaded_lowers_what_may_come_back(client, order):
    """The page offered 3; meanwhile another return claimed 2: posting 2 is refused on
    the line, nothing more is created."""
    staff(client, MANAGER)
    shirt = line_id(order, "TSHIRT-M")
    assert (
        f'name="l{shirt}_qty" value="0" min="0" max="3"'
        in client.get(f"/orders/{order.number}/").content.decode()
    )
    return_request(order=order, lines=[{"sku": "TSHIRT-M", "quantity": 2}])

    response = start(client, order, **{f"l{shirt}_qty": "2"})

    assert response.status_code == 400
    assert "less than or equal to 1" in response.content.decode()
    assert ReturnRequest.objects.count() == 1


def test_received_return_shows_the_refund_action_bounded_by_what_was_paid(client, order):
    staff(client, MANAGER)
    rma = return_request(order=order, lines=[{"sku": "MUG", "quantity": 1}])
    client.post(f"/returns/{rma.number}/approve/")
    return_receive(return_request=ReturnRequest.objects.get(pk=rma.pk))

    page = client.get(f"/orders/{order.number}/").content.decode()

    assert f'href="/returns/{rma.number}/refund/"' in page
    # paid: 3 x 19.90 + 1 x 7.50 + 2 x 40.00 + 5.00 shipping
    assert "up to R$\xa0152.20" in page


def test_approving_twice_says_why_and_places_one_replacement(client, order):
    staff(client, MANAGER)
    rma = return_request(
        order=order, lines=[{"sku": "TSHIRT-M", "quantity": 1, "replacement_sku": "TSHIRT-M"}]
    )
    client.post(f"/returns/{rma.number}/approve/")

    again = client.post(f"/returns/{rma.number}/approve/", follow=True)

    assert again.status_code == 200
    assert "approve" in again.content.decode().lower()
    assert Order.objects.filter(channel__code="exchange").count() == 1


@pytest.mark.parametrize("group", [WAREHOUSE, None])
def test_only_managers_start_or_approve_returns(client, order, group):
    if group:
        staff(client, group)
    shirt = line_id(order, "TSHIRT-M")
    rma = return_request(order=order, lines=[{"sku": "MUG", "quantity": 1}])

    started = start(client, order, **{f"l{shirt}_qty": "1"})
    approved = client.post(f"/returns/{rma.number}/approve/")

    expected = (403,) if group else (302,)
    assert started.status_code in expected and approved.status_code in expected
    if not group:
        assert "/accounts/login/" in started["Location"]
    rma.refresh_from_db()
    assert rma.status == ReturnRequest.Status.REQUESTED
    assert ReturnRequest.objects.count() == 1


def test_get_on_the_actions_is_not_allowed(client, order):
    staff(client, MANAGER)
    assert client.get(f"/returns/order/{order.number}/start/").status_code == 405


def test_the_order_page_reads_returns_in_a_fixed_number_of_queries(client, order):
    """One exchange or four, each with its lines and replacement order: the same count."""
    staff(client, MANAGER)

    def exchange():
        rma = return_request(
            order=order,
            lines=[
                {"sku": "TSHIRT-M", "quantity": 1, "replacement_sku": "TSHIRT-L"}
                if order.lines.get(sku="TSHIRT-M").return_lines.count() < 3
                else {"sku": "MUG", "quantity": 1}
            ],
        )
        return_approve(return_request=rma)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/orders/{order.number}/").status_code == 200
        return len(ctx.captured_queries)

    exchange()
    few = count()
    for _ in range(3):
        exchange()
    assert count() == few


def test_an_order_with_nothing_shipped_offers_no_return_and_refuses_one(client):
    staff(client, MANAGER)
    mug = f.make_product("MUG", price="7.50")
    f.receive(mug, f.make_warehouse("MAIN"), 5)
    unshipped = f.confirm(f.place([(mug, 1)]))
    line = unshipped.lines.get()

    page = client.get(f"/orders/{unshipped.number}/").content.decode()
    response = start(client, unshipped, **{f"l{line.pk}_qty": "1"})

    assert 'id="start-return-form"' not in page and "No returns." in page
    assert response.status_code == 400
    assert "Choose at least one line to return" in response.content.decode()
    assert not ReturnRequest.objects.exists()


def test_a_second_click_on_start_opens_no_second_return(client, order):
    """The page says what it offered (3); the second post of the same form finds 2 left
    and is refused, so a double click opens one return."""
    staff(client, MANAGER)
    shirt = line_id(order, "TSHIRT-M")
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert f'name="l{shirt}_expected" value="3"' in page
    fields = {f"l{shirt}_qty": "1", f"l{shirt}_expected": "3"}

    first = start(client, order, **fields)
    second = start(client, order, **fields)

    assert first.status_code == 302 and second.status_code == 400
    body = second.content.decode()
    assert "Another return was started meanwhile: 2 of TSHIRT-M may come back now" in body
    assert f'name="l{shirt}_expected" value="2"' in body  # submitting again is deliberate
    assert ReturnRequest.objects.count() == 1
