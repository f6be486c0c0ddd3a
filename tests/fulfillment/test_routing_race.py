"""PostgreSQL: many threads routing orders over the same hot SKUs never oversell, never
surface a deadlock, and leave every unit accounted for in the ledger."""

import logging
import random
import threading
import time
from collections import defaultdict

import pytest
from django.db import connection
from django.db.models import F, Sum

from fulfillment.models import OPEN_SHIPMENT_STATUSES, ShipmentLine
from fulfillment.services import (
    allocate_backorders,
    order_cancel_and_release,
    order_confirm_and_allocate,
)
from inventory.models import StockLevel
from inventory.selectors import stock_ledger_mismatches, stock_levels_out_of_bounds
from orders.models import Order, OrderLine
from tests import factories as f
from tests.conftest import postgres_only

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]

THREADS = 16
ORDERS = 200
HOT_SKUS = 5
STOCK_PER_LEVEL = 40  # 5 SKUs x 3 points x 40 = 600 units for ~1,000 ordered
STRATEGIES = ["priority", "single_shipment", "nearest", "cost"]


class _Retries(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record):
        self.count += 1


def test_sixteen_threads_routing_hot_skus_never_oversell_or_deadlock():
    rng = random.Random(20261126)
    points = [
        f.make_warehouse("SP-01", priority=1, region="SP"),
        f.make_warehouse("RJ-02", priority=2, region="RJ"),
        f.make_warehouse("MG-03", priority=3, region="MG"),
    ]
    hot = [f.make_product(f"HOT-{i}") for i in range(HOT_SKUS)]
    for product in hot:
        for point in points:
            f.receive(product, point, STOCK_PER_LEVEL)
    for strategy in STRATEGIES:
        f.channel(f"race-{strategy.replace('_', '-')}", routing_strategy=strategy)
    orders = []
    for i in range(ORDERS):
        skus = rng.sample(hot, rng.randint(2, 4))  # lines touch the hot SKUs in random order
        strategy = STRATEGIES[i % len(STRATEGIES)]
        orders.append(
            f.place(
                [(p, rng.randint(1, 3)) for p in skus],
                channel_code=f"race-{strategy.replace('_', '-')}",
                shipping_address={
                    "city": "X",
                    "region": rng.choice(["SP", "RJ", "MG", "BA"]),
                    "country": "BR",
                },
            )
        )
    to_cancel = set(rng.sample(range(ORDERS), ORDERS // 10))

    retries = _Retries()
    logging.getLogger("kernel.db").addHandler(retries)
    errors: list[BaseException] = []
    bad_seen: list[int] = []
    work = iter(enumerate(orders))
    lock = threading.Lock()
    start = threading.Barrier(THREADS + 1)
    done = threading.Event()

    def worker():
        try:
            start.wait()
            while True:
                with lock:
                    item = next(work, None)
                if item is None:
                    return
                i, order = item
                try:
                    order_confirm_and_allocate(order=order, actor="race")
                    if i in to_cancel:
                        order_cancel_and_release(order=order, reason="race", actor="race")
                except BaseException as exc:  # noqa: BLE001 - every error is a failure here
                    errors.append(exc)
        finally:
            connection.close()

    def watcher():
        try:
            while not done.is_set():
                bad_seen.append(stock_levels_out_of_bounds())
                time.sleep(0.02)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    spy = threading.Thread(target=watcher)
    for t in threads:
        t.start()
    spy.start()
    began = time.monotonic()
    start.wait()
    for t in threads:
        t.join(timeout=120)
    elapsed = time.monotonic() - began
    done.set()
    spy.join(timeout=10)
    logging.getLogger("kernel.db").removeHandler(retries)

    assert not any(t.is_alive() for t in threads), "a worker hung"
    assert errors == [], f"{len(errors)} errors surfaced, first: {errors[:1]!r}"
    assert bad_seen and max(bad_seen) == 0
    assert stock_levels_out_of_bounds() == 0
    assert Order.objects.filter(status=Order.Status.CONFIRMED).count() == ORDERS - len(to_cancel)

    # Every reserved unit belongs to an open shipment line, per point, and the order lines
    # agree, per SKU; nothing received was lost.
    open_lines = defaultdict(int)
    for product_id, warehouse_id, qty in ShipmentLine.objects.filter(
        shipment__status__in=OPEN_SHIPMENT_STATUSES
    ).values_list("order_line__product_id", "shipment__warehouse_id", "quantity"):
        open_lines[(product_id, warehouse_id)] += qty
    for level in StockLevel.objects.all():
        assert level.on_hand == STOCK_PER_LEVEL
        assert level.reserved == open_lines[(level.product_id, level.warehouse_id)]
    allocated = dict(
        OrderLine.objects.values("product_id")
        .annotate(n=Sum("quantity_allocated"))
        .values_list("product_id", "n")
    )
    reserved = dict(
        StockLevel.objects.values("product_id")
        .annotate(n=Sum("reserved"))
        .values_list("product_id", "n")
    )
    assert allocated == reserved
    assert stock_ledger_mismatches() == []

    # No work lost: once the queue settles, no SKU has both free stock and waiting lines.
    allocate_backorders()
    waiting = set(
        OrderLine.objects.filter(
            order__status=Order.Status.CONFIRMED,
            quantity__gt=F("quantity_allocated") + F("quantity_shipped") + F("quantity_cancelled"),
        ).values_list("product_id", flat=True)
    )
    free = set(
        StockLevel.objects.filter(on_hand__gt=F("reserved")).values_list("product_id", flat=True)
    )
    assert not (waiting & free)
    print(f"\n{ORDERS} orders on {THREADS} threads in {elapsed:.2f}s, {retries.count} retries")
