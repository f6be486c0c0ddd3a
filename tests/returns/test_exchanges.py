"""Exchanges: an RMA line asking for a replacement; approving places one linked
replacement order (free for the same SKU, the price difference for another) that ships
before or after the return arrives, by the original channel's ExchangePolicy."""

from decimal import Decimal

import pytest

from fulfillment.models import Shipment
from fulfillment.services import shipment_deliver, shipment_pack, shipment_pick, shipment_ship
from inventory.models import StockMovement
from kernel.exceptions import Conflict, InvalidTransition
from orders.models import Order
from orders.services import order_mark_paid
from returns.exceptions import ReturnInvalid
from returns.exchanges import EXCHANGE_CHANNEL, exchange_place, hold_reason
from returns.models import ExchangePolicy, ReturnRequest
from returns.services import (
    refund_create,
    return_approve,
    return_receive,
    return_refund_proposal,
    return_request,
)
from tests import factories as f

pytestmark = pytest.mark.django_db

S = Order.Status
A = Order.AllocationStatus
PAY = Order.FinancialStatus
R = ReturnRequest.Status


@pytest.fixture
def main():
    return f.make_warehouse("MAIN", priority=1)


@pytest.fixture
def shirt():
    return f.make_product("TSHIRT-M", price="19.90")


@pytest.fixture
def shirt_l():
    return f.make_product("TSHIRT-L", price="19.90")


@pytest.fixture
def hoodie():
    return f.make_product("HOODIE", price="29.90")


@pytest.fixture
def mug():
    return f.make_product("MUG", price="7.50")


@pytest.fixture
def delivered(main, shirt, shirt_l, hoodie, mug):
    """A paid order of 3 shirts (M), delivered; stock of every SKU at MAIN."""
    for product in (shirt, shirt_l, hoodie, mug):
        f.receive(product, main, 10)
    order = f.place([(shirt, 3)], shipping_total="5.00")
    order_mark_paid(order=order)
    f.confirm(order)
    shipment = order.shipments.get()
    shipment_ship(shipment=shipment)
    shipment_deliver(shipment=shipment)
    return order


def _exchange(order, sku="TSHIRT-M", quantity=1, **extra):
    line = {"sku": "TSHIRT-M", "quantity": quantity, "reason": "size_fit"}
    line.update(replacement_sku=sku, **extra)
    return return_request(order=order, lines=[line])


def _ship_before(order):
    ExchangePolicy.objects.create(channel=order.channel, ship_before_return=True)


def _ship_all(order):
    for shipment in order.shipments.exclude(status=Shipment.Status.CANCELLED):
        shipment_pick(shipment=shipment)
        shipment_pack(shipment=shipment)
        shipment_ship(shipment=shipment, tracking_number=f"T-{shipment.number}")


def test_approving_an_exchange_places_one_linked_replacement_of_the_same_sku_free(delivered):
    rma = _exchange(delivered, quantity=2)
    line = rma.lines.get()
    assert (line.replacement_product.sku, line.replacement_quantity) == ("TSHIRT-M", 2)

    return_approve(return_request=rma)
    rma.refresh_from_db()
    replacement = rma.replacement_order
    assert replacement is not None
    assert replacement.channel.code == EXCHANGE_CHANNEL
    assert replacement.external_id == rma.number
    assert replacement.replacement_for == rma
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in replacement.lines.all()] == [
        ("TSHIRT-M", 2, Decimal("0.00"))
    ]
    assert replacement.total == Decimal("0.00")
    assert replacement.financial_status == PAY.PAID
    assert replacement.currency == delivered.currency
    assert (replacement.customer, replacement.ship_line1) == (delivered.customer, "Rua A 1")
    assert f"Replacement order {replacement.number}" in f.last_event(delivered, "note").message


def test_a_second_approve_is_refused_and_places_nothing_more(delivered):
    rma = _exchange(delivered)
    return_approve(return_request=rma)

    with pytest.raises(InvalidTransition):
        return_approve(return_request=ReturnRequest.objects.get(pk=rma.pk))
    again = exchange_place(rma=ReturnRequest.objects.get(pk=rma.pk))

    assert Order.objects.filter(channel__code=EXCHANGE_CHANNEL).count() == 1
    assert again == ReturnRequest.objects.get(pk=rma.pk).replacement_order


def test_another_sku_costs_the_price_difference(delivered):
    rma = _exchange(delivered, sku="HOODIE", quantity=2)
    return_approve(return_request=rma)

    replacement = ReturnRequest.objects.get(pk=rma.pk).replacement_order
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in replacement.lines.all()] == [
        ("HOODIE", 2, Decimal("10.00"))
    ]
    assert replacement.total == Decimal("20.00")
    assert replacement.financial_status == PAY.PENDING


def test_a_cheaper_sku_is_free_and_the_difference_is_refunded(delivered):
    _ship_before(delivered)
    rma = _exchange(delivered, sku="MUG")
    return_approve(return_request=rma)
    replacement = ReturnRequest.objects.get(pk=rma.pk).replacement_order
    assert replacement.lines.get().unit_price == Decimal("0.00")

    return_receive(return_request=ReturnRequest.objects.get(pk=rma.pk))

    proposal = return_refund_proposal(ReturnRequest.objects.get(pk=rma.pk))
    assert proposal["items"] == Decimal("12.40")  # 19.90 paid - 7.50 for the mug


