"""Channel sync: a 10,000-SKU full resync against the fake Shopify and WooCommerce
stores (HTTP calls and seconds; the batch minimum is 40 Shopify calls of 250 and 100
WooCommerce calls of 100), and, with a real django-q2 cluster (``manage.py qcluster``,
ORM broker) running, the time from a committed reservation to the push request
reaching the fake store, p50/p95 over 200 reservations.

The fakes are the test suite's (``tests/intake/fakes.py``), on 127.0.0.1 port 0 in
threads of this process. Run alone: ``python -m bench.channel_sync``.
"""

import os
import statistics
import subprocess
import sys
import time

from bench.common import ROOT, drop_database, migrate, recreate_database, row, setup_django

SKUS = 10_000
CHANGES = 200
PACE_SECONDS = 0.05  # between two reservations
DBNAME = "oms_bench_channels"


def _catalogue():
    from inventory.models import Product, Warehouse
    from inventory.services import StockChange, stock_apply

    warehouse = Warehouse.objects.create(code="SP-01", name="SP", country="BR")
    products = Product.objects.bulk_create(
        [Product(sku=f"SKU-{n:05d}", name=f"Product {n}", price="10.00") for n in range(SKUS)]
    )
    stock_apply(
        changes=[
            StockChange(p.pk, warehouse.pk, "receipt", 1 + n % 50) for n, p in enumerate(products)
        ],
        create_missing=True,
    )
    return warehouse, products


def _full_resync(rows):
    from intake.sync.listings import channel_link_listings
    from intake.sync.stock import channel_stock_push
    from orders.models import Channel
    from tests.intake.fakes import FakeShopify, FakeWoo

    shopify, woo = FakeShopify().start(), FakeWoo().start()
    try:
        for n in range(SKUS):
            shopify.add_variant(f"SKU-{n:05d}", n)
            woo.add_product(10_000 + n, f"SKU-{n:05d}")
        channels = {
            "shopify": Channel.objects.create(
                code="bench-shopify",
                name="Shopify",
                platform="shopify",
                api_url=shopify.url,
                access_token=FakeShopify.TOKEN,
            ),
            "woocommerce": Channel.objects.create(
                code="bench-woo",
                name="Woo",
                platform="woocommerce",
                api_url=woo.url,
                consumer_key=FakeWoo.KEY,
                consumer_secret=FakeWoo.SECRET,
            ),
        }
        goals = {"shopify": SKUS // 250, "woocommerce": SKUS // 100}
        for platform, channel in channels.items():
            link = channel_link_listings(channel=channel)
            started = time.perf_counter()
            report = channel_stock_push(channel=channel, full=True)
            seconds = time.perf_counter() - started
            assert len(report.sent) == SKUS and not report.failed, report.failed
            rows.append(
                row(
                    f"channels.full_resync_{platform}_calls",
                    report.calls,
                    "calls",
                    f"{SKUS:,} SKUs; linking read the catalogue in {link.calls} calls",
                    f"= {goals[platform]} (the batch minimum)",
                )
            )
            rows.append(
                row(
                    f"channels.full_resync_{platform}_seconds",
                    round(seconds, 3),
                    "s",
                    f"{SKUS:,} SKUs, {SKUS / seconds:,.0f} SKUs/s",
                )
            )
        assert shopify.available("SKU-09999") == 1 + 9999 % 50
        assert woo.stock("SKU-09999") == 1 + 9999 % 50
    finally:
        shopify.stop()
        woo.stop()


class _TimedShopify:
    """A fake Shopify that notes when each quantity arrives."""

    def __init__(self):
        from tests.intake.fakes import FakeShopify

        class Timed(FakeShopify):
            def _set_quantities(inner, query, variables, version):
                arrived = time.perf_counter()
                for q in (variables.get("input") or {}).get("quantities") or []:
                    inner.arrivals.append((arrived, q["quantity"]))
                return super()._set_quantities(query, variables, version)

        self.store = Timed()
        self.store.arrivals = []


def _latency(url, rows, warehouse, product):
    from intake.sync.listings import channel_link_listings
    from inventory.services import stock_reserve
    from orders.models import Channel
    from tests.intake.fakes import FakeShopify

    timed = _TimedShopify()
    store = timed.store.start()
    store.add_variant(product.sku, 1)
    channel = Channel.objects.create(
        code="bench-latency",
        name="Latency",
        platform="shopify",
        api_url=store.url,
        access_token=FakeShopify.TOKEN,
        push_stock=True,
    )
    channel_link_listings(channel=channel)
    from inventory.services import stock_receive

    stock_receive(product=product, warehouse=warehouse, quantity=CHANGES * 5)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "Q_WORKERS": "2",
        "Q_SYNC": "0",
    }
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        from inventory.models import StockLevel

        def available():
            lv = StockLevel.objects.get(product=product, warehouse=warehouse)
            return lv.on_hand - lv.reserved

        from intake.sync import wiring

        wiring.forget_cache()  # the channel that pushes was created just now
        # Warm up: the cluster is up once a first push lands.
        stock_reserve(product=product, warehouse=warehouse, quantity=1)
        deadline = time.monotonic() + 60
        while not store.arrivals and time.monotonic() < deadline:
            time.sleep(0.05)
        if not store.arrivals:
            raise SystemExit("the q2 cluster pushed nothing within 60 s")
        time.sleep(0.5)
        commits = []
        for _ in range(CHANGES):
            stock_reserve(product=product, warehouse=warehouse, quantity=1)
            commits.append((time.perf_counter(), available()))
            time.sleep(PACE_SECONDS)
        deadline = time.monotonic() + 30
        final = commits[-1][1]
        while time.monotonic() < deadline and not any(q <= final for _, q in store.arrivals):
            time.sleep(0.05)
        latencies = []
        for committed, quantity in commits:
            seen = [t for t, q in list(store.arrivals) if t >= committed and q <= quantity]
            if not seen:
                raise SystemExit(f"a change to {quantity} never reached the store")
            latencies.append(min(seen) - committed)
        latencies.sort()
        p50 = statistics.median(latencies)
        p95 = latencies[int(len(latencies) * 0.95) - 1]
        pushes = sum(1 for _ in {t for t, _ in store.arrivals})
        reference = (
            f"{CHANGES} reservations {PACE_SECONDS * 1000:.0f} ms apart, q2 ORM broker, 2 workers; "
            f"{pushes} pushes (coalesced); max {latencies[-1]:.3f} s"
        )
        rows.append(row("channels.commit_to_push_p50", round(p50, 3), "s", reference))
        rows.append(row("channels.commit_to_push_p95", round(p95, 3), "s", reference, "< 2 s"))
        assert store.available(product.sku) == final
    finally:
        cluster.terminate()
        try:
            cluster.wait(timeout=20)
        except subprocess.TimeoutExpired:
            cluster.kill()
        store.stop()


def run() -> list[dict]:
    url = recreate_database(DBNAME)
    try:
        migrate(url)
        setup_django(url, "bench.settings")
        rows: list[dict] = []
        started = time.perf_counter()
        warehouse, products = _catalogue()
        print(f"catalogue of {SKUS:,} SKUs in {time.perf_counter() - started:.1f} s", flush=True)
        _full_resync(rows)
        for r in rows:
            print(r, flush=True)
        from django.db import connection

        connection.close()
        _latency(url, rows, warehouse, products[0])
        connection.close()
        return rows
    finally:
        drop_database(DBNAME)


if __name__ == "__main__":
    from bench.common import print_table

    print_table(run(), "channel sync")
