"""returns.services: request, approve, reject, receive (restock/scrap), refund, close."""

import re
from decimal import Decimal

import pytest

from fulfillment.services import shipment_deliver, shipment_ship
from inventory.models import StockMovement
from kernel.exceptions import Conflict, InvalidTransition
from orders.exceptions import OrderInvalid
from orders.models import Order, OrderEvent
from orders.services import order_mark_paid
from returns.exceptions import ReturnInvalid
from returns.models import Refund, ReturnLine, ReturnRequest
from returns.services import (
    refund_create,
    return_approve,
    return_close,
    return_receive,
    return_refund,
    return_reject,
    return_request,
)
from tests import factories as f

pytestmark = pytest.mark.django_db

S = Order.Status
A = Order.AllocationStatus
FS = Order.FulfillmentStatus
PAY = Order.FinancialStatus
E = OrderEvent.Kind
R = ReturnRequest.Status
Kind = StockMovement.Kind


@pytest.fixture
def main():
    return f.make_warehouse("MAIN", priority=1)


@pytest.fixture
def store():
    return f.make_warehouse("STORE", priority=5)


@pytest.fixture
def shirt():
    return f.make_product("TSHIRT-M", price="19.90")


@pytest.fixture
def mug():
    return f.make_product("MUG", price="7.50")


@pytest.fixture
def delivered(main, shirt, mug):
    """A paid order of 3 shirts and 1 mug (total 72.20 with 5.00 shipping), delivered."""
    f.receive(shirt, main, 10)
    f.receive(mug, main, 10)
    order = f.place([(shirt, 3), (mug, 1)], shipping_total="5.00")
    order_mark_paid(order=order)
    f.confirm(order)
    shipment = order.shipments.get()
    shipment_ship(shipment=shipment)
    shipment_deliver(shipment=shipment)
    assert f.statuses(order) == (S.DELIVERED, A.ALLOCATED, FS.FULFILLED, PAY.PAID)
    assert order.total == Decimal("72.20")
    return order


def _approved(order, **line):
    rma = return_request(order=order, lines=[{"sku": "TSHIRT-M", "quantity": 2, **line}])
    return return_approve(return_request=rma)


# --------------------------------------------------------------------------- request


def test_request_opens_an_rma_with_its_lines_and_event(delivered):
    rma = return_request(
        order=delivered,
        lines=[
            {"sku": "TSHIRT-M", "quantity": 2, "reason": "size_fit", "customer_comment": "tight"},
            {"order_line": delivered.lines.get(sku="MUG"), "quantity": 1, "reason": "damaged"},
        ],
        actor="customer",
    )

    assert re.fullmatch(r"RMA-\d{6}", rma.number)
    assert rma.status == R.REQUESTED
    lines = list(rma.lines.order_by("pk"))
    assert [(ln.order_line.sku, ln.quantity, ln.reason) for ln in lines] == [
        ("TSHIRT-M", 2, "size_fit"),
        ("MUG", 1, "damaged"),
    ]
    assert lines[0].customer_comment == "tight"
    event = f.last_event(delivered)
    assert event.kind == E.RETURN_REQUESTED
    assert event.message == (
        f"Return {rma.number} requested: TSHIRT-M x2 (size_fit), MUG x1 (damaged)"
    )
    assert (event.actor, event.data) == ("customer", {"return": rma.number})
    # a request changes no stock and no order state
    assert f.statuses(delivered) == (S.DELIVERED, A.ALLOCATED, FS.FULFILLED, PAY.PAID)
    assert not StockMovement.objects.filter(kind=Kind.RETURN_RESTOCK).exists()


def test_request_of_more_than_shipped_is_refused(delivered):
    with pytest.raises(ReturnInvalid, match="4 requested but only 3 shipped") as exc:
        return_request(order=delivered, lines=[{"sku": "TSHIRT-M", "quantity": 4}])

    assert exc.value.field == "lines[0].quantity"
    assert not ReturnRequest.objects.exists()


def test_request_counts_what_is_already_requested(delivered):
    return_request(order=delivered, lines=[{"sku": "TSHIRT-M", "quantity": 2}])

    with pytest.raises(ReturnInvalid, match="2 requested but only 1 shipped and not yet"):
        return_request(order=delivered, lines=[{"sku": "TSHIRT-M", "quantity": 2}])
    # the same line twice in one request counts too
    with pytest.raises(ReturnInvalid) as exc:
        return_request(
            order=delivered,
            lines=[{"sku": "TSHIRT-M", "quantity": 1}, {"sku": "TSHIRT-M", "quantity": 1}],
        )
    assert exc.value.field == "lines[1].quantity"

    return_request(order=delivered, lines=[{"sku": "TSHIRT-M", "quantity": 1}])
    assert ReturnRequest.objects.count() == 2


