"""Purchase orders: lifecycle, partial and over receipts, close short, backorders filled
from a PO receipt, drafts from replenishment suggestions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.exceptions import StockError
from inventory.models import PurchaseOrder, Supplier, SupplierProduct
from inventory.purchasing import (
    purchase_order_cancel,
    purchase_order_close,
    purchase_order_create,
    purchase_order_receive,
    purchase_order_send,
    purchase_orders_from_suggestions,
)
from inventory.selectors import expected_dates, incoming, on_order_by_level
from kernel.exceptions import InvalidTransition
from tests import factories as f

pytestmark = pytest.mark.django_db
Status = PurchaseOrder.Status


@pytest.fixture
def wh():
    return f.make_warehouse("MAIN", priority=1)


@pytest.fixture
def supplier():
    return Supplier.objects.create(code="ACME", name="Acme Mugs", lead_time_days=5, currency="EUR")


@pytest.fixture
def mug():
    return f.make_product("MUG-BLU")


@pytest.fixture
def cup():
    return f.make_product("CUP-RED")


def _po(supplier, wh, *lines, send=True):
    po = purchase_order_create(
        supplier=supplier,
        warehouse=wh,
        lines=[{"product": p, "quantity": q, "unit_cost": "2.50"} for p, q in lines],
    )
    return purchase_order_send(purchase_order=po) if send else po


def test_new_purchase_order_is_a_numbered_draft_expected_after_the_supplier_lead_time(
    supplier, wh, mug
):
    SupplierProduct.objects.create(supplier=supplier, product=mug, unit_cost=Decimal("3.10"))
    po = purchase_order_create(
        supplier=supplier, warehouse=wh, lines=[{"product": mug, "quantity": 40}]
    )

    assert po.number.startswith("PO-")
    assert po.status == Status.DRAFT
    assert po.currency == "EUR"
    assert po.expected_date == timezone.localdate() + timedelta(days=5)
    line = po.lines.get()
    assert (line.quantity, line.unit_cost, line.expected_date) == (
        40,
        Decimal("3.10"),
        po.expected_date,
    )
    assert list(po.events.values_list("kind", flat=True)) == ["created"]


def test_partial_then_over_receipt_records_both_and_puts_the_units_on_hand(supplier, wh, mug, cup):
    po = _po(supplier, wh, (mug, 10), (cup, 4))

    receipt = purchase_order_receive(purchase_order=po, quantities=[(mug, 6)], actor="dock")
    po.refresh_from_db()
    assert po.status == Status.PARTIALLY_RECEIVED
    assert [(r.sku, r.remaining) for r in receipt.lines] == [("MUG-BLU", 4)]
    assert f.quantities(mug, wh) == (6, 0)

    receipt = purchase_order_receive(purchase_order=po, quantities=[(mug, 6), (cup, 4)])
    po.refresh_from_db()
    assert po.status == Status.RECEIVED
    assert po.closed_at is not None
    assert [(r.sku, r.over) for r in receipt.over] == [("MUG-BLU", 2)]
    assert f.quantities(mug, wh) == (12, 0)
    assert f.quantities(cup, wh) == (4, 0)
    assert f.movements(product=mug) == [("receipt", 6, 0, po.number), ("receipt", 6, 0, po.number)]
    assert po.lines.get(product=mug).quantity_received == 12
    over = po.events.get(kind="over_received")
    assert "MUG-BLU +2 over the 10 ordered" in over.message
    assert list(po.events.values_list("kind", flat=True)) == [
        "created",
        "sent",
        "received",
        "received",
        "over_received",
    ]
    f.assert_ledger_clean()


def test_extra_units_after_a_complete_receipt_are_an_over_receipt(supplier, wh, mug):
    po = _po(supplier, wh, (mug, 2))
    purchase_order_receive(purchase_order=po, quantities=[(mug, 2)])
    receipt = purchase_order_receive(purchase_order=po, quantities=[(mug, 1)])
    po.refresh_from_db()
    assert (po.status, receipt.over[0].over) == (Status.RECEIVED, 1)
    assert f.quantities(mug, wh) == (3, 0)


def test_closing_short_records_the_under_receipt_and_stops_counting_it_on_order(supplier, wh, mug):
    po = _po(supplier, wh, (mug, 10))
    purchase_order_receive(purchase_order=po, quantities=[(mug, 7)])
    assert on_order_by_level()[(mug.pk, wh.pk)] == 3

    purchase_order_close(purchase_order=po, reason="supplier out of stock")

    po.refresh_from_db()
    assert po.status == Status.RECEIVED
    event = po.events.get(kind="closed_short")
    assert "MUG-BLU 3 of 10 not delivered" in event.message
    assert event.data["short"] == [{"sku": "MUG-BLU", "ordered": 10, "short": 3}]
    assert on_order_by_level() == {}
    with pytest.raises(InvalidTransition, match="it was closed short"):
        purchase_order_receive(purchase_order=po, quantities=[(mug, 3)])


def test_receiving_a_draft_or_a_product_not_on_the_order_is_refused(supplier, wh, mug, cup):
    draft = _po(supplier, wh, (mug, 5), send=False)
    with pytest.raises(InvalidTransition, match="send it to the supplier first"):
        purchase_order_receive(purchase_order=draft, quantities=[(mug, 5)])

    po = purchase_order_send(purchase_order=draft)
    with pytest.raises(StockError, match="Not on .*CUP-RED"):
        purchase_order_receive(purchase_order=po, quantities=[(cup, 1)])
    assert f.movements(product=mug) == []


def test_cancel_only_before_anything_arrived(supplier, wh, mug):
    po = _po(supplier, wh, (mug, 5))
    purchase_order_receive(purchase_order=po, quantities=[(mug, 1)])
    with pytest.raises(InvalidTransition):
        purchase_order_cancel(purchase_order=po)

    other = _po(supplier, wh, (mug, 5))
    purchase_order_cancel(purchase_order=other, reason="wrong supplier")
    other.refresh_from_db()
    assert other.status == Status.CANCELLED
    assert on_order_by_level() == {(mug.pk, wh.pk): 4}


def test_po_receipt_fills_backorders_oldest_order_first(
    supplier, wh, mug, django_capture_on_commit_callbacks
):
    now = timezone.now()
    first = f.confirm(f.place([(mug, 2)], placed_at=now - timedelta(hours=3)))
    second = f.confirm(f.place([(mug, 2)], placed_at=now - timedelta(hours=2)))
    third = f.confirm(f.place([(mug, 2)], placed_at=now - timedelta(hours=1)))
    assert {o.allocation_status for o in (first, second, third)} == {"unallocated"}
    po = _po(supplier, wh, (mug, 5))

    with django_capture_on_commit_callbacks(execute=True):
        purchase_order_receive(purchase_order=po, quantities=[(mug, 5)])

    assert [f.statuses(o)[1] for o in (first, second, third)] == [
        "allocated",
        "allocated",
        "partial",
    ]
    assert f.quantities(mug, wh) == (5, 5)
    f.assert_ledger_clean()


def test_backordered_lines_get_the_expected_date_of_the_stock_that_covers_them(supplier, wh, mug):
    soon = timezone.localdate() + timedelta(days=3)
    later = timezone.localdate() + timedelta(days=9)
    early = _po(supplier, wh, (mug, 3))
    early.lines.update(expected_date=soon)
    late = _po(supplier, wh, (mug, 4))
    late.lines.update(expected_date=later)
    _po(supplier, wh, (mug, 50), send=False)  # a draft is not due

    dates = expected_dates([("a", mug.pk, 2), ("b", mug.pk, 2), ("c", mug.pk, 3), ("d", mug.pk, 1)])

    assert dates == {"a": soon, "b": later, "c": later, "d": None}
    assert [i.reference for i in incoming()] == [early.number, late.number]


def test_draft_pos_from_suggestions_group_by_supplier_and_point(supplier, wh, mug, cup):
    store = f.make_warehouse("STORE", priority=2)
    other = Supplier.objects.create(code="BETA", name="Beta Cups", lead_time_days=2)
    SupplierProduct.objects.create(supplier=supplier, product=mug, unit_cost="3.00")
    SupplierProduct.objects.create(supplier=other, product=cup, unit_cost="1.00", priority=1)
    SupplierProduct.objects.create(supplier=supplier, product=cup, unit_cost="1.20", priority=5)
    loose = f.make_product("LOOSE")

    result = purchase_orders_from_suggestions(
        items=[(mug, wh, 40), (mug, store, 10), (cup, wh, 7), (cup, None, 3), (loose, wh, 5)]
    )

    got = sorted(
        (
            po.supplier.code,
            po.warehouse.code,
            sorted(po.lines.values_list("product__sku", "quantity")),
        )
        for po in result.purchase_orders
    )
    assert got == [
        ("ACME", "MAIN", [("MUG-BLU", 40)]),
        ("ACME", "STORE", [("MUG-BLU", 10)]),
        ("BETA", "MAIN", [("CUP-RED", 10)]),
    ]
    assert result.without_supplier == ["LOOSE"]
    assert {po.status for po in result.purchase_orders} == {"draft"}
    beta = next(po for po in result.purchase_orders if po.supplier.code == "BETA")
    assert beta.lines.get().unit_cost == Decimal("1.00")
