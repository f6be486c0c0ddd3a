"""inventory.forecasting: methods, per-series choice, backtest, demand history."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from inventory.forecasting import (
    BASELINES,
    FITTERS,
    Fit,
    backtest,
    backtest_all,
    demand_history,
    fit_croston,
    fit_sba,
    fit_ses_weekday,
    fit_tsb,
    forecast_refresh,
    forecast_series,
    series_from_rows,
    weekday_factors,
)
from inventory.models import DemandForecast
from tests import factories as f

MONDAY = date(2026, 1, 5)
PATTERN = (1.5, 1.3, 1.1, 1.0, 1.0, 0.6, 0.5)  # Monday..Sunday


def weekly_series(seed: int, *, weeks: int = 26, base: float = 20.0) -> list[float]:
    """Known weekly pattern with noise, whole units."""
    rng = random.Random(seed)
    return [max(0, round(rng.gauss(base * PATTERN[i % 7], 2.5))) for i in range(weeks * 7)]


def intermittent_series(seed: int, *, days: int = 180, p: float = 0.12) -> list[float]:
    rng = random.Random(seed)
    return [rng.randint(1, 4) if rng.random() < p else 0 for _ in range(days)]


# --------------------------------------------------------------------------- methods


def test_weekday_factors_recover_the_known_pattern():
    factors = weekday_factors([20 * PATTERN[i % 7] for i in range(84)], MONDAY)
    norm = sum(PATTERN) / 7
    # 12 observations per weekday against a prior of 2: each index is 6/7 of the way
    for got, true in zip(factors, PATTERN, strict=True):
        assert got == pytest.approx(true / norm, abs=0.08)
    assert sum(factors) / 7 == pytest.approx(1.0)


def test_ses_weekday_forecast_follows_the_weekday_shape():
    y = [20 * PATTERN[i % 7] for i in range(84)]
    fit = fit_ses_weekday(y, MONDAY)
    monday, sunday = MONDAY + timedelta(days=84), MONDAY + timedelta(days=90)
    assert fit.predict(monday) > 2 * fit.predict(sunday)
    assert fit.total(monday, 7) == pytest.approx(sum(y[-7:]), rel=0.02)


def test_croston_sba_and_tsb_by_hand():
    # demands of 4 every 4th day: size 4, interval 4 -> 1 unit/day; SBA 0.95 of it
    y = [0, 0, 0, 4] * 10
    assert fit_croston(y, MONDAY).level == pytest.approx(1.0)
    assert fit_sba(y, MONDAY).level == pytest.approx(0.95)
    # TSB: probability starts at 1/4 and is smoothed every day (beta 0.05)
    p = 0.25
    for value in y:
        p += 0.05 * ((1 if value else 0) - p)
    assert fit_tsb(y, MONDAY).level == pytest.approx(4 * p)
    # after a long run without sales TSB decays, Croston does not
    quiet = y + [0] * 60
    assert fit_tsb(quiet, MONDAY).level < 0.1 < fit_croston(quiet, MONDAY).level


def test_backtest_wape_by_hand():
    # flat forecast 10 (naive: last value) against 8, 12 each week -> |2| per day
    y = [10.0] * 14 + [8.0, 12.0] * 7
    score = backtest("naive", y, MONDAY, holdout=14, step=7)
    assert score.actual == 140
    assert score.wape == pytest.approx(sum(abs(p - a) for p, a in _naive_pairs(y)) / 140)


def _naive_pairs(y):
    pairs = []
    for origin in (14, 21):
        last = y[origin - 1]
        pairs += [(last, y[t]) for t in range(origin, origin + 7)]
    return pairs


# --------------------------------------------------------------------------- choice


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_weekly_pattern_beats_the_naive_baselines_on_the_holdout(seed):
    result = forecast_series("sku", weekly_series(seed), MONDAY, holdout=28)
    assert result.method == "ses_weekday"
    assert not result.intermittent
    ours = result.scores["ours"].wape
    for name in BASELINES:
        assert ours < result.scores[name].wape, (name, ours, result.scores[name].wape)
    assert ours < 0.15


def test_pooled_wape_of_weekly_series_beats_each_baseline_by_a_margin():
    series = {(i, None): (MONDAY, weekly_series(100 + i)) for i in range(10)}
    overall = backtest_all(series, holdout=28).overall()
    assert overall["ours"]["wape"] < 0.75 * overall["naive"]["wape"]
    assert overall["ours"]["wape"] < 0.75 * overall["moving_average"]["wape"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_intermittent_series_use_the_intermittent_method(seed):
    result = forecast_series("sku", intermittent_series(seed), MONDAY, holdout=28)
    assert result.intermittent
    assert result.zero_share > 0.5
    assert result.method in ("croston", "sba", "tsb")
    assert set(result.validation) == {"croston", "sba", "tsb"}
    assert result.fit == FITTERS[result.method](intermittent_series(seed), MONDAY)


def test_backtest_numbers_are_reproducible():
    series = {
        **{(i, None): (MONDAY, weekly_series(i)) for i in range(4)},
        **{(10 + i, None): (MONDAY, intermittent_series(i)) for i in range(4)},
    }
    first = backtest_all(series, holdout=28)
    second = backtest_all(dict(reversed(list(series.items()))), holdout=28)
    assert first.overall() == second.overall()
    assert [(s.key, s.method, s.wape, s.sigma) for s in first.series] == [
        (s.key, s.method, s.wape, s.sigma) for s in second.series
    ]


def test_short_history_still_forecasts_without_a_holdout():
    result = forecast_series("sku", [3, 4, 5, 4, 3, 4, 5, 4, 3, 4], MONDAY, holdout=28)
    assert result.scores == {}
    assert result.wape is None
    assert result.fit.level > 0
    assert result.sigma == pytest.approx(result.fit.level**0.5)


def test_no_demand_gives_method_none():
    result = forecast_series("sku", [0] * 60, MONDAY)
    assert (result.method, result.fit.level, result.sigma) == ("none", 0.0, 0.0)


def test_series_from_rows_starts_at_the_first_demand_and_fills_zeros():
    end = date(2026, 1, 10)
    rows = [(("a",), date(2026, 1, 7), 2), (("a",), date(2026, 1, 9), 3), (("a",), end, 1)]
    rows += [(("b",), date(2026, 1, 11), 9)]  # after the end: ignored
    assert series_from_rows(rows, end=end) == {("a",): (date(2026, 1, 7), [2.0, 0.0, 3.0, 1.0])}


def test_fit_predict_uses_the_weekday_factor():
    fit = Fit("ses_weekday", 10.0, (2.0, 1, 1, 1, 1, 1, 0.0))
    assert fit.predict(MONDAY) == 20.0
    assert fit.predict(MONDAY + timedelta(days=6)) == 0.0
    assert fit.total(MONDAY, 7) == 70.0


# --------------------------------------------------------------------------- history


@pytest.mark.django_db
def test_demand_history_per_point_by_placed_day_and_per_sku_over_all_points():
    from fulfillment.services import order_cancel_and_release

    sp, rj = f.make_warehouse("SP", priority=1), f.make_warehouse("RJ", priority=2)
    tee = f.make_product("TEE")
    f.receive(tee, sp, 3)
    f.receive(tee, rj, 10)
    today = date(2026, 3, 10)
    day1 = datetime(2026, 3, 2, 15, tzinfo=UTC)
    day3 = datetime(2026, 3, 4, 9, tzinfo=UTC)
    f.confirm(f.place([(tee, 2)], placed_at=day1))  # SP (1 left there)
    f.confirm(f.place([(tee, 4)], placed_at=day3))  # RJ: the first point with all of it
    f.place([(tee, 5)], placed_at=day3)  # pending: no point yet
    cancelled = f.confirm(f.place([(tee, 1)], placed_at=day3))  # SP, then cancelled
    order_cancel_and_release(order=cancelled, reason="test")
    f.place([(tee, 7)], placed_at=datetime(2026, 3, 10, 8, tzinfo=UTC))  # today: left out

    history = demand_history(today=today, days=30)
    end_len = (today - timedelta(days=1) - day1.date()).days + 1
    assert history[(tee.pk, sp.pk)] == (day1.date(), [2.0] + [0.0] * (end_len - 1))
    assert history[(tee.pk, rj.pk)] == (day3.date(), [4.0] + [0.0] * (end_len - 3))
    assert history[(tee.pk, None)] == (day1.date(), [2.0, 0.0, 9.0] + [0.0] * (end_len - 3))


@pytest.mark.django_db
def test_forecast_refresh_stores_one_forecast_per_series_and_is_reproducible():
    sp = f.make_warehouse("SP")
    tee = f.make_product("TEE")
    f.receive(tee, sp, 10_000)
    start = datetime(2026, 1, 5, 12, tzinfo=UTC)
    for i, units in enumerate(weekly_series(7, weeks=10, base=6)):
        if units:
            f.confirm(f.place([(tee, int(units))], placed_at=start + timedelta(days=i)))
    today = (start + timedelta(days=70)).date()

    summary = forecast_refresh(today=today)
    first = list(DemandForecast.objects.order_by("pk").values())
    forecast_refresh(today=today)
    second = list(DemandForecast.objects.order_by("pk").values())

    assert summary["series"] == 2  # TEE at SP, TEE over all points
    keys = {(r["product_id"], r["warehouse_id"]) for r in first}
    assert keys == {(tee.pk, sp.pk), (tee.pk, None)}
    strip = lambda rows: [  # noqa: E731
        {k: v for k, v in r.items() if k not in ("id", "computed_at")} for r in rows
    ]
    assert strip(first) == strip(second)
    row = DemandForecast.objects.get(product=tee, warehouse=sp)
    assert row.method == "ses_weekday"
    assert row.wape is not None and row.wape < row.baselines["naive"]
    assert len(row.weekday_factors) == 7 and row.weekday_factors[0] > row.weekday_factors[6]
