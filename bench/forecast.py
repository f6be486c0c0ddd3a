"""Forecast benchmark (issue 8): backtest WAPE of our methods against the naive baselines
on real demand (the Olist sample) and on synthetic series with a known weekly pattern.

    .venv/bin/python bench/forecast.py [--holdout 28] [--olist PATH]

Real data: ``../shared/data/olist-sample/olist_order_items_dataset.csv`` (CC BY-NC-SA
4.0, read here at run time, never copied into the repository). Each row is one unit
sold; its day is the date of ``shipping_limit_date`` (the seller's ship-by, a few days
after the purchase: the purchase timestamp is in another file whose sample only partly
matches). Three levels, from 2017-01-01 to 2018-08-31:

* ``total``: all units per day (the marketplace as one SKU family);
* ``seller``: units per day of each seller with at least 20 lines (the sellers are
  the fulfillment points of a marketplace);
* ``product``: units per day of each product with at least 5 lines (intermittent: the
  sample holds about 1 line in 20 of the original).

For each level: WAPE (sum |error| / sum actual, pooled over the series) of our per-series
choice and of the baselines (last value, 28-day moving average) over the holdout
(rolling origin, 7-day steps), plus the WAPE of the 7-day totals (what a reorder decision
sees) and the methods chosen. ``run() -> list[dict]`` returns the figures as rows for
``bench/run_all.py``.
"""

import argparse
import csv
import os
import random
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")

OLIST = ROOT / ".." / "shared" / "data" / "olist-sample"
FIRST, LAST = date(2017, 1, 1), date(2018, 8, 31)
MIN_SELLER_LINES, MIN_PRODUCT_LINES = 20, 5
PATTERN = (1.5, 1.3, 1.1, 1.0, 1.0, 0.6, 0.5)


def olist_rows(folder: Path = OLIST) -> list[tuple[str, str, date]]:
    """(product_id, seller_id, day) per unit sold, inside [FIRST, LAST]."""
    rows = []
    with open(folder / "olist_order_items_dataset.csv", newline="", encoding="utf-8") as fh:
        for item in csv.DictReader(fh):
            day = date.fromisoformat(item["shipping_limit_date"][:10])
            if FIRST <= day <= LAST:
                rows.append((item["product_id"], item["seller_id"], day))
    return rows


def olist_series(folder: Path = OLIST) -> dict[str, dict]:
    """``{level: {key: (start, daily units)}}`` for the three levels of the docstring."""
    from inventory.forecasting import series_from_rows

    rows = olist_rows(folder)
    sellers = Counter(seller for _, seller, _ in rows)
    products = Counter(product for product, _, _ in rows)
    total = series_from_rows([(("total",), day, 1) for _, _, day in rows], end=LAST)
    by_seller = series_from_rows(
        [((s,), day, 1) for _, s, day in rows if sellers[s] >= MIN_SELLER_LINES], end=LAST
    )
    by_product = series_from_rows(
        [((p,), day, 1) for p, _, day in rows if products[p] >= MIN_PRODUCT_LINES], end=LAST
    )
    return {"total": total, "seller": by_seller, "product": by_product}


def synthetic_series(count: int = 20, weeks: int = 26) -> dict:
    """Weekly pattern (Mon 1.5 .. Sun 0.5) around 5-40 units a day with noise."""
    rng = random.Random(20261126)
    monday = date(2026, 1, 5)
    series = {}
    for i in range(count):
        base = rng.uniform(5, 40)
        values = [
            max(0, round(rng.gauss(base * PATTERN[d % 7], base * 0.15))) for d in range(weeks * 7)
        ]
        series[(f"synthetic-{i}",)] = (monday, values)
    return series


def evaluate(series: dict, holdout: int) -> dict:
    from inventory.forecasting import backtest_all

    t0 = time.perf_counter()
    report = backtest_all(series, holdout=holdout)
    seconds = time.perf_counter() - t0
    return {
        "series": len(report.series),
        "overall": report.overall(),
        "methods": report.method_counts(),
        "seconds": seconds,
    }


def rows_for(label: str, result: dict, holdout: int) -> list[dict]:
    from bench.common import row

    o = result["overall"]

    def pct(name, key="wape"):
        value = o[name][key]
        return round(value * 100, 1) if value is not None else float("nan")

    ref = (
        f"naive {pct('naive')}%, moving average {pct('moving_average')}%; "
        f"{result['series']} series, {o['ours']['units']:.0f} units in the {holdout}-day "
        f"holdout; methods {result['methods']}"
    )
    weekly = (
        f"naive {pct('naive', 'wape_week')}%, moving average {pct('moving_average', 'wape_week')}%"
    )
    return [
        row(f"{label}: WAPE ours", pct("ours"), "%", ref, "below both baselines"),
        row(f"{label}: WAPE of 7-day totals, ours", pct("ours", "wape_week"), "%", weekly, ""),
    ]


def run(holdout: int = 28, folder: Path = OLIST) -> list[dict]:
    from bench.common import row

    rows = []
    synthetic = evaluate(synthetic_series(), holdout)
    rows += rows_for("synthetic weekly", synthetic, holdout)
    if (folder / "olist_order_items_dataset.csv").exists():
        levels = olist_series(folder)
        seconds = 0.0
        count = 0
        for level in ("total", "seller", "product"):
            result = evaluate(levels[level], holdout)
            rows += rows_for(f"olist {level}", result, holdout)
            seconds += result["seconds"]
            count += result["series"]
        rows.append(
            row("olist backtest speed", round(count / seconds, 1), "series/s", f"{count} series")
        )
    else:
        rows.append(row("olist", 0, "", f"no data at {folder}", "skipped"))
    return rows


def main() -> None:
    from bench.common import print_table

    parser = argparse.ArgumentParser()
    parser.add_argument("--holdout", type=int, default=28)
    parser.add_argument("--olist", type=Path, default=OLIST)
    args = parser.parse_args()
    rows = run(args.holdout, args.olist)
    print_table(rows, "Forecast backtest (WAPE, lower is better)")
    for r in rows:
        if r["reference"]:
            print(f"  {r['name']}: {r['reference']}")


if __name__ == "__main__":
    main()
