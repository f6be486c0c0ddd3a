"""Services behave the same whoever calls them (Step 10b, item 3): every write happens
when the service makes it (no change held back on the order object for a later flush
that a lock could undo), and ``locked=True`` means one thing everywhere: the caller holds
the order's row and lines already."""

import pytest
from django.db import transaction

from fulfillment.services import order_confirm_and_allocate
from fulfillment.services.intake import order_place_and_confirm
from inventory.models import Warehouse
from orders.models import Order, OrderEvent
from orders.services import order_lock
from tests import factories as f

pytestmark = pytest.mark.django_db

ADDRESS = {
    "name": "Ana",
    "line1": "Rua A 1",
    "city": "Campinas",
    "region": "SP",
    "postcode": "13023-000",
    "country": "BR",
}


def _stocked(sku="ONE-1", quantity=5):
    product = f.make_product(sku)
    f.receive(product, f.make_warehouse("SP-01"), quantity)
    return product


def _in_database(order) -> tuple[str, str, list[str]]:
    row = Order.objects.get(pk=order.pk)
    kinds = list(
        OrderEvent.objects.filter(order=order).order_by("pk").values_list("kind", flat=True)
    )
    return row.status, row.allocation_status, kinds


def test_a_lock_taken_inside_an_intake_keeps_what_the_intake_changed():
    """Before: an intake held the order's status change and events back for one write at
    its end; a service locking the order meanwhile refreshed it from the row and the
    flush wrote the old status back (timeline confirmed, row pending)."""
    product = _stocked()
    with transaction.atomic():
        order, created = order_place_and_confirm(
            channel=f.channel("auto", auto_confirm=True),
            external_id="ONE-1",
            customer={"email": "ana@example.com", "name": "Ana Lima"},
            financial_status="paid",
            shipping_address=ADDRESS,
            currency="BRL",
            lines=[{"sku": product.sku, "quantity": 2, "unit_price": "10.00"}],
        )
        assert created
        # Written already, inside the same transaction, before anything is flushed:
        assert _in_database(order) == (
            "confirmed",
            "allocated",
            ["placed", "confirmed", "allocated"],
        )
        order_lock(order)  # refreshes the object from its row
        assert (order.status, order.allocation_status) == ("confirmed", "allocated")
    assert _in_database(order) == ("confirmed", "allocated", ["placed", "confirmed", "allocated"])
    f.assert_ledger_clean()


def test_locked_means_the_caller_holds_the_order_for_any_caller():
    """An order read and locked by its caller (not just placed) confirms and allocates
    with locked=True exactly as with the services' own locks."""
    product = _stocked("ONE-2")
    placed = f.place([(product, 3)], channel_code="manual")
    other = f.place([(product, 1)], channel_code="manual", external_id="ONE-2b")
    with transaction.atomic():
        order = order_lock(Order.objects.get(pk=placed.pk))  # a fresh object, no primed lines
        order_confirm_and_allocate(order=order, locked=True)
    order_confirm_and_allocate(order=Order.objects.get(pk=other.pk))
    assert _in_database(placed) == ("confirmed", "allocated", ["placed", "confirmed", "allocated"])
    assert _in_database(other) == _in_database(placed)
    assert f.quantities(product, Warehouse.objects.get(code="SP-01")) == (5, 4)
    f.assert_ledger_clean()


def test_placement_writes_the_same_rows_called_directly_or_through_the_intake():
    """order_place called on its own and inside order_place_and_confirm (a channel
    without auto-confirm) leaves identical rows: no caller-dependent write path."""
    product = _stocked("ONE-3")
    direct = f.place([(product, 1)], channel_code="plain", external_id="D-1")
    via_intake, _ = order_place_and_confirm(
        channel=f.channel("plain"),
        external_id="D-2",
        customer={"email": "ana@example.com", "name": "Ana Lima"},
        shipping_address={**ADDRESS, "name": "Ana Lima", "city": "Campinas"},
        currency="BRL",
        lines=[{"sku": product.sku, "quantity": 1, "unit_price": str(product.price)}],
    )
    assert (
        _in_database(direct) == _in_database(via_intake) == ("pending", "unallocated", ["placed"])
    )