def test_request_counts_what_was_already_returned(delivered):
    rma = _approved(delivered)
    return_receive(return_request=rma)
    assert delivered.lines.get(sku="TSHIRT-M").quantity_returned == 2

    with pytest.raises(ReturnInvalid):
        return_request(order=delivered, lines=[{"sku": "TSHIRT-M", "quantity": 2}])
    return_request(order=delivered, lines=[{"sku": "TSHIRT-M", "quantity": 1}])


def test_a_rejected_request_frees_its_quantity(delivered):
    rma = return_request(order=delivered, lines=[{"sku": "TSHIRT-M", "quantity": 3}])
    return_reject(return_request=rma, reason="outside the return window")

    again = return_request(order=delivered, lines=[{"sku": "TSHIRT-M", "quantity": 3}])
    assert again.status == R.REQUESTED


def test_request_of_an_unshipped_order_is_refused(main, shirt):
    f.receive(shirt, main, 5)
    order = f.confirm(f.place([(shirt, 2)]))

    with pytest.raises(ReturnInvalid, match="only 0 shipped"):
        return_request(order=order, lines=[{"sku": "TSHIRT-M", "quantity": 1}])


def test_request_of_a_partly_shipped_order_covers_only_what_shipped(main, shirt):
    f.receive(shirt, main, 1)
    order = f.confirm(f.place([(shirt, 3)]))
    shipment_ship(shipment=order.shipments.get())
    assert f.statuses(order)[:3] == (S.CONFIRMED, A.PARTIAL, FS.PARTIAL)

    with pytest.raises(ReturnInvalid, match="only 1 shipped"):
        return_request(order=order, lines=[{"sku": "TSHIRT-M", "quantity": 2}])
    rma = return_request(order=order, lines=[{"sku": "TSHIRT-M", "quantity": 1}])
    assert rma.lines.get().quantity == 1


@pytest.mark.parametrize(
    "lines, field",
    [
        ([], "lines"),
        ([{"sku": "NOPE", "quantity": 1}], "lines[0].sku"),
        ([{"sku": "TSHIRT-M", "quantity": 0}], "lines[0].quantity"),
        ([{"sku": "TSHIRT-M", "quantity": -1}], "lines[0].quantity"),
        ([{"sku": "TSHIRT-M", "quantity": "1"}], "lines[0].quantity"),
        ([{"sku": "TSHIRT-M", "quantity": 1.0}], "lines[0].quantity"),
        ([{"sku": "TSHIRT-M", "quantity": 1, "reason": "bored"}], "lines[0].reason"),
    ],
)
def test_request_refuses_bad_lines_with_a_field(delivered, lines, field):
    with pytest.raises(ReturnInvalid) as exc:
        return_request(order=delivered, lines=lines)

    assert exc.value.field == field
    assert not ReturnRequest.objects.exists()
    assert E.RETURN_REQUESTED not in f.event_kinds(delivered)


def test_request_refuses_a_line_of_another_order(delivered, shirt):
    other = f.place([(shirt, 1)])

    with pytest.raises(ReturnInvalid, match="not on order") as exc:
        return_request(order=delivered, lines=[{"order_line": other.lines.get(), "quantity": 1}])

    assert exc.value.field == "lines[0].sku"


# --------------------------------------------------------------------------- approve / reject


def test_approve(delivered):
    rma = return_request(order=delivered, lines=[{"sku": "TSHIRT-M", "quantity": 1}])

    return_approve(return_request=rma, actor="manager")

    rma.refresh_from_db()
    assert rma.status == R.APPROVED
    assert rma.approved_at is not None
    event = f.last_event(delivered)
    assert (event.kind, event.message, event.actor) == (
        E.RETURN_APPROVED,
        f"Return {rma.number} approved",
        "manager",
    )

    with pytest.raises(InvalidTransition) as exc:
        return_approve(return_request=rma)
    assert str(exc.value) == f"Return {rma.number} is approved; cannot approve"


