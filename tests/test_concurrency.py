"""Concurrency on PostgreSQL: real threads, each on its own database connection.

Checks the promises of DESIGN.md that only show under contention: reservation never
oversells, placement is idempotent even at the same instant, and orders touching the
same SKUs in any line order never deadlock. Every test ends with the exact quantities
and a clean stock ledger.
"""

import logging
import queue
import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from fulfillment.models import Shipment
from fulfillment.services import (
    order_cancel_and_release,
    order_confirm_and_allocate,
    shipment_cancel,
)
from inventory.exceptions import InsufficientStock
from inventory.models import StockLevel, StockMovement
from inventory.services import stock_reserve
from orders.exceptions import DuplicateOrder
from orders.models import Customer, Order, OrderEvent, OrderLine
from orders.services import order_place
from tests import factories as f
from tests.conftest import postgres_only

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]

A = Order.AllocationStatus
JOIN_TIMEOUT = 60  # seconds; a hang is a failure, not a stuck test run


def in_threads(count: int, target: Callable[[int], None]) -> None:
    """Run ``target(i)`` in ``count`` threads; each closes its connection when done."""

    def run(i: int) -> None:
        try:
            target(i)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "threads still running: deadlock or hang?"


def drain(items, *, threads: int, work: Callable) -> tuple[list, list]:
    """Let ``threads`` workers take ``items`` from one queue; return (results, errors)."""
    todo: queue.Queue = queue.Queue()
    for item in items:
        todo.put(item)
    results, errors = [], []
    lock = threading.Lock()

    def worker(_: int) -> None:
        while True:
            try:
                item = todo.get_nowait()
            except queue.Empty:
                return
            try:
                result = work(item)
            except Exception as exc:  # collected and asserted on by the test
                with lock:
                    errors.append((item, exc))
            else:
                with lock:
                    results.append(result)

    in_threads(threads, worker)
    return results, errors


@pytest.fixture
def retries(caplog):
    """Warnings of ``kernel.db.retry_on_conflict``: each one is a deadlock or a
    serialization failure the database reported."""
    caplog.set_level(logging.WARNING, logger="kernel.db")
    return lambda: [r.getMessage() for r in caplog.records if r.name == "kernel.db"]


def confirm_by_pk(pk: int) -> int:
    order_confirm_and_allocate(order=Order.objects.select_related("channel").get(pk=pk))
    return pk


# --------------------------------------------------------------------------- never oversell


def test_80_concurrent_confirmations_for_50_units_reserve_exactly_50(retries):
    wh = f.make_warehouse("MAIN", priority=1)
    product = f.make_product("HOT-ITEM")
    f.receive(product, wh, 50)
    order_ids = [f.place([(product, 1)], external_id=f"hot-{i}").pk for i in range(80)]

    confirmed, errors = drain(order_ids, threads=16, work=confirm_by_pk)

    assert errors == []
    assert sorted(confirmed) == sorted(order_ids)
    assert f.quantities(product, wh) == (50, 50)
    lines = OrderLine.objects.filter(order_id__in=order_ids)
    assert lines.aggregate(total=Sum("quantity_allocated"))["total"] == 50
    orders = Order.objects.filter(pk__in=order_ids)
    assert orders.filter(status=Order.Status.CONFIRMED).count() == 80
    assert orders.filter(allocation_status=A.ALLOCATED).count() == 50
    assert orders.filter(allocation_status=A.UNALLOCATED).count() == 30
    assert Shipment.objects.filter(order_id__in=order_ids).count() == 50
    assert StockMovement.objects.filter(kind="reserve").count() == 50
    backordered = OrderEvent.objects.filter(kind=OrderEvent.Kind.BACKORDERED)
    assert backordered.count() == 30
    assert retries() == []
    f.assert_ledger_clean()


