"""Refunds follow what was paid: the returned lines after their discounts, tax and
shipping only when chosen, never more than was captured; payments drive the status."""

from decimal import Decimal

import pytest

from fulfillment.services import order_cancel_and_release, shipment_ship
from kernel.exceptions import Conflict
from kernel.roles import MANAGER
from orders.services import order_place, payment_record
from returns.models import Refund
from returns.services import (
    refund_create,
    return_approve,
    return_receive,
    return_refund,
    return_request,
)
from tests import factories as f
from tests.floor.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def received(db):
    """Three shirts at 10.00 with 3.00 off the line, 2.70 tax, 5.00 shipping, paid
    (34.70 captured), shipped; two came back."""
    wh = f.make_warehouse("SP-01", priority=1)
    shirt = f.make_product("SHIRT", price="10.00")
    f.receive(shirt, wh, 10)
    order, _ = order_place(
        channel=f.channel("web"),
        lines=[{"product": shirt, "quantity": 3, "unit_price": "10.00", "discount_total": "3.00"}],
        shipping_address={"name": "Ana", "line1": "Rua A 1", "city": "Campinas", "country": "BR"},
        currency="BRL",
        tax_total="2.70",
        shipping_total="5.00",
        financial_status="paid",
    )
    order = f.confirm(order)
    shipment_ship(shipment=order.shipments.get())
    rma = return_request(order=order, lines=[{"sku": "SHIRT", "quantity": 2}])
    return_approve(return_request=rma)
    return_receive(return_request=rma)
    return rma


def test_the_default_refund_is_what_was_paid_for_the_returned_units(received):
    refund = return_refund(return_request=received)

    # 2 of 3 units of a 30.00 line with 3.00 off: 27.00 * 2 / 3; no tax, no shipping
    assert (refund.amount, refund.items_amount, refund.tax_amount) == (
        Decimal("18.00"),
        Decimal("18.00"),
        Decimal("0"),
    )
    received.order.refresh_from_db()
    assert received.order.financial_status == "partially_refunded"


def test_tax_and_shipping_are_refunded_only_as_chosen_and_never_twice(received):
    refund = return_refund(return_request=received, tax_amount="1.80", shipping_amount="5.00")

    assert refund.amount == Decimal("24.80")
    with pytest.raises(Conflict, match="more than the order's shipping left to refund"):
        refund_create(order=received.order, amount="1.00", shipping_amount="0.01")
    assert Refund.objects.count() == 1


def test_a_refund_over_what_was_captured_is_refused_even_below_the_total(received):
    order = received.order
    payment_record(order=order, kind="refunded", amount="30.00", reference="goodwill")

    with pytest.raises(Conflict, match=r"\(4.70 BRL\): captured 34.70, refunded 30.00"):
        return_refund(return_request=received)
    assert not Refund.objects.exists()


def test_cancelling_an_authorised_order_voids_the_authorisation(db):
    shirt = f.make_product("SHIRT", price="10.00")
    order = f.place([(shirt, 1)], financial_status="authorized")

    order_cancel_and_release(order=order, reason="customer asked")

    order.refresh_from_db()
    assert order.financial_status == "voided"
    assert list(order.payments.values_list("kind", "amount")) == [
        ("authorized", Decimal("10.00")),
        ("voided", Decimal("10.00")),
    ]


def test_the_refund_page_shows_the_paid_amount_and_refunds_tax_only_when_chosen(client, received):
    client.force_login(make_user("boss", MANAGER, is_staff=True))
    url = f"/returns/{received.number}/refund/"

    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert '<strong id="items">18.00</strong>' in text
    assert "Tax to refund (up to 2.70)" in text
    assert "Shipping to refund (up to 5.00)" in text

    too_much = client.post(url, {"tax_amount": "2.71"})
    assert too_much.status_code == 200
    assert "more than the order&#x27;s tax left to refund" in too_much.content.decode()
    assert not Refund.objects.exists()

    done = client.post(url, {"tax_amount": "1.80"})
    assert done.status_code == 302
    assert Refund.objects.get().amount == Decimal("19.80")
