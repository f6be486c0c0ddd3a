from decimal import Decimal

import pytest
from django.core.management import call_command

from fulfillment.services import (
    order_confirm_and_allocate,
    shipment_deliver,
    shipment_pack,
    shipment_pick,
    shipment_ship,
)
from inventory.models import StockLevel, StockMovement
from inventory.selectors import stock_ledger_mismatches
from orders.models import Order
from orders.services import order_mark_paid
from returns.models import ReturnRequest
from returns.services import return_approve, return_receive, return_refund, return_request
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_full_lifecycle_ends_with_a_clean_ledger():
    wh = f.make_warehouse("SP-01", priority=1)
    shirt = f.make_product("TSHIRT-M", price="19.90")
    mug = f.make_product("MUG", price="7.50")
    f.receive(shirt, wh, 10)
    f.receive(mug, wh, 5)

    order = f.place([(shirt, 2), (mug, 1)], external_id="1001", shipping_total="5.00")
    assert order.total == Decimal("52.30")
    order_mark_paid(order=order)
    order_confirm_and_allocate(order=order)
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED
    assert order.allocation_status == Order.AllocationStatus.ALLOCATED
    shipment = order.shipments.get()
    assert StockLevel.objects.get(product=shirt).reserved == 2

    shipment_pick(shipment=shipment)
    shipment_pack(shipment=shipment, weight_grams=900)
    shipment_ship(shipment=shipment, carrier="table", tracking_number="TRK1")
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert order.fulfillment_status == Order.FulfillmentStatus.FULFILLED
    level = StockLevel.objects.get(product=shirt)
    assert (level.on_hand, level.reserved) == (8, 0)

    shipment_deliver(shipment=shipment)
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED

    rma = return_request(
        order=order, lines=[{"sku": "TSHIRT-M", "quantity": 1, "reason": "size_fit"}]
    )
    return_approve(return_request=rma)
    return_receive(return_request=rma)
    refund = return_refund(return_request=rma)
    assert refund.amount == Decimal("19.90")
    rma.refresh_from_db()
    order.refresh_from_db()
    assert rma.status == ReturnRequest.Status.REFUNDED
    assert order.financial_status == Order.FinancialStatus.PARTIALLY_REFUNDED
    assert StockLevel.objects.get(product=shirt).on_hand == 9
    assert StockMovement.objects.filter(kind="return_restock").count() == 1
    assert stock_ledger_mismatches() == []
    call_command("check_stock_ledger")