def test_concurrent_reservations_never_oversell():
    wh = f.make_warehouse("MAIN", priority=1)
    product = f.make_product("HOT-ITEM")
    f.receive(product, wh, 50)

    def reserve(i: int) -> int:
        stock_reserve(product=product, warehouse=wh, quantity=1, reference=f"R-{i}")
        return i

    done, errors = drain(range(80), threads=8, work=reserve)

    assert len(done) == 50
    assert len(errors) == 30
    assert all(isinstance(exc, InsufficientStock) for _, exc in errors)
    assert f.quantities(product, wh) == (50, 50)
    assert StockMovement.objects.filter(kind="reserve").count() == 50
    f.assert_ledger_clean()


# --------------------------------------------------------------------------- idempotent placement


def _payload(quantity: int = 2) -> dict:
    return {
        "channel": f.channel("web"),
        "external_id": "same-instant-1",
        "currency": "EUR",
        "customer": {"email": "race@example.com", "name": "Race"},
        "shipping_address": {"name": "Race", "line1": "Rua A 1", "country": "BR"},
        "lines": [{"sku": "TSHIRT-M", "quantity": quantity, "unit_price": "19.90"}],
    }


@pytest.mark.parametrize("threads", [2, 10])
def test_same_external_id_placed_at_the_same_instant_makes_one_order(threads):
    f.make_product("TSHIRT-M")
    f.channel("web")
    barrier = threading.Barrier(threads, timeout=20)
    results, errors = [], []
    lock = threading.Lock()

    def place(_: int) -> None:
        payload = _payload()  # built before the barrier: only the placement races
        barrier.wait()
        try:
            order, created = order_place(**payload)
        except Exception as exc:
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append((order.number, created))

    in_threads(threads, place)

    assert errors == []
    order = Order.objects.get(external_id="same-instant-1")
    assert len(results) == threads
    assert {number for number, _ in results} == {order.number}
    assert sorted(created for _, created in results) == [False] * (threads - 1) + [True]
    assert Order.objects.count() == 1
    assert order.lines.get().quantity == 2
    assert order.total == Decimal("39.80")
    assert Customer.objects.count() == 1
    assert list(order.events.values_list("kind", flat=True)) == [OrderEvent.Kind.PLACED]


def test_same_external_id_with_different_content_at_the_same_instant_conflicts():
    f.make_product("TSHIRT-M")
    f.channel("web")
    barrier = threading.Barrier(2, timeout=20)
    results, errors = {}, {}

    def place(i: int) -> None:
        payload = _payload(quantity=i + 1)
        barrier.wait()
        try:
            results[i] = order_place(**payload)[0].number
        except DuplicateOrder as exc:
            errors[i] = exc

    in_threads(2, place)

    order = Order.objects.get()
    assert list(results.values()) == [order.number]
    assert len(errors) == 1
    (loser,) = errors.values()
    assert loser.data["number"] == order.number
    winner = next(iter(results))
    assert order.lines.get().quantity == winner + 1


# --------------------------------------------------------------------------- no deadlocks


def test_multi_line_orders_in_opposite_line_order_never_deadlock(retries):
    north = f.make_warehouse("NORTH", priority=1)
    south = f.make_warehouse("SOUTH", priority=2)
    skus = [f.make_product(f"SKU-{c}") for c in "ABC"]
    a, b, c = skus
    f.receive(a, north, 30)
    f.receive(a, south, 20)
    f.receive(b, north, 25)
    f.receive(b, south, 25)
    f.receive(c, south, 50)
    order_ids = []
    for i in range(40):
        lines = [(a, 2), (b, 2), (c, 2)]
        if i % 2:
            lines.reverse()  # same SKUs, opposite line order
        order_ids.append(f.place(lines, external_id=f"multi-{i}").pk)

    confirmed, errors = drain(order_ids, threads=8, work=confirm_by_pk)

    assert errors == []
    assert len(confirmed) == 40
    assert retries() == []  # not even a deadlock that a retry papered over
    for product in skus:
        totals = StockLevel.objects.filter(product=product).aggregate(
            on_hand=Sum("on_hand"), reserved=Sum("reserved")
        )
        assert totals == {"on_hand": 50, "reserved": 50}, product.sku
        allocated = OrderLine.objects.filter(product=product).aggregate(
            total=Sum("quantity_allocated")
        )["total"]
        assert allocated == 50, product.sku
    orders = Order.objects.filter(pk__in=order_ids)
    assert orders.filter(status=Order.Status.CONFIRMED).count() == 40
    # 80 units wanted per SKU, 50 there: 25 orders whole, 15 left waiting for something
    assert orders.filter(allocation_status=A.ALLOCATED).count() == 25
    assert orders.filter(allocation_status=A.PARTIAL).count() == 0
    assert orders.filter(allocation_status=A.UNALLOCATED).count() == 15
    f.assert_ledger_clean()