def test_same_sku_exchange_leaves_nothing_to_refund_but_unreplaced_units(delivered):
    rma = return_request(
        order=delivered,
        lines=[
            {
                "sku": "TSHIRT-M",
                "quantity": 2,
                "replacement_sku": "TSHIRT-L",
                "replacement_quantity": 1,
            }
        ],
    )
    return_approve(return_request=rma)
    return_receive(return_request=ReturnRequest.objects.get(pk=rma.pk))

    # Two came back, one was replaced by a shirt of the same price: one is refunded.
    assert return_refund_proposal(ReturnRequest.objects.get(pk=rma.pk))["items"] == Decimal("19.90")


def test_by_default_the_replacement_waits_for_the_return(delivered, main, shirt, shirt_l):
    rma = _exchange(delivered, sku="TSHIRT-L", quantity=2)
    return_approve(return_request=rma)
    replacement = ReturnRequest.objects.get(pk=rma.pk).replacement_order

    assert replacement.status == S.ON_HOLD
    assert replacement.hold_reason == hold_reason(rma)
    assert rma.number in replacement.hold_reason
    assert not replacement.shipments.exists()
    assert f.quantities(shirt_l, main) == (10, 0)

    return_receive(return_request=ReturnRequest.objects.get(pk=rma.pk))

    replacement.refresh_from_db()
    assert (replacement.status, replacement.allocation_status) == (S.CONFIRMED, A.ALLOCATED)
    assert replacement.hold_reason == ""
    assert f.quantities(shirt_l, main) == (10, 2)
    _ship_all(replacement)
    replacement.refresh_from_db()
    assert replacement.status == S.SHIPPED
    assert f.quantities(shirt_l, main) == (8, 0)
    # The returned shirts came back on the shelf: 10 - 3 shipped + 2 restocked.
    assert f.quantities(shirt, main) == (9, 0)
    f.assert_ledger_clean()


def test_by_the_channel_setting_the_replacement_ships_before_the_return(delivered, main):
    _ship_before(delivered)
    rma = _exchange(delivered, sku="HOODIE")
    return_approve(return_request=rma)
    replacement = ReturnRequest.objects.get(pk=rma.pk).replacement_order

    assert (replacement.status, replacement.allocation_status) == (S.CONFIRMED, A.ALLOCATED)
    _ship_all(replacement)
    replacement.refresh_from_db()
    assert replacement.status == S.SHIPPED
    assert f.movements(reference=replacement.shipments.get().number)[-1][0] == (
        StockMovement.Kind.SHIP
    )

    return_receive(return_request=ReturnRequest.objects.get(pk=rma.pk))
    replacement.refresh_from_db()
    assert replacement.status == S.SHIPPED  # receiving changes nothing on it
    f.assert_ledger_clean()


def test_a_return_received_without_the_exchanged_items_keeps_the_replacement_held(delivered):
    rma = _exchange(delivered, sku="TSHIRT-L")
    return_approve(return_request=rma)
    return_receive(
        return_request=ReturnRequest.objects.get(pk=rma.pk),
        lines=[{"sku": "TSHIRT-M", "quantity_received": 0}],
    )
    replacement = ReturnRequest.objects.get(pk=rma.pk).replacement_order
    assert replacement.status == S.ON_HOLD
    assert "without the exchanged items" in f.last_event(replacement, "note").message


def test_a_replacement_released_by_hand_is_left_alone_on_receipt(delivered):
    from fulfillment.services import order_approve_held

    rma = _exchange(delivered, sku="TSHIRT-L")
    return_approve(return_request=rma)
    replacement = ReturnRequest.objects.get(pk=rma.pk).replacement_order
    order_approve_held(order=replacement)
    return_receive(return_request=ReturnRequest.objects.get(pk=rma.pk))
    replacement.refresh_from_db()
    assert (replacement.status, replacement.allocation_status) == (S.CONFIRMED, A.ALLOCATED)
    assert replacement.shipments.count() == 1


def test_a_plain_return_places_no_replacement(delivered):
    rma = return_request(order=delivered, lines=[{"sku": "TSHIRT-M", "quantity": 1}])
    return_approve(return_request=rma)
    assert ReturnRequest.objects.get(pk=rma.pk).replacement_order is None
    assert not Order.objects.filter(channel__code=EXCHANGE_CHANNEL).exists()


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"replacement_sku": "NOPE"}, "lines[0].replacement_sku"),
        (
            {"replacement_sku": "TSHIRT-L", "replacement_quantity": 3},
            "lines[0].replacement_quantity",
        ),
        (
            {"replacement_sku": "TSHIRT-L", "replacement_quantity": 0},
            "lines[0].replacement_quantity",
        ),
        ({"replacement_quantity": 1}, "lines[0].replacement_sku"),
    ],
)
def test_bad_replacements_are_refused_naming_the_field(delivered, extra, field):
    with pytest.raises(ReturnInvalid) as caught:
        return_request(order=delivered, lines=[{"sku": "TSHIRT-M", "quantity": 2, **extra}])
    assert caught.value.field == field
    assert not ReturnRequest.objects.exists()


def test_an_inactive_replacement_sku_is_refused(delivered, hoodie):
    hoodie.active = False
    hoodie.save(update_fields=["active"])
    with pytest.raises(ReturnInvalid, match="inactive"):
        _exchange(delivered, sku="HOODIE")


def test_an_exchange_on_a_refunded_order_is_a_conflict(delivered):
    refund_create(order=delivered, amount=delivered.total)
    delivered.refresh_from_db()
    assert delivered.financial_status == PAY.REFUNDED

    with pytest.raises(Conflict, match="refunded; cannot exchange"):
        _exchange(delivered, sku="TSHIRT-L")
    # A plain return is still taken.
    assert return_request(order=delivered, lines=[{"sku": "TSHIRT-M", "quantity": 1}])