@pytest.mark.parametrize("reason", ["", "  ", None])
def test_reject_needs_a_reason(delivered, reason):
    rma = return_request(order=delivered, lines=[{"sku": "TSHIRT-M", "quantity": 1}])

    with pytest.raises(ReturnInvalid) as exc:
        return_reject(return_request=rma, reason=reason)

    assert exc.value.field == "reason"
    rma.refresh_from_db()
    assert rma.status == R.REQUESTED


def test_reject(delivered):
    rma = return_request(order=delivered, lines=[{"sku": "TSHIRT-M", "quantity": 1}])

    return_reject(return_request=rma, reason="worn")

    rma.refresh_from_db()
    assert (rma.status, rma.reject_reason) == (R.REJECTED, "worn")
    assert rma.closed_at is not None
    event = f.last_event(delivered)
    assert (event.kind, event.message) == (E.RETURN_REJECTED, f"Return {rma.number} rejected: worn")

    with pytest.raises(InvalidTransition, match=r"is rejected; cannot approve$"):
        return_approve(return_request=rma)


def test_reject_after_approval_is_refused(delivered):
    rma = _approved(delivered)

    with pytest.raises(InvalidTransition, match=r"is approved; cannot reject$"):
        return_reject(return_request=rma, reason="changed our mind")

    rma.refresh_from_db()
    assert (rma.status, rma.reject_reason) == (R.APPROVED, "")


# --------------------------------------------------------------------------- receive


def test_receive_restocks_to_the_shipping_warehouse_by_default(delivered, main, shirt, store):
    rma = _approved(delivered)
    assert f.quantities(shirt, main) == (7, 0)

    return_receive(return_request=rma, actor="dock")

    rma.refresh_from_db()
    assert rma.status == R.RECEIVED
    assert rma.received_at is not None
    line = rma.lines.get()
    assert (line.quantity_received, line.condition, line.disposition) == (2, "new", "restock")
    assert line.restock_warehouse == main
    assert f.quantities(shirt, main) == (9, 0)
    assert f.movements(kind=Kind.RETURN_RESTOCK) == [(Kind.RETURN_RESTOCK, 2, 0, rma.number)]
    movement = StockMovement.objects.get(kind=Kind.RETURN_RESTOCK)
    assert (movement.warehouse, movement.actor) == (main, "dock")
    assert movement.note == f"new return of {delivered.number}"
    assert delivered.lines.get(sku="TSHIRT-M").quantity_returned == 2
    event = f.last_event(delivered)
    assert (event.kind, event.message) == (
        E.RETURN_RECEIVED,
        f"Return {rma.number} received: TSHIRT-M x2 restock",
    )
    assert f.statuses(delivered) == (S.DELIVERED, A.ALLOCATED, FS.FULFILLED, PAY.PAID)
    f.assert_ledger_clean()


def test_receive_restocks_to_a_chosen_warehouse(delivered, main, shirt, store):
    rma = _approved(delivered)

    return_receive(
        return_request=rma,
        lines=[{"sku": "TSHIRT-M", "quantity_received": 1, "restock_warehouse": store}],
    )

    assert f.quantities(shirt, main) == (7, 0)
    assert f.quantities(shirt, store) == (1, 0)
    assert f.movements(kind=Kind.RETURN_RESTOCK, warehouse=store) == [
        (Kind.RETURN_RESTOCK, 1, 0, rma.number)
    ]
    line = rma.lines.get()
    assert (line.quantity_received, line.restock_warehouse) == (1, store)
    assert delivered.lines.get(sku="TSHIRT-M").quantity_returned == 1
    f.assert_ledger_clean()


def test_scrapped_units_touch_no_stock(delivered, main, shirt):
    rma = _approved(delivered)

    return_receive(
        return_request=rma,
        lines=[{"sku": "TSHIRT-M", "condition": "damaged", "disposition": "scrap"}],
    )

    line = rma.lines.get()
    assert (line.quantity_received, line.condition, line.disposition) == (2, "damaged", "scrap")
    assert line.restock_warehouse is None
    assert f.quantities(shirt, main) == (7, 0)
    assert not StockMovement.objects.filter(kind=Kind.RETURN_RESTOCK).exists()
    assert delivered.lines.get(sku="TSHIRT-M").quantity_returned == 2
    assert f.last_event(delivered).message.endswith("TSHIRT-M x2 scrap")
    f.assert_ledger_clean()


