"""CSV import/export benchmark (PostgreSQL). Not a test; run it as

    .venv/bin/python bench/csv_import.py

It creates a scratch database (``oms_bench_csv`` on the server of BENCH_DATABASE_URL,
default postgresql://postgres@127.0.0.1:5432/oms_bench_csv), migrates it, and measures:

1. raw psycopg COPY of a generated 100,000-row stock file into a scratch table (the
   reference every other figure is compared with; the median of 5 runs);
2. ``manage.py import_products`` of the 20,000 products (setup, reported too);
3. ``manage.py import_stock`` of the 100,000 stock rows (20,000 SKUs x 5 warehouses,
   all new levels, each with its ledger row); goal >= 5% of the COPY rate;
4. ``import_stock`` again with every count changed (the update path);
5. ``manage.py import_orders`` of 100,000 lines (~35,000 orders); goal >= 1% of COPY;
6. ``manage.py export_orders`` of them to a file; goal >= 20,000 rows/s with a peak
   memory (max RSS of the process) under 300 MB.

Import rates are the commands' own timings (reading, validating and writing the file,
without the interpreter's start-up); the export rate is the command's too, its memory the
max RSS of the whole process. The database is dropped at the end. ``run()`` returns
the figures for bench/run_all.py.
"""

from __future__ import annotations

import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/oms_bench_csv"
PRODUCTS = 20_000
WAREHOUSES = 5
ORDER_LINES = 100_000
COPY_RUNS = 5
STEP_TIMEOUT = 300  # seconds; the whole run takes about a minute
SUMMARY_RE = re.compile(r"; ([\d.]+) s, [\d,]+ rows/s")
EXPORT_RE = re.compile(r": (\d+) rows in ([\d.]+) s")
PHASES_RE = re.compile(r"phases: (.*)")


def _urls() -> tuple[str, str, str]:
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "oms_bench_csv"
    admin = urlunsplit(parts._replace(path="/postgres", query=""))
    return url, admin, name


def _generate(folder: Path) -> dict[str, Path]:
    rng = random.Random(42)
    skus = [f"BENCH-{i:06d}" for i in range(PRODUCTS)]
    codes = [f"W{i}" for i in range(1, WAREHOUSES + 1)]
    files = {}
    files["products"] = folder / "products.csv"
    with files["products"].open("w", newline="") as out:
        out.write(
            "sku,name,barcode,price,weight_grams,length_cm,width_cm,height_cm,"
            "lead_time_days,active\n"
        )
        for i, sku in enumerate(skus):
            out.write(
                f"{sku},Bench product {i},{7890000000000 + i},{rng.randint(100, 99999) / 100:.2f},"
                f"{rng.randint(50, 5000)},10.0,20.0,5.5,7,true\n"
            )
    for name, offset in (("stock", 0), ("stock2", 3)):
        files[name] = folder / f"{name}.csv"
        with files[name].open("w", newline="") as out:
            out.write("sku,warehouse,on_hand,bin,reorder_point\n")
            for i, sku in enumerate(skus):
                for j, code in enumerate(codes):
                    out.write(
                        f"{sku},{code},{(i * 7 + j * 13) % 500 + offset},"
                        f"A-{i % 40:02d}-{j},{(i + j) % 20}\n"
                    )
    files["orders"] = folder / "orders.csv"
    with files["orders"].open("w", newline="") as out:
        out.write(
            "channel,external_id,placed_at,customer_email,customer_name,ship_name,"
            "ship_line1,ship_line2,ship_city,ship_region,ship_postcode,ship_country,"
            "currency,sku,quantity,unit_price,shipping_total\n"
        )
        written = order = 0
        while written < ORDER_LINES:
            order += 1
            n = min(rng.choice((1, 1, 2, 2, 3, 3, 4, 5, 6, 2)), ORDER_LINES - written)
            customer = rng.randint(1, 20_000)
            head = (
                f"csv,B{order:07d},2026-11-{rng.randint(1, 25):02d}T{rng.randint(0, 23):02d}:"
                f"{rng.randint(0, 59):02d}:00Z,buyer{customer}@example.com,Buyer {customer},"
                f"Buyer {customer},Rua {customer} 1,,Campinas,SP,13000-{customer % 1000:03d},"
                "BR,BRL"
            )
            shipping = f"{rng.randint(0, 3000) / 100:.2f}"
            for sku in rng.sample(skus, n):
                out.write(
                    f"{head},{sku},{rng.randint(1, 4)},{rng.randint(100, 20000) / 100:.2f},"
                    f"{shipping}\n"
                )
            written += n
        files["orders_count"] = order
    return files


def _manage(url: str, *args: str) -> str:
    """Run manage.py in a subprocess; returns its output."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": "bench",
        "ALLOWED_HOSTS": "localhost",
    }
    proc = subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = proc.communicate(timeout=STEP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise SystemExit(f"manage.py {' '.join(args)} took over {STEP_TIMEOUT} s") from None
    if proc.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{output}")
    return output


def _manage_measured(url: str, *args: str) -> tuple[str, float]:
    """Run manage.py and return (output, max RSS in MB) of exactly that process."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": "bench",
        "ALLOWED_HOSTS": "localhost",
    }
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=log, stderr=log
        )
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                raise SystemExit(f"manage.py {' '.join(args)} took over {STEP_TIMEOUT} s")
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read()
    if proc.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{output}")
    return output, rusage.ru_maxrss / 1024  # KB on Linux


