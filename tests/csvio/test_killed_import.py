"""A stock import killed mid-way leaves nothing behind (one transaction), and a re-run
succeeds. PostgreSQL only: the import runs in a subprocess against the test database."""

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from inventory.models import Product, StockLevel, StockMovement
from inventory.selectors import stock_ledger_mismatches
from tests.conftest import postgres_only
from tests.csvio.conftest import csv_bytes
from tests.factories import make_warehouse, receive

ROOT = Path(__file__).resolve().parents[2]
APP = "oms_csv_kill_test"
PRODUCTS = 2000
WAREHOUSES = 4


def _conninfo() -> str:
    s = connection.settings_dict
    return psycopg.conninfo.make_conninfo(
        dbname=s["NAME"],
        user=s["USER"] or None,
        password=s["PASSWORD"] or None,
        host=s["HOST"] or None,
        port=s["PORT"] or None,
    )


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return (
        f"postgresql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        f"?application_name={APP}"
    )


def _backend(cursor):
    cursor.execute(
        "SELECT pid, wait_event_type, backend_xid IS NOT NULL FROM pg_stat_activity "
        "WHERE application_name = %s",
        [APP],
    )
    return cursor.fetchone()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_killed_stock_import_leaves_nothing_and_a_rerun_succeeds(tmp_path):
    warehouses = [make_warehouse(f"K{i}", priority=i) for i in range(WAREHOUSES)]
    Product.objects.bulk_create(
        [Product(sku=f"K-{i:05d}", name=f"Kill {i}", price=1) for i in range(PRODUCTS)]
    )
    first = Product.objects.get(sku="K-00000")
    receive(first, warehouses[0], 5, reference="PO-1")
    level = StockLevel.objects.get()
    rows = [
        [f"K-{i:05d}", w.code, str(3 + i % 7), f"B-{i % 50}", ""]
        for i in range(PRODUCTS)
        for w in warehouses
    ]
    path = tmp_path / "stock.csv"
    path.write_bytes(csv_bytes(["sku", "warehouse", "on_hand", "bin", "reorder_point"], rows))

    # Hold a lock on the one existing level the file changes: the import creates its
    # new levels and movements first, then waits for that lock, mid-transaction.
    locker = psycopg.connect(_conninfo())
    locker.execute("SELECT id FROM inventory_stocklevel WHERE id = %s FOR UPDATE", [level.pk])
    env = {**os.environ, "DATABASE_URL": _database_url(), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "import_stock", str(path), "--no-progress"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    watcher = psycopg.connect(_conninfo(), autocommit=True)
    try:
        deadline = time.monotonic() + 60
        state = None
        while time.monotonic() < deadline and proc.poll() is None:
            state = _backend(watcher.cursor())
            if state and state[1] == "Lock" and state[2]:
                break  # it has written and now waits for our lock: mid-way
            time.sleep(0.02)
        assert state and state[1] == "Lock" and state[2], (
            f"the import never got mid-way: {state}, "
            f"{proc.stdout.read().decode() if proc.poll() is not None else ''}"
        )
        backend_pid = state[0]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        locker.rollback()
        locker.close()
    # The server ends the orphaned backend once it notices the client is gone.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _backend(watcher.cursor()):
        time.sleep(0.05)
    if _backend(watcher.cursor()):
        watcher.execute("SELECT pg_terminate_backend(%s)", [backend_pid])
    watcher.close()

    assert StockLevel.objects.count() == 1
    assert list(StockMovement.objects.values_list("kind", "on_hand_delta")) == [("receipt", 5)]
    assert StockLevel.objects.get().on_hand == 5
    assert stock_ledger_mismatches() == []

    call_command("import_stock", str(path), "--no-progress", stdout=io.StringIO())
    assert StockLevel.objects.count() == PRODUCTS * WAREHOUSES
    assert StockMovement.objects.filter(kind="import").count() == PRODUCTS * WAREHOUSES
    assert stock_ledger_mismatches() == []
