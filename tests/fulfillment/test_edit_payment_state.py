"""An edit moves a paid order's payment state with its total: raised above what was
captured, the order is partially paid and the edit event says so (and the amount due);
lowered below it, the payment stays paid and the refund due is in the event and on the
order page. Partial cancels bring a partially paid order back to paid."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User

from fulfillment.services import order_cancel_lines, order_edit
from kernel.roles import MANAGER
from orders.models import Order, OrderEvent, Payment
from orders.services import order_mark_paid, payment_record, payment_totals
from returns.services import refund_create
from tests import factories as f

pytestmark = pytest.mark.django_db

PAY = Order.FinancialStatus


@pytest.fixture
def mug():
    return f.make_product("MUG", price="7.50")


@pytest.fixture
def order(mug):
    """MUG x2 at 7.50 and LAMP x1 at 40.00 plus 5.00 shipping (60.00), confirmed."""
    main = f.make_warehouse("MAIN", priority=1)
    lamp = f.make_product("LAMP", price="40.00")
    f.receive(mug, main, 10)
    f.receive(lamp, main, 3)
    return f.confirm(f.place([(mug, 2), (lamp, 1)], shipping_total="5.00"))


@pytest.fixture
def paid(order):
    order_mark_paid(order=order)
    order.refresh_from_db()
    assert (order.financial_status, order.total) == (PAY.PAID, Decimal("60.00"))
    return order


def set_mugs(order, quantity, actor="ana"):
    line = order.lines.get(sku="MUG")
    return order_edit(
        order=Order.objects.get(pk=order.pk),
        quantities=[{"line": line.pk, "quantity": quantity}],
        actor=actor,
    )


def test_raising_a_paid_orders_total_makes_it_partially_paid_and_the_event_says_so(paid):
    result = set_mugs(paid, 3)

    paid.refresh_from_db()
    assert paid.total == Decimal("67.50")
    assert paid.financial_status == PAY.PARTIALLY_PAID
    event = result["event"]
    assert "payment paid -> partially paid" in event.message
    assert "amount due 7.50 BRL" in event.message
    assert {"change": "financial_status", "from": "paid", "to": "partially_paid"} in event.data[
        "changes"
    ]
    # nothing was charged: the captured money is what it was
    assert payment_totals(paid)[Payment.Kind.CAPTURED] == Decimal("60.00")
    assert "payment paid -> partially paid" in "; ".join(result["changes"])


def test_capturing_the_difference_makes_it_paid_again(paid):
    set_mugs(paid, 3)

    payment_record(order=Order.objects.get(pk=paid.pk), kind=Payment.Kind.CAPTURED, amount="7.50")

    paid.refresh_from_db()
    assert paid.financial_status == PAY.PAID


def test_lowering_it_back_to_what_was_paid_makes_it_paid_again(paid):
    set_mugs(paid, 3)

    result = set_mugs(paid, 2)

    paid.refresh_from_db()
    assert (paid.total, paid.financial_status) == (Decimal("60.00"), PAY.PAID)
    assert "payment partially paid -> paid" in result["event"].message
    assert "amount due" not in result["event"].message


def test_lowering_a_paid_total_keeps_it_paid_and_says_the_refund_due(paid, client):
    result = set_mugs(paid, 1)

    paid.refresh_from_db()
    assert (paid.total, paid.financial_status) == (Decimal("52.50"), PAY.PAID)
    message = result["event"].message
    assert "refund due 7.50 BRL" in message and "payment" not in message
    user = User.objects.create_user("boss")
    user.groups.add(Group.objects.get(name=MANAGER))
    client.force_login(user)
    page = client.get(f"/orders/{paid.number}/").content.decode()
    assert 'id="refund-due"' in page and "R$\xa07.50" in page


def test_raising_the_total_shows_the_amount_due_and_the_state_on_the_order_page(paid, client):
    set_mugs(paid, 4)
    user = User.objects.create_user("boss")
    user.groups.add(Group.objects.get(name=MANAGER))
    client.force_login(user)

    page = client.get(f"/orders/{paid.number}/").content.decode()

    assert "payment partially paid" in page
    assert 'id="amount-due"' in page and "R$\xa015.00" in page


def test_unpaid_and_refunded_orders_keep_their_payment_state(order):
    result = set_mugs(order, 3)
    order.refresh_from_db()
    assert order.financial_status == PAY.PENDING
    assert "payment" not in result["event"].message and "due" not in result["event"].message

    order_mark_paid(order=order)
    refund_create(order=Order.objects.get(pk=order.pk), amount=Decimal("5.00"))
    set_mugs(order, 5)
    order.refresh_from_db()
    assert order.financial_status == PAY.PARTIALLY_REFUNDED


def test_an_edit_that_leaves_the_total_writes_no_payment_words(paid):
    result = order_edit(
        order=Order.objects.get(pk=paid.pk),
        address={"line2": "Apto 3"},
        actor="ana",
    )
    paid.refresh_from_db()
    assert paid.financial_status == PAY.PAID
    assert "payment" not in result["event"].message and "due" not in result["event"].message
    assert OrderEvent.objects.filter(order=paid, kind=OrderEvent.Kind.EDITED).count() == 1


def test_cancelling_units_of_a_partially_paid_order_down_to_what_was_paid_makes_it_paid(paid):
    set_mugs(paid, 3)

    result = order_cancel_lines(
        order=Order.objects.get(pk=paid.pk),
        lines=[{"line": paid.lines.get(sku="MUG").pk, "quantity": 1}],
        reason="customer changed their mind",
    )

    paid.refresh_from_db()
    assert (paid.total, paid.financial_status) == (Decimal("60.00"), PAY.PAID)
    assert "payment partially paid -> paid" in result["event"].message
    f.assert_ledger_clean()
