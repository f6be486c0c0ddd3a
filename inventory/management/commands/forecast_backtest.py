"""``manage.py forecast_backtest``: how accurate is the demand forecast on our history?

Backtests every series (per SKU over all points by default; ``--level warehouse`` per
SKU and point) over the holdout and prints, per series and pooled, the WAPE of the
chosen method and of the naive baselines. ``--save`` also stores the forecasts (what
the nightly job does). Deterministic: the same history prints the same figures.
"""

import json

from django.core.management.base import BaseCommand

from inventory.forecasting import BASELINES, backtest_all, demand_history, forecast_refresh
from inventory.models import Product, Warehouse


def _pct(value) -> str:
    return "     -" if value is None else f"{value * 100:5.1f}%"


class Command(BaseCommand):
    help = "Backtest the demand forecast on the order history and print WAPE per SKU."

    def add_arguments(self, parser):
        parser.add_argument("--level", choices=["sku", "warehouse"], default="sku")
        parser.add_argument("--holdout", type=int, default=None, help="days (default 28)")
        parser.add_argument("--days", type=int, default=None, help="history window in days")
        parser.add_argument("--top", type=int, default=50, help="series printed (by volume)")
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.add_argument("--save", action="store_true", help="store the forecasts too")

    def handle(self, *args, **options):
        history = demand_history(days=options["days"])
        wanted = {
            key: value
            for key, value in history.items()
            if (key[1] is None) == (options["level"] == "sku")
        }
        report = backtest_all(wanted, holdout=options["holdout"])
        skus = dict(Product.objects.values_list("pk", "sku"))
        codes = dict(Warehouse.objects.values_list("pk", "code"))
        rows = [
            {
                "sku": skus.get(s.key[0], s.key[0]),
                "warehouse": codes.get(s.key[1], "") if s.key[1] else "",
                "method": s.method,
                "days": s.days,
                "units": s.total_units,
                "zero_share": round(s.zero_share, 3),
                "wape": s.wape,
                **{name: w for name, w in s.baseline_wapes().items()},
            }
            for s in report.series
        ]
        overall = report.overall()
        if options["json"]:
            self.stdout.write(
                json.dumps({"series": rows, "overall": overall, "methods": report.method_counts()})
            )
        else:
            self.stdout.write(
                f"{'sku':<20} {'point':<8} {'method':<12} {'units':>7} {'zeros':>6} "
                f"{'ours':>6} {'naive':>6} {'ma28':>6}"
            )
            top = sorted(rows, key=lambda r: -r["units"])[: options["top"]]
            for r in top:
                self.stdout.write(
                    f"{r['sku']:<20} {r['warehouse']:<8} {r['method']:<12} {r['units']:>7.0f} "
                    f"{r['zero_share']:>6.2f} {_pct(r['wape'])} "
                    + " ".join(_pct(r.get(name)) for name in BASELINES)
                )
            self.stdout.write(f"Series: {len(rows)}; methods: {report.method_counts()}")
            for name, figures in overall.items():
                self.stdout.write(
                    f"Overall {name:<15} WAPE {_pct(figures['wape'])}  "
                    f"weekly-total WAPE {_pct(figures['wape_week'])}  "
                    f"bias {_pct(figures['bias'])}  over {figures['units']:.0f} units"
                )
        if options["save"]:
            summary = forecast_refresh()
            self.stdout.write(f"Stored {summary['series']} forecasts.")
