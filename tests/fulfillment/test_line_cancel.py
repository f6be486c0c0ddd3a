"""Partial cancellation: units cancelled with a reason, stock released, refund due, and
the order's statuses following."""

from decimal import Decimal

import pytest

from fulfillment.models import Shipment
from fulfillment.services import (
    order_cancel_lines,
    shipment_pick,
    shipment_ship,
    shipment_start_picking,
)
from fulfillment.services.order_locks import LineLocked
from inventory.models import StockMovement
from kernel.exceptions import InvalidTransition
from orders.exceptions import OrderInvalid
from orders.models import Order, OrderEvent
from orders.services import order_mark_paid
from tests import factories as f

pytestmark = pytest.mark.django_db

S = Order.Status
A = Order.AllocationStatus
FS = Order.FulfillmentStatus
E = OrderEvent.Kind
SH = Shipment.Status


@pytest.fixture
def main():
    return f.make_warehouse("MAIN", priority=1)


@pytest.fixture
def mug():
    return f.make_product("MUG", price="7.50")


@pytest.fixture
def lamp():
    return f.make_product("LAMP", price="40.00")


@pytest.fixture
def paid(main, mug, lamp):
    """MUG x2 and LAMP x1 (55.00 + 5.00 shipping), paid, allocated from MAIN."""
    f.receive(mug, main, 10)
    f.receive(lamp, main, 3)
    order = f.place([(mug, 2), (lamp, 1)], shipping_total="5.00")
    order_mark_paid(order=order)
    return f.confirm(order)


def line_of(order, product):
    return order.lines.get(product=product)


def test_cancelling_some_units_releases_them_and_shows_the_refund_due(paid, main, mug):
    result = order_cancel_lines(
        order=paid,
        lines=[{"line": line_of(paid, mug).pk, "quantity": 1}],
        reason="customer changed mind",
        actor="ana",
    )

    line = line_of(paid, mug)
    assert (line.quantity, line.quantity_cancelled, line.quantity_allocated) == (2, 1, 1)
    assert f.quantities(mug, main) == (10, 1)
    assert f.movements(kind=StockMovement.Kind.RELEASE)[0][:3] == ("release", 0, -1)
    assert result["refund_due"] == Decimal("7.50")
    paid.refresh_from_db()
    assert (paid.subtotal, paid.total, paid.status) == (
        Decimal("47.50"),
        Decimal("52.50"),
        S.CONFIRMED,
    )
    assert f.statuses(paid)[1:3] == (A.ALLOCATED, FS.UNFULFILLED)
    event = f.last_event(paid, E.EDITED)
    assert "customer changed mind" in event.message and "refund due 7.50 BRL" in event.message
    assert event.data["refund_due"] == "7.50"
    f.assert_ledger_clean()


def test_cancelling_every_line_cancels_the_order(paid, main, mug, lamp):
    result = order_cancel_lines(
        order=paid,
        lines=[{"line": line_of(paid, mug).pk}, {"line": line_of(paid, lamp).pk}],
        reason="out of budget",
    )

    assert f.statuses(paid)[0] == S.CANCELLED
    assert paid.cancel_reason == "out of budget"
    assert f.quantities(mug, main) == (10, 0) and f.quantities(lamp, main) == (3, 0)
    assert result["refund_due"] == Decimal("60.00")  # all that was paid
    assert not paid.shipments.exclude(status=SH.CANCELLED).exists()
    f.assert_ledger_clean()


def test_cancelling_the_backordered_rest_after_a_shipment_marks_the_order_shipped(main, mug):
    f.receive(mug, main, 2)
    order = f.confirm(f.place([(mug, 5)]))
    [shipment] = order.shipments.all()
    shipment_pick(shipment=shipment)
    shipment_ship(shipment=shipment)
    assert f.statuses(order)[:3] == (S.CONFIRMED, A.PARTIAL, FS.PARTIAL)

    order_cancel_lines(order=order, lines=[{"line": line_of(order, mug).pk}], reason="no stock")

    assert f.statuses(order)[:3] == (S.SHIPPED, A.ALLOCATED, FS.FULFILLED)
    line = line_of(order, mug)
    assert (line.quantity_shipped, line.quantity_cancelled) == (2, 3)
    f.assert_ledger_clean()


def test_more_units_than_open_is_refused(paid, mug):
    with pytest.raises(OrderInvalid) as exc:
        order_cancel_lines(
            order=paid, lines=[{"line": line_of(paid, mug).pk, "quantity": 3}], reason="x"
        )
    assert exc.value.field == "lines[0].quantity"


def test_a_reason_is_required(paid, mug):
    with pytest.raises(OrderInvalid) as exc:
        order_cancel_lines(order=paid, lines=[{"line": line_of(paid, mug).pk}], reason=" ")
    assert exc.value.field == "reason"


def test_lines_being_picked_cannot_be_cancelled(paid, mug):
    shipment_start_picking(shipment=paid.shipments.get())
    with pytest.raises(LineLocked, match="picking has started"):
        order_cancel_lines(order=paid, lines=[{"line": line_of(paid, mug).pk}], reason="x")


def test_a_cancelled_order_refuses(paid, mug, lamp):
    order_cancel_lines(
        order=paid,
        lines=[{"line": line_of(paid, mug).pk}, {"line": line_of(paid, lamp).pk}],
        reason="gone",
    )
    with pytest.raises(InvalidTransition):
        order_cancel_lines(order=paid, lines=[{"line": line_of(paid, mug).pk}], reason="again")


def test_the_customer_is_told_what_was_cancelled_and_the_refund_due(paid, lamp, settings):
    from django.core import mail
    from django.test import TestCase

    from orders import notifications

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks() as callbacks:
        order_cancel_lines(
            order=paid, lines=[{"line": line_of(paid, lamp).pk}], reason="customer asked"
        )
    for callback in callbacks:  # the e-mail job only: webhooks would leave the machine
        if getattr(callback, "func", None) is notifications._enqueue:
            callback()

    [message] = mail.outbox
    assert message.subject == f"Your order {paid.number} was changed"
    assert "Cancelled as you asked:\n  1 x Product LAMP" in message.body
    assert "2 x Product MUG" in message.body
    assert "A refund of 40.00 BRL is due to you" in message.body
    html = message.alternatives[0][0]
    assert "A refund of <b>40.00 BRL</b> is due to you" in html


def test_an_edit_that_owes_nothing_mentions_no_refund(paid, mug):
    from orders.notifications import ORDER_EDITED, build_message

    result = order_cancel_lines(
        order=paid, lines=[{"line": line_of(paid, mug).pk, "quantity": 1}], reason="x"
    )
    assert "A refund of 7.50 BRL" in build_message(paid, ORDER_EDITED, str(result["event"].pk)).body
    # an event that is no cancellation (here: the placement) says nothing of a refund
    other = f.place([(mug, 1)], external_id="unpaid")
    body = build_message(other, ORDER_EDITED, str(f.last_event(other).pk)).body
    assert "refund" not in body and "Cancelled" not in body