def _seconds(output: str) -> float:
    match = SUMMARY_RE.search(output)
    if not match:
        raise SystemExit(f"no timing in the command's output:\n{output}")
    return float(match.group(1))


def _phases(output: str) -> str:
    match = PHASES_RE.search(output)
    return f" [{match.group(1)}]" if match else ""


def run() -> list[dict]:
    url, admin_url, name = _urls()
    figures: list[dict] = []

    goals = {
        "csv.import_stock": ">= 5% of the COPY rate",
        "csv.import_orders": ">= 1% of the COPY rate",
        "csv.export_orders": ">= 20,000 rows/s",
        "csv.export_orders_peak_memory": "< 300 MB",
    }

    def add(label, value, unit, reference="", out=""):
        reference += _phases(out)
        figures.append(
            {
                "name": label,
                "value": round(value, 3),
                "unit": unit,
                "reference": reference,
                "goal": goals.get(label, ""),
            }
        )
        print(f"{label:<34} {value:>12,.1f} {unit:<8} {reference}", flush=True)

    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        started = time.perf_counter()
        _manage(url, "migrate", "--noinput", "-v0")
        print(f"scratch database {name} migrated in {time.perf_counter() - started:.1f} s")
        with tempfile.TemporaryDirectory(prefix="oms-bench-csv-") as tmp:
            files = _generate(Path(tmp))
            stock_rows = PRODUCTS * WAREHOUSES

            # 1. the reference: raw COPY of the stock file into a scratch table
            data = files["stock"].read_bytes()
            # One COPY takes ~0.05 s, so a single timing swings by +-30% with whatever
            # else the machine does: the reference is the median of COPY_RUNS runs.
            with psycopg.connect(url) as conn:
                timings = []
                for _ in range(COPY_RUNS):
                    conn.execute(
                        "CREATE TABLE bench_copy (sku text, warehouse text, "
                        "on_hand integer, bin text, reorder_point integer)"
                    )
                    t0 = time.perf_counter()
                    with conn.cursor().copy(
                        "COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)"
                    ) as copy:
                        copy.write(data)
                    timings.append(time.perf_counter() - t0)
                    conn.execute("DROP TABLE bench_copy")
                copy_seconds = statistics.median(timings)
                for i in range(1, WAREHOUSES + 1):
                    conn.execute(
                        "INSERT INTO inventory_warehouse (code, name, kind, country, region, "
                        "city, postcode, priority, active) VALUES "
                        "(%s, %s, 'warehouse', 'BR', 'SP', 'Campinas', '', %s, true)",
                        [f"W{i}", f"Bench warehouse {i}", i],
                    )
            copy_rate = stock_rows / copy_seconds
            add(
                "csv.copy_reference",
                copy_rate,
                "rows/s",
                f"raw psycopg COPY of {stock_rows:,} stock rows in {copy_seconds:.3f} s "
                f"(median of {COPY_RUNS}; fastest {min(timings):.3f} s, "
                f"slowest {max(timings):.3f} s)",
            )

            # 2. products (setup)
            out = _manage(url, "import_products", str(files["products"]), "--no-progress")
            seconds = _seconds(out)
            add(
                "csv.import_products",
                PRODUCTS / seconds,
                "rows/s",
                f"{PRODUCTS:,} new products in {seconds:.2f} s",
                out=out,
            )

            # 3. stock, every level new
            out = _manage(url, "import_stock", str(files["stock"]), "--no-progress")
            seconds = _seconds(out)
            rate = stock_rows / seconds
            add(
                "csv.import_stock",
                rate,
                "rows/s",
                f"{stock_rows:,} rows in {seconds:.2f} s; {100 * rate / copy_rate:.1f}% of "
                f"COPY (goal >= 5%)",
                out=out,
            )

            # 4. stock again, every count changed (lock + ledger + update)
            out = _manage(url, "import_stock", str(files["stock2"]), "--no-progress")
            seconds = _seconds(out)
            rate = stock_rows / seconds
            add(
                "csv.import_stock_update",
                rate,
                "rows/s",
                f"{stock_rows:,} changed counts in {seconds:.2f} s; {100 * rate / copy_rate:.1f}% "
                "of COPY",
                out=out,
            )

            # 5. orders
            out = _manage(url, "import_orders", str(files["orders"]), "--no-progress")
            seconds = _seconds(out)
            rate = ORDER_LINES / seconds
            add(
                "csv.import_orders",
                rate,
                "lines/s",
                f"{ORDER_LINES:,} lines, {files['orders_count']:,} orders in {seconds:.2f} s; "
                f"{100 * rate / copy_rate:.2f}% of COPY (goal >= 1%)",
                out=out,
            )

            # 6. export of the orders, with the peak memory of the process
            target = Path(tmp) / "export.csv"
            out, max_rss = _manage_measured(
                url, "export_orders", "-o", str(target), "--no-progress"
            )
            match = EXPORT_RE.search(out)
            rows, seconds = int(match.group(1)), float(match.group(2))
            add(
                "csv.export_orders",
                rows / seconds,
                "rows/s",
                f"{rows:,} rows in {seconds:.2f} s (goal >= 20,000 rows/s)",
            )
            add(
                "csv.export_orders_peak_memory",
                max_rss,
                "MB",
                "max RSS of the export process (goal < 300 MB)",
            )
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return figures


if __name__ == "__main__":
    run()
