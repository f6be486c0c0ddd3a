"""Routing benchmark (issue 4): allocation throughput per strategy, then a hot-SKU race.

    .venv/bin/python bench/routing.py [--orders 10000] [--budget SECONDS] [--race-orders 1000]

Creates its own scratch database (``oms_bench_routing`` on the PostgreSQL server of
DATABASE_URL, else of BENCH_PG_ADMIN_URL (default 127.0.0.1:5432); a temporary SQLite
file when DATABASE_URL is a sqlite URL, and then no race), runs the
migrations into it, and drops it at the end.

1. Strategies: 10,000 confirmed orders (1-4 lines, 500 SKUs, 5 points) are allocated one
   after another on one connection by each strategy in turn (reservations reset between
   strategies, so each sees the same stock). Printed per strategy: orders/s, queries per
   order (captured on a sample), the share of allocated orders shipped from one point,
   shipments per order and the share of units left backordered. When the calibration
   run says 4 x 10,000 orders will not fit in ``--budget`` seconds (only when a budget
   is given; by default every strategy allocates all 10,000), every strategy gets the
   same smaller number of orders and the output says so.
2. Race: 32 worker threads confirm and route orders whose 2-4 lines hit 5 hot SKUs in
   random order across 3 points. Printed: orders/s and the correctness counters (errors
   surfaced, retried conflicts, negative or over-reserved levels seen during and after
   the run, reservations not matching open shipment lines, allocations not matching
   reservations per SKU, ledger mismatches).

``run() -> list[dict]`` returns the figures as {name, value, unit, reference} for
``bench/run_all.py``.
"""

import argparse
import json
import logging
import os
import random
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SCRATCH_DB = "oms_bench_routing"
STRATEGIES = ("priority", "single_shipment", "nearest", "cost")
POINTS = [  # code, region, latitude, longitude, priority
    ("SP-01", "SP", "-23.356", "-46.877", 1),
    ("RJ-02", "RJ", "-22.785", "-43.312", 2),
    ("MG-03", "MG", "-19.932", "-44.054", 3),
    ("PR-04", "PR", "-25.535", "-49.206", 4),
    ("BA-05", "BA", "-12.905", "-38.426", 5),
]
REGIONS = ["SP"] * 6 + ["RJ"] * 3 + ["MG"] * 3 + ["PR", "RS", "SC", "BA", "PE", "CE", "DF", "GO"]
QUERY_SAMPLE = 100
log = logging.getLogger("bench.routing")


# --------------------------------------------------------------------------- database


def _scratch_urls() -> tuple[str, str | None]:
    """(scratch database URL, admin URL to create/drop it) or a SQLite file and None."""
    # PostgreSQL like the other benchmarks (BENCH_PG_ADMIN_URL's server) unless
    # DATABASE_URL names another server, or SQLite when DATABASE_URL is a sqlite URL.
    from bench.common import PG_ADMIN_URL

    url = os.environ.get("DATABASE_URL") or PG_ADMIN_URL
    if url.split(":", 1)[0] in ("postgres", "postgresql"):
        parts = urlsplit(url)
        return (
            urlunsplit(parts._replace(path=f"/{SCRATCH_DB}")),
            urlunsplit(parts._replace(path="/postgres")),
        )
    path = Path(tempfile.gettempdir()) / f"{SCRATCH_DB}.sqlite3"
    path.unlink(missing_ok=True)
    return f"sqlite:///{path}", None


def _admin(admin_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql)


