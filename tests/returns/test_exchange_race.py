"""Two managers approve the same exchange at the same instant, on PostgreSQL, each in
its own thread with its own connection: one approval wins, the other is told the return
is no longer requested; exactly one replacement order exists, its stock is reserved
once, and the ledger stays clean."""

import pytest

from fulfillment.services import shipment_deliver, shipment_ship
from kernel.exceptions import InvalidTransition
from orders.models import Order
from orders.services import order_mark_paid
from returns.exchanges import EXCHANGE_CHANNEL
from returns.models import ExchangePolicy, ReturnRequest
from returns.services import return_request
from tests import factories as f
from tests.conftest import postgres_only
from tests.threads import together

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]

ROUNDS = 4


def approve(number: str, actor: str):
    from returns.services import return_approve

    return return_approve(return_request=ReturnRequest.objects.get(number=number), actor=actor)


@pytest.fixture
def delivered():
    """A paid order of 8 TSHIRT-M, delivered; 10 TSHIRT-L left at MAIN."""
    main = f.make_warehouse("MAIN", priority=1)
    shirt = f.make_product("TSHIRT-M", price="19.90")
    shirt_l = f.make_product("TSHIRT-L", price="19.90")
    f.receive(shirt, main, 10)
    f.receive(shirt_l, main, 10)
    order = f.place([(shirt, ROUNDS * 2)], shipping_total="5.00")
    order_mark_paid(order=order)
    f.confirm(order)
    shipment = order.shipments.get()
    shipment_ship(shipment=shipment)
    shipment_deliver(shipment=shipment)
    return order, main, shirt_l


@pytest.mark.parametrize("ship_before", [False, True], ids=["held", "ships-before"])
def test_two_approvals_of_one_exchange_place_one_replacement(delivered, ship_before):
    order, main, shirt_l = delivered
    if ship_before:
        ExchangePolicy.objects.create(channel=order.channel, ship_before_return=True)

    for round_ in range(ROUNDS):
        rma = return_request(
            order=order,
            lines=[
                {
                    "sku": "TSHIRT-M",
                    "quantity": 2,
                    "reason": "size_fit",
                    "replacement_sku": "TSHIRT-L",
                }
            ],
        )

        results, errors = together(
            lambda n=rma.number: approve(n, "ana"), lambda n=rma.number: approve(n, "bruno")
        )

        won = [r for r in results if r is not None]
        lost = [e for e in errors if e is not None]
        assert len(won) == 1 and len(lost) == 1, errors
        assert isinstance(lost[0], InvalidTransition)
        assert "approved" in lost[0].message
        rma.refresh_from_db()
        assert rma.status == ReturnRequest.Status.APPROVED
        replacements = Order.objects.filter(channel__code=EXCHANGE_CHANNEL)
        assert replacements.count() == round_ + 1
        assert Order.objects.filter(replacement_for=rma).count() == 1
        assert order.events.filter(kind="return_approved", data__return=rma.number).count() == 1

    replacement_status = {o.status for o in Order.objects.filter(channel__code=EXCHANGE_CHANNEL)}
    if ship_before:
        assert replacement_status == {Order.Status.CONFIRMED}
        assert f.quantities(shirt_l, main) == (10, ROUNDS * 2)  # 2 reserved per exchange
    else:
        assert replacement_status == {Order.Status.ON_HOLD}
        assert f.quantities(shirt_l, main) == (10, 0)
    f.assert_ledger_clean()
