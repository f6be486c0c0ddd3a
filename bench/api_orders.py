"""API benchmark: gunicorn (DEBUG off, PostgreSQL) driven by 16 keep-alive clients.

(a) a no-op DRF POST (bench settings only) is the reference: the cost of the stack;
(b) POST /api/v1/orders/ placing a 3-line order on an auto-confirming channel, so
    placement, confirmation, routing, reservations, events and ledger rows all run.
Prints requests/s, p50/p95 latency, the ratio (b)/(a) and the ledger check afterwards.

    .venv/bin/python bench/api_orders.py [--seconds 10] [--workers 4] [--clients 16]
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, drop_database, migrate, print_table, recreate_database, row  # noqa: E402
from bench.loadgen import run_load  # noqa: E402

# BENCH_API_DB lets parallel checkouts on one server each use their own scratch database
DB = os.environ.get("BENCH_API_DB", "oms_bench_api")
SKUS = [f"BENCH-{i:03d}" for i in range(60)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(url: str) -> str:
    """Products, three stocked warehouses, an auto-confirming channel, a token."""
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "oms.settings"}
    code = f"""
import django; django.setup()
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from inventory.models import Product, Warehouse
from inventory.services import stock_receive
from orders.models import Channel
whs = [Warehouse.objects.create(code=c, name=c, country="BR", region=r, priority=p)
       for c, r, p in (("SP-01", "SP", 1), ("RJ-01", "RJ", 2), ("MG-01", "MG", 3))]
for sku in {SKUS!r}:
    p = Product.objects.create(sku=sku, name=sku, price="10.00", weight_grams=300)
    for w in whs:
        stock_receive(product=p, warehouse=w, quantity=1_000_000)
Channel.objects.create(code="bench-auto", name="Bench", auto_confirm=True)
u = User.objects.create_user("bench", password="bench-pass-123")
u.groups.add(Group.objects.get(name="integration"))
print(Token.objects.create(user=u).key)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


def start_gunicorn(url: str, port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "CONN_MAX_AGE": "60",
        "DEBUG": "0",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "oms.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
            "--keep-alive",
            "5",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
            return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def ledger_check(url: str) -> tuple[int, int]:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "oms.settings"}
    code = """
import django; django.setup()
from inventory.selectors import stock_ledger_mismatches
from orders.models import Order
print(len(stock_ledger_mismatches()), Order.objects.count())
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    mismatches, orders = out.stdout.split()
    return int(mismatches), int(orders)


def run(seconds: float = 10.0, workers: int = 4, clients: int = 16) -> list[dict]:
    url = recreate_database(DB)
    proc = None
    try:
        migrate(url)
        token = prepare(url)
        port = free_port()
        proc = start_gunicorn(url, port, workers)
        # warm up both endpoints (imports, connections)
        run_load(
            port=port, path="/bench/noop/", body_kind={"kind": "noop"}, seconds=1, clients=clients
        )
        noop = run_load(
            port=port,
            path="/bench/noop/",
            body_kind={"kind": "noop"},
            seconds=seconds,
            clients=clients,
        )
        orders = run_load(
            port=port,
            path="/api/v1/orders/",
            token=token,
            seconds=seconds,
            clients=clients,
            body_kind={"kind": "order", "skus": SKUS, "channel": "bench-auto"},
        )
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    mismatches, placed = ledger_check(url)
    drop_database(DB)
    ratio = orders["rps"] / noop["rps"] * 100 if noop["rps"] else 0.0
    rows = [
        row(
            "api: no-op DRF POST (reference)",
            noop["rps"],
            "req/s",
            f"p50 {noop['p50_ms']:.1f} ms, p95 {noop['p95_ms']:.1f} ms",
        ),
        row(
            "api: POST orders/ (3 lines, auto-confirm)",
            orders["rps"],
            "orders/s",
            f"p50 {orders['p50_ms']:.1f} ms, p95 {orders['p95_ms']:.1f} ms, "
            f"{orders['errors']} errors",
            "goal >= 8% of no-op, p95 < 100 ms",
        ),
        row("api: orders/s as % of no-op", ratio, "%", "", "goal >= 8%"),
        row("api: ledger mismatches after the run", mismatches, "rows", "", "goal 0"),
        row(
            "api: orders in database vs 2xx answers",
            placed - orders["requests"],
            "diff",
            f"{placed} orders, {orders['requests']} answers",
            "goal 0",
        ),
    ]
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    print_table(run(args.seconds, args.workers, args.clients), "API benchmark")