def _create_database(admin_url: str | None) -> None:
    if admin_url:
        _admin(admin_url, f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')
        _admin(admin_url, f'CREATE DATABASE "{SCRATCH_DB}"')


def _drop_database(admin_url: str | None, scratch_url: str) -> None:
    from django.db import connections

    connections.close_all()
    if admin_url:
        _admin(admin_url, f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')
    else:
        Path(urlsplit(scratch_url).path).unlink(missing_ok=True)


def _setup_django(scratch_url: str) -> dict | None:
    """Point Django at the scratch database. Returns the settings to restore when Django
    was already set up by the caller (bench/run_all.py), else None."""
    import django
    from django.apps import apps

    if not apps.ready:
        os.environ["DATABASE_URL"] = scratch_url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
        os.environ.setdefault("DEBUG", "0")
        os.environ.setdefault("SECRET_KEY", "bench-only")
        os.environ.setdefault("Q_SYNC", "0")
        django.setup()
        return None
    import dj_database_url
    from django.db import connections

    wanted = dj_database_url.parse(scratch_url)
    current = connections.settings["default"]
    if wanted["ENGINE"] != current["ENGINE"]:
        raise RuntimeError("bench/routing.py: the caller's database engine differs")
    saved = dict(current)
    connections.close_all()
    current.update({k: wanted[k] for k in ("NAME", "USER", "PASSWORD", "HOST", "PORT")})
    return saved


def _restore_django(saved: dict | None) -> None:
    if saved is not None:
        from django.db import connections

        connections.close_all()
        connections.settings["default"].update(saved)


# --------------------------------------------------------------------------- data


def _receive_bulk(quantities: dict) -> None:
    """Stock levels with their receipts, in bulk: {(product_id, warehouse_id): qty}."""
    from inventory.models import StockLevel, StockMovement

    StockLevel.objects.bulk_create(
        [StockLevel(product_id=p, warehouse_id=w, on_hand=q) for (p, w), q in quantities.items()]
    )
    StockMovement.objects.bulk_create(
        [
            StockMovement(
                product_id=p,
                warehouse_id=w,
                kind=StockMovement.Kind.RECEIPT,
                on_hand_delta=q,
                reference="bench",
            )
            for (p, w), q in quantities.items()
            if q
        ],
        batch_size=2000,
    )


def _orders_bulk(rng, channels, products, count, *, status, start, lines=(1, 4), qty=(1, 3)):
    """``count`` orders with their lines, in bulk (channel picked at random from
    ``channels``); returns their ids by placed_at."""
    from django.utils import timezone

    from kernel.numbering import next_numbers
    from orders.models import Order, OrderLine

    numbers = next_numbers("order", count)
    orders = []
    for i, number in enumerate(numbers):
        region = rng.choice(REGIONS)
        orders.append(
            Order(
                number=number,
                channel=rng.choice(channels),
                ship_name="Bench",
                ship_line1="Rua 1",
                ship_city="",
                ship_region=region,
                ship_country="BR",
                currency="BRL",
                placed_at=start + timedelta(seconds=i),
                status=status,
                confirmed_at=timezone.now() if status == Order.Status.CONFIRMED else None,
            )
        )
    Order.objects.bulk_create(orders, batch_size=2000)
    order_lines = []
    for order in orders:
        for product in rng.sample(products, rng.randint(*lines)):
            order_lines.append(
                OrderLine(
                    order=order,
                    product=product,
                    sku=product.sku,
                    name=product.name,
                    quantity=rng.randint(*qty),
                    unit_price=product.price,
                )
            )
    OrderLine.objects.bulk_create(order_lines, batch_size=5000)
    return [o.pk for o in orders]


def _build_catalogue(rng):
    from fulfillment.models import Carrier, CarrierService, ShippingRate
    from inventory.models import Product, Warehouse
    from orders.models import Channel

    warehouses = Warehouse.objects.bulk_create(
        [
            Warehouse(
                code=code,
                name=f"Point {code}",
                country="BR",
                region=region,
                latitude=Decimal(lat),
                longitude=Decimal(lon),
                priority=prio,
            )
            for code, region, lat, lon, prio in POINTS
        ]
    )
    products = Product.objects.bulk_create(
        [
            Product(
                sku=f"B-{i:04d}",
                name=f"Bench product {i}",
                price=Decimal(rng.randint(500, 20000)) / 100,
                weight_grams=rng.randint(100, 3000),
            )
            for i in range(500)
        ]
    )
    stock = {}
    for product in products:
        for w in warehouses:
            stock[(product.pk, w.pk)] = 0 if rng.random() < 0.3 else rng.randint(5, 50)
    _receive_bulk(stock)
    carrier = Carrier.objects.create(code="bench", name="Bench table rates")
    service = CarrierService.objects.create(carrier=carrier, code="standard", name="Standard")
    for low, high, price in (
        (0, 1000, "18.00"),
        (1001, 3000, "25.00"),
        (3001, 10000, "38.00"),
        (10001, 50000, "60.00"),
    ):
        ShippingRate.objects.create(
            service=service,
            country="BR",
            min_weight_grams=low,
            max_weight_grams=high,
            price=Decimal(price),
            currency="BRL",
            transit_days=4,
        )
        ShippingRate.objects.create(
            service=service,
            country="BR",
            region="SP",
            min_weight_grams=low,
            max_weight_grams=high,
            price=Decimal(price) - 5,
            currency="BRL",
            transit_days=2,
        )
    channel = Channel.objects.create(code="bench", name="Bench")
    return warehouses, products, channel


def _reset_allocations() -> None:
    """Undo every allocation: shipments, reserve movements and reserved quantities go,
    so the next strategy sees the same stock (the ledger stays true)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM fulfillment_shipmentline")
        cur.execute("DELETE FROM fulfillment_shipment")
        cur.execute("DELETE FROM inventory_stockmovement WHERE kind = 'reserve'")
        cur.execute("UPDATE inventory_stocklevel SET reserved = 0")
        cur.execute("UPDATE orders_orderline SET quantity_allocated = 0")
        cur.execute("UPDATE orders_order SET allocation_status = 'unallocated'")
        cur.execute("DELETE FROM orders_orderevent WHERE kind IN ('allocated', 'backordered')")


# --------------------------------------------------------------------------- strategies


def _allocate(order_ids, strategy, *, sample=0, deadline=None) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fulfillment.services import order_allocate
    from orders.models import Order

    orders = {o.pk: o for o in Order.objects.filter(pk__in=order_ids).select_related("channel")}
    queries = 0
    done = 0
    with CaptureQueriesContext(connection) as ctx:
        for pk in order_ids[:sample]:
            order_allocate(order=orders[pk], strategy=strategy)
            done += 1
    queries = len(ctx.captured_queries)
    began = time.perf_counter()
    timed = 0
    for pk in order_ids[sample:]:
        order_allocate(order=orders[pk], strategy=strategy)
        timed += 1
        if deadline and time.monotonic() > deadline:
            break
    elapsed = time.perf_counter() - began
    return {
        "orders": done + timed,
        "timed": timed,
        "seconds": elapsed,
        "queries_per_order": queries / done if done else None,
    }


def _outcome(order_ids) -> dict:
    from django.db.models import Count, F, Sum

    from fulfillment.models import Shipment
    from orders.models import OrderLine

    per_order = (
        Shipment.objects.filter(order_id__in=order_ids)
        .values("order_id")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
    counts = list(per_order)
    units = OrderLine.objects.filter(order_id__in=order_ids).aggregate(
        ordered=Sum("quantity"), allocated=Sum("quantity_allocated")
    )
    backordered = OrderLine.objects.filter(
        order_id__in=order_ids, quantity__gt=F("quantity_allocated")
    ).count()
    return {
        "allocated_orders": len(counts),
        "one_point_share": (sum(1 for n in counts if n == 1) / len(counts)) if counts else 0.0,
        "shipments_per_order": (sum(counts) / len(counts)) if counts else 0.0,
        "backordered_unit_share": 1 - (units["allocated"] or 0) / (units["ordered"] or 1),
        "backordered_lines": backordered,
    }


# --------------------------------------------------------------------------- race


class _Counter(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record):
        self.count += 1


def _bad_levels() -> int:
    from inventory.selectors import stock_levels_out_of_bounds

    return stock_levels_out_of_bounds()


def _race(rng, warehouses, *, workers: int, count: int) -> dict:
    from django.db import connection
    from django.db.models import Sum

    from fulfillment.models import OPEN_SHIPMENT_STATUSES, ShipmentLine
    from fulfillment.services import order_confirm_and_allocate
    from inventory.models import Product, StockLevel
    from inventory.selectors import stock_ledger_mismatches
    from orders.models import Channel, Order, OrderLine

    hot = Product.objects.bulk_create(
        [Product(sku=f"HOT-{i}", name=f"Hot {i}", price=Decimal("10.00")) for i in range(5)]
    )
    points = warehouses[:3]
    per_level = max(10, count * 6 // 15 * 2 // 3)  # about 2/3 of the demand
    _receive_bulk({(p.pk, w.pk): per_level for p in hot for w in points})
    others = [w for w in warehouses[3:]]
    for w in others:  # the race is about three points
        w.active = False
        w.save(update_fields=["active"])
    from django.utils import timezone

    channels = [
        Channel.objects.create(code=f"race-{i}", name=f"Race {s}", routing_strategy=s)
        for i, s in enumerate(STRATEGIES)
    ]
    ids = _orders_bulk(
        rng, channels, hot, count, status=Order.Status.PENDING, start=timezone.now(), lines=(2, 4)
    )
    orders = list(Order.objects.filter(pk__in=ids).select_related("channel"))
    rng.shuffle(orders)

    retries = _Counter()
    logging.getLogger("kernel.db").addHandler(retries)
    errors: list[str] = []
    bad_seen: list[int] = []
    work = iter(orders)
    lock = threading.Lock()
    barrier = threading.Barrier(workers + 1)
    finished = threading.Event()

    def worker():
        try:
            barrier.wait()
            while True:
                with lock:
                    order = next(work, None)
                if order is None:
                    return
                try:
                    order_confirm_and_allocate(order=order, actor="bench")
                except Exception as exc:  # noqa: BLE001 - every error is counted
                    errors.append(repr(exc))
        finally:
            connection.close()

    def watcher():
        try:
            while not finished.is_set():
                bad_seen.append(_bad_levels())
                time.sleep(0.05)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    spy = threading.Thread(target=watcher, daemon=True)
    for t in threads:
        t.start()
    spy.start()
    barrier.wait()
    began = time.perf_counter()
    for t in threads:
        t.join(timeout=180)
    elapsed = time.perf_counter() - began
    finished.set()
    spy.join(timeout=10)
    logging.getLogger("kernel.db").removeHandler(retries)
    for w in others:
        w.active = True
        w.save(update_fields=["active"])

    open_lines = defaultdict(int)
    for pid, wid, qty in ShipmentLine.objects.filter(
        shipment__status__in=OPEN_SHIPMENT_STATUSES, order_line__product__in=hot
    ).values_list("order_line__product_id", "shipment__warehouse_id", "quantity"):
        open_lines[(pid, wid)] += qty
    levels = list(StockLevel.objects.filter(product__in=hot))
    reserved_vs_lines = sum(
        1 for lv in levels if lv.reserved != open_lines[(lv.product_id, lv.warehouse_id)]
    )
    allocated = dict(
        OrderLine.objects.filter(product__in=hot)
        .values("product_id")
        .annotate(n=Sum("quantity_allocated"))
        .values_list("product_id", "n")
    )
    reserved = defaultdict(int)
    for lv in levels:
        reserved[lv.product_id] += lv.reserved
    return {
        "workers": workers,
        "orders": count,
        "seconds": elapsed,
        "orders_per_s": count / elapsed,
        "hung_workers": sum(1 for t in threads if t.is_alive()),
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
        "retries": retries.count,
        "bad_levels_seen": max(bad_seen or [0]),
        "bad_levels_after": _bad_levels(),
        "reserved_vs_open_lines": reserved_vs_lines,
        "allocated_vs_reserved": sum(
            1 for p in hot if (allocated.get(p.pk) or 0) != reserved[p.pk]
        ),
        "ledger_mismatches": len(stock_ledger_mismatches()),
        "units_reserved": sum(reserved.values()),
        "units_available_at_start": per_level * len(hot) * len(points),
    }


# --------------------------------------------------------------------------- main


def run(
    orders: int = 10_000, budget: float | None = None, race_orders: int = 1000, workers: int = 32
) -> list[dict]:
    started = time.monotonic()
    scratch_url, admin_url = _scratch_urls()
    postgres = admin_url is not None
    _create_database(admin_url)
    saved = _setup_django(scratch_url)
    results: list[dict] = []
    try:
        from django.core.management import call_command
        from django.utils import timezone

        from orders.models import Order

        print(f"scratch database: {SCRATCH_DB} ({'PostgreSQL' if postgres else 'SQLite'})")
        t = time.monotonic()
        call_command("migrate", verbosity=0, interactive=False)
        rng = random.Random(4)
        warehouses, products, channel = _build_catalogue(rng)
        ids = _orders_bulk(
            rng, [channel], products, orders, status=Order.Status.CONFIRMED, start=timezone.now()
        )
        print(
            f"setup: migrations + 500 SKUs x 5 points + {orders:,} orders in "
            f"{time.monotonic() - t:.1f}s"
        )

        # Calibrate on 100 orders, then give every strategy the same number of orders.
        probe = _allocate(ids[:100], "priority", sample=0)
        _reset_allocations()
        rate = probe["timed"] / probe["seconds"]
        per_strategy = budget / len(STRATEGIES) if budget else None
        fit = int(rate * per_strategy * 0.85) if per_strategy else orders
        n = min(orders, max(200, fit))
        note = ""
        if n < orders:
            note = (
                f"SCALED DOWN: {orders:,} orders per strategy would take about "
                f"{orders * len(STRATEGIES) / rate:.0f}s at {rate:.0f} orders/s; "
                f"running {n:,} per strategy to stay within {budget:.0f}s"
            )
            print(note)
        rows = []
        for strategy in STRATEGIES:
            deadline = time.monotonic() + per_strategy * 1.3 if per_strategy else None
            figures = _allocate(ids[:n], strategy, sample=QUERY_SAMPLE, deadline=deadline)
            outcome = _outcome(ids[: figures["orders"]])
            rows.append((strategy, figures, outcome))
            _reset_allocations()

        print()
        print(
            f"{'strategy':<16}{'orders':>8}{'orders/s':>10}{'queries/order':>15}"
            f"{'one point':>11}{'shipm./order':>14}{'backordered':>13}"
        )
        for strategy, fig, out in rows:
            rate_s = fig["timed"] / fig["seconds"] if fig["seconds"] else 0.0
            print(
                f"{strategy:<16}{fig['orders']:>8,}{rate_s:>10.1f}{fig['queries_per_order']:>15.1f}"
                f"{out['one_point_share']:>10.1%}{out['shipments_per_order']:>14.2f}"
                f"{out['backordered_unit_share']:>12.1%}"
            )
            reference = (
                f"{fig['orders']:,} confirmed orders x 1-4 lines, 500 SKUs, 5 points, "
                "one connection" + (f"; {note}" if note else "")
            )
            results += [
                {
                    "name": f"routing.{strategy}.orders_per_s",
                    "value": round(rate_s, 1),
                    "unit": "orders/s",
                    "reference": reference,
                },
                {
                    "name": f"routing.{strategy}.queries_per_order",
                    "value": round(fig["queries_per_order"], 1),
                    "unit": "queries",
                    "reference": f"first {QUERY_SAMPLE} orders (CaptureQueriesContext)",
                },
                {
                    "name": f"routing.{strategy}.one_point_share",
                    "value": round(out["one_point_share"] * 100, 1),
                    "unit": "%",
                    "reference": "allocated orders shipped from a single point",
                },
                {
                    "name": f"routing.{strategy}.shipments_per_order",
                    "value": round(out["shipments_per_order"], 2),
                    "unit": "shipments",
                    "reference": "per allocated order",
                },
            ]

        print()
        if not postgres:
            print("race: skipped (needs PostgreSQL: set DATABASE_URL)")
        else:
            # The hot rows serialise the race: size it to about 45 s at the measured rate.
            count = min(race_orders, max(200, int(rate * 45)))
            if count < race_orders:
                print(f"race SCALED DOWN to {count:,} orders (about 45s at {rate:.0f} orders/s)")
            race = _race(rng, warehouses, workers=workers, count=count)
            print(
                f"race: {race['orders']:,} orders (2-4 lines over 5 hot SKUs, 3 points) on "
                f"{workers} workers in {race['seconds']:.1f}s = {race['orders_per_s']:.1f} "
                "orders/s"
            )
            counters = (
                "errors",
                "hung_workers",
                "retries",
                "bad_levels_seen",
                "bad_levels_after",
                "reserved_vs_open_lines",
                "allocated_vs_reserved",
                "ledger_mismatches",
            )
            for key in counters:
                print(f"  {key:<24}{race[key]:>6}")
            print(
                f"  units reserved {race['units_reserved']:,} of "
                f"{race['units_available_at_start']:,} in stock"
            )
            if race["first_error"]:
                print(f"  first error: {race['first_error']}")
            ref = f"{race['orders']:,} orders, 5 hot SKUs, 3 points, {workers} threads"
            results.append(
                {
                    "name": "routing.race.orders_per_s",
                    "value": round(race["orders_per_s"], 1),
                    "unit": "orders/s",
                    "reference": ref,
                }
            )
            for key in counters:
                results.append(
                    {
                        "name": f"routing.race.{key}",
                        "value": race[key],
                        "unit": "count",
                        "reference": "must be 0" if key != "retries" else "retried, not surfaced",
                    }
                )
    finally:
        _drop_database(admin_url, scratch_url)
        _restore_django(saved)
    print(f"\ntotal {time.monotonic() - started:.0f}s")
    return results


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        help="seconds for the strategies (default: none, every strategy gets all the orders)",
    )
    parser.add_argument("--race-orders", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=32)
    args = parser.parse_args()
    figures = run(
        orders=args.orders,
        budget=args.budget,
        race_orders=args.race_orders,
        workers=args.workers,
    )
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
