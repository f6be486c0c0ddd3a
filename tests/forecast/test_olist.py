"""The backtest on real demand: the Olist sample (read from the shared folder at test
time, never copied into the repository; skipped when it is not there)."""

from pathlib import Path

import pytest

from bench.forecast import olist_series
from inventory.forecasting import INTERMITTENT, backtest_all

OLIST = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "olist-sample"

pytestmark = pytest.mark.skipif(
    not (OLIST / "olist_order_items_dataset.csv").exists(), reason=f"no Olist sample at {OLIST}"
)


@pytest.fixture(scope="module")
def levels():
    return olist_series(OLIST)


def test_total_daily_demand_beats_both_baselines(levels):
    report = backtest_all(levels["total"], holdout=28)
    overall = report.overall()
    print({name: round(v["wape"], 3) for name, v in overall.items()})
    assert report.method_counts() == {"ses_weekday": 1}  # marketplace demand is weekly
    assert overall["ours"]["wape"] < overall["naive"]["wape"]
    assert overall["ours"]["wape"] < overall["moving_average"]["wape"]


def test_sparse_products_use_intermittent_methods_and_beat_last_value(levels):
    report = backtest_all(levels["product"], holdout=28)
    assert set(report.method_counts()) <= set(INTERMITTENT)
    overall = report.overall()
    print({name: round(v["wape"], 3) for name, v in overall.items()})
    assert overall["ours"]["wape_week"] < overall["naive"]["wape_week"]


def test_olist_backtest_is_reproducible(levels):
    first = backtest_all(levels["seller"], holdout=28)
    second = backtest_all(olist_series(OLIST)["seller"], holdout=28)
    assert first.overall() == second.overall()
    assert [(s.key, s.method, s.wape) for s in first.series] == [
        (s.key, s.method, s.wape) for s in second.series
    ]