def test_receive_mixes_restock_and_scrap_per_line(delivered, main, shirt, mug):
    rma = return_request(
        order=delivered,
        lines=[{"sku": "TSHIRT-M", "quantity": 1}, {"sku": "MUG", "quantity": 1}],
    )
    return_approve(return_request=rma)

    return_receive(
        return_request=rma,
        lines=[{"sku": "MUG", "disposition": "scrap", "condition": "damaged"}],
    )

    assert f.quantities(shirt, main) == (8, 0)
    assert f.quantities(mug, main) == (9, 0)
    assert f.movements(kind=Kind.RETURN_RESTOCK) == [(Kind.RETURN_RESTOCK, 1, 0, rma.number)]


def test_receive_before_approval_is_refused(delivered, main, shirt):
    rma = return_request(order=delivered, lines=[{"sku": "TSHIRT-M", "quantity": 1}])

    with pytest.raises(InvalidTransition) as exc:
        return_receive(return_request=rma)

    assert str(exc.value) == f"Return {rma.number} is requested; cannot receive"
    assert f.quantities(shirt, main) == (7, 0)


def test_receiving_twice_is_refused(delivered, main, shirt):
    rma = _approved(delivered)
    return_receive(return_request=rma)

    with pytest.raises(InvalidTransition, match=r"is received; cannot receive$"):
        return_receive(return_request=rma)

    assert f.quantities(shirt, main) == (9, 0)
    assert len(f.movements(kind=Kind.RETURN_RESTOCK)) == 1


@pytest.mark.parametrize(
    "entry, field",
    [
        ({"sku": "TSHIRT-M", "quantity_received": 3}, "lines[0].quantity_received"),
        ({"sku": "TSHIRT-M", "quantity_received": -1}, "lines[0].quantity_received"),
        ({"sku": "TSHIRT-M", "quantity_received": "2"}, "lines[0].quantity_received"),
        ({"sku": "TSHIRT-M", "condition": "mint"}, "lines[0].condition"),
        ({"sku": "TSHIRT-M", "disposition": "donate"}, "lines[0].disposition"),
        ({"sku": "MUG"}, "lines[0]"),
    ],
)
def test_receive_refuses_bad_lines(delivered, main, shirt, entry, field):
    rma = _approved(delivered)

    with pytest.raises(ReturnInvalid) as exc:
        return_receive(return_request=rma, lines=[entry])

    assert exc.value.field == field
    rma.refresh_from_db()
    assert rma.status == R.APPROVED
    assert f.quantities(shirt, main) == (7, 0)
    assert delivered.lines.get(sku="TSHIRT-M").quantity_returned == 0


# --------------------------------------------------------------------------- refund


def test_refund_of_a_received_return_defaults_to_its_value(delivered):
    rma = _approved(delivered)
    return_receive(return_request=rma)

    refund = return_refund(return_request=rma, reference="PSP-1", actor="manager")

    assert refund.amount == Decimal("39.80")
    assert (refund.currency, refund.reference, refund.actor) == ("BRL", "PSP-1", "manager")
    assert refund.return_request == rma
    rma.refresh_from_db()
    assert rma.status == R.REFUNDED
    assert f.statuses(delivered) == (S.DELIVERED, A.ALLOCATED, FS.FULFILLED, PAY.PARTIALLY_REFUNDED)
    assert delivered.refunded_total == Decimal("39.80")
    event = f.last_event(delivered)
    assert (event.kind, event.message, event.public) == (
        E.REFUNDED,
        f"Refunded 39.80 BRL for return {rma.number}",
        True,
    )
    assert event.data == {"amount": "39.80", "return": rma.number}
    payment = f.last_event(delivered, E.PAYMENT)
    assert payment.message == "Refunded 39.80 BRL (total refunded 39.80)"


def test_refund_counts_only_what_was_received(delivered):
    rma = _approved(delivered)
    return_receive(return_request=rma, lines=[{"sku": "TSHIRT-M", "quantity_received": 1}])

    assert return_refund(return_request=rma).amount == Decimal("19.90")


def test_refunds_up_to_the_paid_total_then_refunded(delivered):
    refund_create(order=delivered, amount=Decimal("20.00"))
    assert f.statuses(delivered)[3] == PAY.PARTIALLY_REFUNDED

    refund_create(order=delivered, amount="52.20")

    assert f.statuses(delivered)[3] == PAY.REFUNDED
    assert delivered.refunded_total == delivered.total == Decimal("72.20")
    assert sum(Refund.objects.values_list("amount", flat=True)) == Decimal("72.20")

    with pytest.raises(InvalidTransition, match="is refunded; cannot refund"):
        refund_create(order=delivered, amount="0.01")


