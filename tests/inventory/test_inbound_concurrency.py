"""Inbound under contention (PostgreSQL, real threads on their own connections): scans
of the same purchase order at the same instant, and a transfer received at the same
time as it is recorded lost, keep exact quantities and a clean ledger."""

import threading

import pytest
from django.db import connection

from inventory.exceptions import StockError
from inventory.models import PurchaseOrder, Supplier, TransferLine
from inventory.purchasing import purchase_order_create, purchase_order_receive, purchase_order_send
from inventory.transfers import transfer_create, transfer_dispatch, transfer_receive
from tests import factories as f
from tests.conftest import postgres_only

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def _together(count, target):
    barrier = threading.Barrier(count)
    errors = []

    def run(i):
        try:
            barrier.wait(10)
            target(i)
        except Exception as exc:  # noqa: BLE001 - collected and asserted on
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "deadlock or hang"
    return errors


def test_simultaneous_scans_of_one_po_all_count():
    wh = f.make_warehouse("SP-01", priority=1)
    mug = f.make_product("MUG-BLU")
    supplier = Supplier.objects.create(code="ACME", name="Acme")
    po = purchase_order_send(
        purchase_order=purchase_order_create(
            supplier=supplier, warehouse=wh, lines=[{"product": mug, "quantity": 6}]
        )
    )

    errors = _together(
        8, lambda i: purchase_order_receive(purchase_order=po, quantities=[(mug, 1)])
    )

    assert errors == []
    po.refresh_from_db()
    assert po.lines.get().quantity_received == 8
    assert po.status == PurchaseOrder.Status.RECEIVED
    assert po.events.filter(kind="received").count() == 8
    assert f.quantities(mug, wh) == (8, 0)
    f.assert_ledger_clean()


def test_in_transit_units_are_never_received_or_lost_twice():
    sp = f.make_warehouse("SP-01", priority=1)
    rj = f.make_warehouse("RJ-01", priority=2)
    mug = f.make_product("MUG-BLU")
    f.receive(mug, sp, 5)
    transfer = transfer_dispatch(
        transfer=transfer_create(source=sp, destination=rj, lines=[{"product": mug, "quantity": 5}])
    )

    def act(i):
        pairs = {"received": [(mug, 3)]} if i % 2 == 0 else {"lost": [(mug, 3)]}
        transfer_receive(transfer=transfer, **pairs)

    errors = _together(4, act)

    assert len(errors) == 3 and all(isinstance(e, StockError) for e in errors)
    line = TransferLine.objects.get()
    assert line.quantity_received + line.quantity_lost == 3
    arrived = mug.stock_levels.filter(warehouse=rj).values_list("on_hand", flat=True)
    assert sum(arrived) == line.quantity_received
    f.assert_ledger_clean()