def test_cancelling_split_orders_while_others_confirm_never_deadlocks(retries):
    """Cancelling releases the stock of several shipments; it must lock their levels in
    the same (pk) order as allocation does, not shipment by shipment."""
    north = f.make_warehouse("NORTH", priority=1)
    south = f.make_warehouse("SOUTH", priority=2)
    a, b = f.make_product("SKU-A"), f.make_product("SKU-B")
    f.receive(b, south, 100)  # B@SOUTH gets the lower pk, A@NORTH the higher
    f.receive(a, north, 100)
    to_cancel = [f.confirm(f.place([(a, 1), (b, 1)])).pk for _ in range(12)]
    assert Shipment.objects.filter(order_id__in=to_cancel).count() == 24  # NORTH + SOUTH
    to_confirm = [f.place([(b, 1), (a, 1)]).pk for _ in range(12)]
    work = [w for pair in zip(to_cancel, to_confirm, strict=True) for w in pair]

    def act(pk: int) -> int:
        if pk in to_cancel:
            order_cancel_and_release(order=Order.objects.get(pk=pk), reason="customer")
            return pk
        return confirm_by_pk(pk)

    done, errors = drain(work, threads=8, work=act)

    assert errors == []
    assert len(done) == 24
    assert retries() == []
    cancelled = Order.objects.filter(pk__in=to_cancel)
    assert cancelled.filter(status=Order.Status.CANCELLED).count() == 12
    assert not Shipment.objects.filter(order_id__in=to_cancel).exclude(status="cancelled")
    confirmed = Order.objects.filter(pk__in=to_confirm)
    assert confirmed.filter(allocation_status=A.ALLOCATED).count() == 12
    assert f.quantities(a, north) == (100, 12)
    assert f.quantities(b, south) == (100, 12)
    f.assert_ledger_clean()


def test_cancel_and_reallocate_while_others_confirm_never_deadlocks(retries):
    """Cancelling a shipment with ``reallocate`` releases one level and then routes the
    order over every level of its products: all of them are locked first, in pk order."""
    north = f.make_warehouse("NORTH", priority=1)
    south = f.make_warehouse("SOUTH", priority=2)
    a = f.make_product("SKU-A")
    f.receive(a, south, 100)  # A@SOUTH gets the lower pk
    f.receive(a, north, 100)
    shipments = [f.confirm(f.place([(a, 1)])).shipments.get() for _ in range(12)]
    assert {s.warehouse_id for s in shipments} == {north.pk}
    to_confirm = [f.place([(a, 1)]).pk for _ in range(12)]
    work = [w for pair in zip(shipments, to_confirm, strict=True) for w in pair]

    def act(item) -> None:
        if isinstance(item, Shipment):
            shipment = Shipment.objects.select_related("order").get(pk=item.pk)
            shipment_cancel(shipment=shipment, reason="re-route", reallocate=True)
        else:
            confirm_by_pk(item)

    done, errors = drain(work, threads=8, work=act)

    assert errors == []
    assert len(done) == 24
    assert retries() == []
    assert Order.objects.filter(allocation_status=A.ALLOCATED).count() == 24
    assert Shipment.objects.filter(status="cancelled").count() == 12
    assert Shipment.objects.filter(status="allocated").count() == 24
    levels = StockLevel.objects.filter(product=a).aggregate(
        on_hand=Sum("on_hand"), reserved=Sum("reserved")
    )
    assert levels == {"on_hand": 200, "reserved": 24}
    f.assert_ledger_clean()