def test_refund_of_more_than_paid_is_refused(delivered):
    refund_create(order=delivered, amount="70.00")

    with pytest.raises(Conflict, match=r"exceeds what is left to refund .* \(2.20 BRL\)") as exc:
        refund_create(order=delivered, amount="2.21")

    assert exc.value.field == "amount"
    assert exc.value.status_code == 409
    assert Refund.objects.count() == 1
    assert f.statuses(delivered)[3] == PAY.PARTIALLY_REFUNDED
    assert delivered.refunded_total == Decimal("70.00")


def test_refund_of_a_return_never_exceeds_what_is_left(delivered):
    refund_create(order=delivered, amount="60.00")
    rma = _approved(delivered)
    return_receive(return_request=rma)

    with pytest.raises(Conflict):
        return_refund(return_request=rma)  # 39.80 > 12.20 left

    rma.refresh_from_db()
    assert rma.status == R.RECEIVED
    assert Refund.objects.count() == 1
    return_refund(return_request=rma, amount=Decimal("12.20"))
    rma.refresh_from_db()
    assert rma.status == R.REFUNDED
    assert f.statuses(delivered)[3] == PAY.REFUNDED


def test_refund_on_an_unpaid_order_is_refused(main, shirt):
    f.receive(shirt, main, 5)
    order = f.confirm(f.place([(shirt, 1)]))
    shipment_ship(shipment=order.shipments.get())

    with pytest.raises(InvalidTransition) as exc:
        refund_create(order=order, amount="1.00")

    assert (
        str(exc.value) == f"Order {order.number} is pending; cannot refund: nothing has been paid"
    )
    assert not Refund.objects.exists()
    assert f.statuses(order)[3] == PAY.PENDING


@pytest.mark.parametrize("amount", ["0", "-1.00", "abc", "NaN"])
def test_refund_refuses_a_bad_amount(delivered, amount):
    with pytest.raises(OrderInvalid) as exc:
        refund_create(order=delivered, amount=amount)

    assert exc.value.field == "amount"
    assert not Refund.objects.exists()
    assert f.statuses(delivered)[3] == PAY.PAID


def test_refund_of_a_return_not_yet_received_is_refused(delivered):
    rma = _approved(delivered)

    with pytest.raises(InvalidTransition, match=r"is approved; cannot refund$"):
        refund_create(order=delivered, amount="5.00", return_request=rma)

    assert not Refund.objects.exists()
    assert f.statuses(delivered)[3] == PAY.PAID


def test_refund_of_a_return_of_another_order_is_refused(delivered, shirt):
    rma = _approved(delivered)
    return_receive(return_request=rma)
    other = f.place([(shirt, 1)])
    order_mark_paid(order=other)

    with pytest.raises(ReturnInvalid, match="is not on order") as exc:
        refund_create(order=other, amount="1.00", return_request=rma)

    assert exc.value.field == "return_request"
    assert not Refund.objects.exists()


# --------------------------------------------------------------------------- close


def test_close_after_refund_or_straight_after_receipt(delivered):
    refunded = _approved(delivered)
    return_receive(return_request=refunded)
    return_refund(return_request=refunded)
    return_close(return_request=refunded)
    refunded.refresh_from_db()
    assert refunded.status == R.CLOSED
    assert refunded.closed_at is not None

    exchanged = return_request(order=delivered, lines=[{"sku": "MUG", "quantity": 1}])
    return_approve(return_request=exchanged)
    return_receive(return_request=exchanged)
    return_close(return_request=exchanged)
    exchanged.refresh_from_db()
    assert exchanged.status == R.CLOSED

    with pytest.raises(InvalidTransition, match=r"is closed; cannot close$"):
        return_close(return_request=exchanged)


def test_close_before_receipt_is_refused(delivered):
    rma = return_request(order=delivered, lines=[{"sku": "TSHIRT-M", "quantity": 1}])

    with pytest.raises(InvalidTransition, match=r"is requested; cannot close$"):
        return_close(return_request=rma)
    return_approve(return_request=rma)
    with pytest.raises(InvalidTransition, match=r"is approved; cannot close$"):
        return_close(return_request=rma)


def test_return_numbers_are_unique_and_human_readable(delivered):
    numbers = [
        return_request(order=delivered, lines=[{"sku": "TSHIRT-M", "quantity": 1}]).number
        for _ in range(3)
    ]

    assert len(set(numbers)) == 3
    assert all(re.fullmatch(r"RMA-\d{6}", n) for n in numbers)
    assert ReturnLine.objects.count() == 3
