"""Demand forecast per SKU and fulfillment point, with a backtest that shows its accuracy.

Demand
    Daily units by the day the order was placed (``placed_at`` in the project time
    zone), from order-line history: per (SKU, point) the units of the shipment lines
    routed to the point (allocated or shipped, cancelled shipments left out), and per
    SKU over all points (``warehouse`` None) every unit ordered and not cancelled,
    backordered ones included. Today is left out (it is not over); a series starts on
    its first day with demand inside the history window.

Methods (each is a daily ``level`` times a Monday..Sunday factor of mean 1)
    ``ses_weekday``  simple exponential smoothing of the demand divided by multiplicative
                     weekday indices (weekday mean / overall mean over the last 12
                     weeks, shrunk towards 1); smoothing constant fitted by one-step
                     squared error
    ``ses``          the same without weekday indices
    ``croston``      Croston's method for intermittent demand: smoothed demand size over
                     smoothed interval between demands (alpha 0.1)
    ``sba``          Syntetos-Boylan approximation: Croston times (1 - alpha / 2),
                     removing Croston's upward bias
    ``tsb``          Teunter-Syntetos-Babai: smoothed demand probability (updated every
                     day, beta 0.05, so it decays while nothing sells) times smoothed size
    baselines        ``naive`` (last value) and ``moving_average`` (last 28 days)

Choice per series
    A series whose share of zero days (before the holdout) is above
    ``OMS_FORECAST_INTERMITTENT_ZERO_SHARE`` is intermittent and chooses between Croston
    SBA and TSB; any other between ``ses_weekday`` and ``ses``. The choice is made on a
    validation window that ends where the holdout starts, so the holdout figures are
    not flattered by the choice.

Backtest
    Rolling origin over the last ``holdout`` days: at each origin (every 7 days) the
    method is fitted on everything before it and forecasts the next 7 days. WAPE =
    sum |forecast - actual| / sum actual, per series and pooled over series (volume
    weighted); also ``wape_week`` on the 7-day totals (what a reorder decision sees).
    Everything is deterministic: the same history gives the same figures.
"""

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings

SES_ALPHAS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
CROSTON_ALPHA = 0.1
TSB_BETA = 0.05
WEEKDAY_WINDOW = 84  # days used to estimate weekday indices
WEEKDAY_SHRINK = 2.0  # weeks of prior weight pulling each index towards 1
MA_WINDOW = 28
STEP_DAYS = 7
MIN_TRAIN_DAYS = 14
BASELINES = ("naive", "moving_average")
SMOOTH = ("ses_weekday", "ses")
INTERMITTENT = ("sba", "croston", "tsb")
FLAT = (1.0,) * 7


def holdout_days() -> int:
    return int(getattr(settings, "OMS_FORECAST_HOLDOUT_DAYS", 28))


def intermittent_zero_share() -> float:
    return float(getattr(settings, "OMS_FORECAST_INTERMITTENT_ZERO_SHARE", 0.5))


def history_days() -> int:
    return int(getattr(settings, "OMS_FORECAST_HISTORY_DAYS", 365))


# --------------------------------------------------------------------------- models


@dataclass(frozen=True)
class Fit:
    """A fitted forecast: ``level * factors[day.weekday()]`` units on ``day``."""

    method: str
    level: float
    factors: tuple[float, ...] = FLAT
    alpha: float | None = None

    def predict(self, day: date) -> float:
        return self.level * self.factors[day.weekday()]

    def total(self, start: date, days: int) -> float:
        """Units expected over ``days`` days from ``start`` (inclusive)."""
        return sum(self.predict(start + timedelta(days=i)) for i in range(days))


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def weekday_factors(y: Sequence[float], start: date) -> tuple[float, ...]:
    """Multiplicative weekday indices (Monday first, mean 1) of the last 12 weeks."""
    first = max(0, len(y) - WEEKDAY_WINDOW)
    window = y[first:]
    overall = _mean(window)
    if overall <= 0:
        return FLAT
    sums, counts = [0.0] * 7, [0] * 7
    for i, value in enumerate(window):
        w = (start + timedelta(days=first + i)).weekday()
        sums[w] += value
        counts[w] += 1
    raw = []
    for w in range(7):
        ratio = (sums[w] / counts[w] / overall) if counts[w] else 1.0
        raw.append((counts[w] * ratio + WEEKDAY_SHRINK) / (counts[w] + WEEKDAY_SHRINK))
    norm = _mean(raw)
    return tuple(max(r / norm, 0.05) for r in raw)


def _ses(y: Sequence[float]) -> tuple[float, float]:
    """Simple exponential smoothing: (final level, alpha) with alpha chosen from
    ``SES_ALPHAS`` by the smallest one-step-ahead squared error."""
    if not y:
        return 0.0, SES_ALPHAS[0]
    init = _mean(y[:7])
    levels = [init] * len(SES_ALPHAS)
    sse = [0.0] * len(SES_ALPHAS)
    for value in y:
        for k, alpha in enumerate(SES_ALPHAS):
            err = value - levels[k]
            sse[k] += err * err
            levels[k] += alpha * err
    best = min(range(len(SES_ALPHAS)), key=lambda k: (sse[k], k))
    return max(levels[best], 0.0), SES_ALPHAS[best]


def fit_ses(y: Sequence[float], start: date) -> Fit:
    level, alpha = _ses(y)
    return Fit("ses", level, FLAT, alpha)


def fit_ses_weekday(y: Sequence[float], start: date) -> Fit:
    factors = weekday_factors(y, start)
    adjusted = [value / factors[(start + timedelta(days=i)).weekday()] for i, value in enumerate(y)]
    level, alpha = _ses(adjusted)
    return Fit("ses_weekday", level, factors, alpha)


def _croston(y: Sequence[float], alpha: float) -> float:
    """Croston's demand rate: smoothed size over smoothed interval, both started at
    their averages over the series (a first demand alone would set the interval to
    one day and overshoot for weeks)."""
    demands = [v for v in y if v > 0]
    if not demands:
        return 0.0
    size, interval = _mean(demands), len(y) / len(demands)
    since = 0
    for value in y:
        since += 1
        if value > 0:
            size += alpha * (value - size)
            interval += alpha * (since - interval)
            since = 0
    return size / interval


def fit_croston(y: Sequence[float], start: date) -> Fit:
    return Fit("croston", _croston(y, CROSTON_ALPHA), FLAT, CROSTON_ALPHA)


def fit_sba(y: Sequence[float], start: date) -> Fit:
    return Fit("sba", (1 - CROSTON_ALPHA / 2) * _croston(y, CROSTON_ALPHA), FLAT, CROSTON_ALPHA)


def _tsb(y: Sequence[float], alpha: float, beta: float) -> float:
    """Teunter-Syntetos-Babai: demand probability smoothed every day (so a forecast
    decays while nothing sells, unlike Croston's) times the smoothed demand size."""
    demands = [v for v in y if v > 0]
    if not demands:
        return 0.0
    size, probability = _mean(demands), len(demands) / len(y)
    for value in y:
        if value > 0:
            probability += beta * (1 - probability)
            size += alpha * (value - size)
        else:
            probability -= beta * probability
    return probability * size


def fit_tsb(y: Sequence[float], start: date) -> Fit:
    return Fit("tsb", _tsb(y, CROSTON_ALPHA, TSB_BETA), FLAT, CROSTON_ALPHA)


def fit_naive(y: Sequence[float], start: date) -> Fit:
    return Fit("naive", float(y[-1]) if y else 0.0)


def fit_moving_average(y: Sequence[float], start: date) -> Fit:
    return Fit("moving_average", _mean(y[-MA_WINDOW:]))


FITTERS = {
    "ses_weekday": fit_ses_weekday,
    "ses": fit_ses,
    "croston": fit_croston,
    "sba": fit_sba,
    "tsb": fit_tsb,
    "naive": fit_naive,
    "moving_average": fit_moving_average,
}


def fit(method: str, y: Sequence[float], start: date) -> Fit:
    return FITTERS[method](y, start)


# --------------------------------------------------------------------------- backtest


@dataclass
class Score:
    """Errors of one method on a backtest window; add Scores to pool series."""

    abs_error: float = 0.0
    sq_error: float = 0.0
    week_abs_error: float = 0.0
    actual: float = 0.0
    forecast: float = 0.0
    days: int = 0

    def __iadd__(self, other: "Score") -> "Score":
        self.abs_error += other.abs_error
        self.sq_error += other.sq_error
        self.week_abs_error += other.week_abs_error
        self.actual += other.actual
        self.forecast += other.forecast
        self.days += other.days
        return self

    @property
    def wape(self) -> float | None:
        """sum |error| / sum actual (None when nothing was sold in the window)."""
        return self.abs_error / self.actual if self.actual > 0 else None

    @property
    def wape_week(self) -> float | None:
        return self.week_abs_error / self.actual if self.actual > 0 else None

    @property
    def rmse(self) -> float:
        return math.sqrt(self.sq_error / self.days) if self.days else 0.0

    @property
    def bias(self) -> float | None:
        """(sum forecast - sum actual) / sum actual."""
        return (self.forecast - self.actual) / self.actual if self.actual > 0 else None


def backtest(
    method: str, y: Sequence[float], start: date, *, holdout: int, step: int = STEP_DAYS
) -> Score:
    """Rolling-origin backtest of ``method`` over the last ``holdout`` days of ``y``."""
    score = Score()
    n = len(y)
    for origin in range(n - holdout, n, step):
        model = fit(method, y[:origin], start)
        week_forecast = week_actual = 0.0
        for t in range(origin, min(origin + step, n)):
            predicted = model.predict(start + timedelta(days=t))
            err = predicted - y[t]
            score.abs_error += abs(err)
            score.sq_error += err * err
            score.actual += y[t]
            score.forecast += predicted
            score.days += 1
            week_forecast += predicted
            week_actual += y[t]
        score.week_abs_error += abs(week_forecast - week_actual)
    return score


def zero_share(y: Sequence[float]) -> float:
    return sum(1 for v in y if v <= 0) / len(y) if y else 1.0


@dataclass
class SeriesForecast:
    """The chosen method of one series, its final fit and its backtest figures."""

    key: tuple
    start: date
    days: int
    total_units: float
    zero_share: float
    intermittent: bool
    method: str
    fit: Fit
    sigma: float
    scores: dict[str, Score] = field(default_factory=dict)  # "ours" and the baselines
    validation: dict[str, float] = field(default_factory=dict)  # abs error per candidate

    @property
    def wape(self) -> float | None:
        score = self.scores.get("ours")
        return score.wape if score else None

    def baseline_wapes(self) -> dict[str, float | None]:
        return {name: self.scores[name].wape for name in BASELINES if name in self.scores}


def forecast_series(
    key, y: Sequence[float], start: date, *, holdout: int | None = None
) -> SeriesForecast:
    """Classify, choose the method on the validation window, backtest it and the
    baselines on the holdout, and fit it on the whole series."""
    holdout = holdout_days() if holdout is None else holdout
    y = [float(v) for v in y]
    n = len(y)
    total = sum(y)
    if total <= 0:
        return SeriesForecast(key, start, n, 0.0, 1.0, True, "none", Fit("none", 0.0), 0.0)
    has_holdout = n >= holdout + MIN_TRAIN_DAYS
    train = y[: n - holdout] if has_holdout else y
    share = zero_share(train)
    intermittent = share > intermittent_zero_share()
    candidates = INTERMITTENT if intermittent else SMOOTH
    method = candidates[0]
    validation: dict[str, float] = {}
    if n - holdout >= holdout + MIN_TRAIN_DAYS:
        # Absolute error ranks like WAPE (same actuals) and still ranks when nothing
        # sold in the validation window.
        for candidate in candidates:
            score = backtest(candidate, train, start, holdout=holdout)
            validation[candidate] = score.abs_error
        method = min(candidates, key=lambda c: (round(validation[c], 9), candidates.index(c)))
    scores: dict[str, Score] = {}
    if has_holdout:
        scores["ours"] = backtest(method, y, start, holdout=holdout)
        for name in BASELINES:
            scores[name] = backtest(name, y, start, holdout=holdout)
    final = fit(method, y, start)
    if has_holdout and scores["ours"].days:
        sigma = scores["ours"].rmse
    else:
        sigma = math.sqrt(max(final.level, 0.0))  # Poisson spread until there is a holdout
    return SeriesForecast(
        key=key,
        start=start,
        days=n,
        total_units=total,
        zero_share=share,
        intermittent=intermittent,
        method=method,
        fit=final,
        sigma=sigma,
        scores=scores,
        validation=validation,
    )


@dataclass
class BacktestReport:
    series: list[SeriesForecast]
    pooled: dict[str, Score]

    def overall(self) -> dict[str, dict[str, float | None]]:
        return {
            name: {"wape": s.wape, "wape_week": s.wape_week, "bias": s.bias, "units": s.actual}
            for name, s in self.pooled.items()
        }

    def method_counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for s in self.series:
            counts[s.method] += 1
        return dict(sorted(counts.items()))


def backtest_all(
    series: dict, *, holdout: int | None = None, min_units: float = 0
) -> BacktestReport:
    """Forecast every series of ``{key: (start, values)}`` and pool the holdout errors
    of our choice and of each baseline over the series that have a holdout."""
    results = []
    pooled = {name: Score() for name in ("ours", *BASELINES)}
    for key in sorted(series, key=_sort_key):
        start, values = series[key]
        if sum(values) <= min_units:
            continue
        result = forecast_series(key, values, start, holdout=holdout)
        results.append(result)
        for name, score in result.scores.items():
            pooled[name] += score
    return BacktestReport(results, pooled)


def _sort_key(key) -> tuple:
    return tuple((0, "") if part is None else (1, str(part)) for part in key)


# --------------------------------------------------------------------------- history


def series_from_rows(
    rows: Iterable[tuple], *, end: date, first: date | None = None
) -> dict[tuple, tuple[date, list[float]]]:
    """``{key: (start, daily units)}`` from ``(key, day, units)`` rows: each series runs
    from its first day with demand (not before ``first``) to ``end`` inclusive, with
    zeros on days without rows."""
    by_key: dict[tuple, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for key, day, units in rows:
        if day > end or (first is not None and day < first) or not units:
            continue
        by_key[key][day] += float(units)
    series = {}
    for key, days in by_key.items():
        start = min(days)
        length = (end - start).days + 1
        values = [0.0] * length
        for day, units in days.items():
            values[(day - start).days] += units
        series[key] = (start, values)
    return series


def demand_history(
    *, today: date | None = None, days: int | None = None, product_ids=None
) -> dict[tuple[int, int | None], tuple[date, list[float]]]:
    """Daily demand series from the order lines: ``{(product_id, warehouse_id): ...}``
    from the shipment lines routed to each point and ``{(product_id, None): ...}`` for
    every unit ordered and not cancelled. Two aggregate queries.

    Reads the orders and fulfillment tables through the app registry: inventory sits
    below those apps and does not import them."""
    from django.apps import apps
    from django.db.models import F, Sum
    from django.db.models.functions import TruncDate
    from django.utils import timezone

    OrderLine = apps.get_model("orders", "OrderLine")
    ShipmentLine = apps.get_model("fulfillment", "ShipmentLine")
    tz = timezone.get_current_timezone()
    today = today or timezone.localdate()
    end = today - timedelta(days=1)
    first = today - timedelta(days=days or history_days())
    since = timezone.make_aware(timezone.datetime.combine(first, timezone.datetime.min.time()), tz)
    until = timezone.make_aware(timezone.datetime.combine(today, timezone.datetime.min.time()), tz)

    routed = (
        ShipmentLine.objects.filter(
            order_line__order__placed_at__gte=since, order_line__order__placed_at__lt=until
        )
        .exclude(shipment__status="cancelled")
        .annotate(day=TruncDate("order_line__order__placed_at", tzinfo=tz))
        .values("order_line__product_id", "shipment__warehouse_id", "day")
        .annotate(units=Sum("quantity"))
        .order_by()
    )
    ordered = (
        OrderLine.objects.filter(order__placed_at__gte=since, order__placed_at__lt=until)
        .annotate(day=TruncDate("order__placed_at", tzinfo=tz))
        .values("product_id", "day")
        .annotate(units=Sum(F("quantity") - F("quantity_cancelled")))
        .order_by()
    )
    if product_ids is not None:
        routed = routed.filter(order_line__product_id__in=product_ids)
        ordered = ordered.filter(product_id__in=product_ids)
    rows = [
        ((r["order_line__product_id"], r["shipment__warehouse_id"]), r["day"], r["units"])
        for r in routed
    ]
    rows += [((r["product_id"], None), r["day"], r["units"]) for r in ordered]
    return series_from_rows(rows, end=end, first=first)


# --------------------------------------------------------------------------- refresh


def forecast_refresh(*, today: date | None = None) -> dict:
    """Recompute every stored ``DemandForecast`` from the order history (the nightly
    job). Replaces the rows in one transaction; returns a summary with the pooled
    backtest WAPE of our methods and the baselines, per SKU over all points."""
    from django.db import transaction
    from django.utils import timezone

    from inventory.models import DemandForecast

    history = demand_history(today=today)
    report = backtest_all(history)
    now = timezone.now()
    rows = [
        DemandForecast(
            product_id=s.key[0],
            warehouse_id=s.key[1],
            method=s.method,
            level=round(s.fit.level, 6),
            weekday_factors=[round(f, 6) for f in s.fit.factors],
            sigma=round(s.sigma, 6),
            wape=s.wape,
            baselines=s.baseline_wapes(),
            history_days=s.days,
            zero_share=round(s.zero_share, 6),
            total_units=int(round(s.total_units)),
            computed_at=now,
        )
        for s in report.series
    ]
    with transaction.atomic():
        DemandForecast.objects.all().delete()
        DemandForecast.objects.bulk_create(rows, batch_size=500)
    sku_level = [s for s in report.series if s.key[1] is None]
    pooled = {name: Score() for name in ("ours", *BASELINES)}
    for s in sku_level:
        for name, score in s.scores.items():
            pooled[name] += score
    return {
        "series": len(rows),
        "methods": report.method_counts(),
        "overall": BacktestReport(sku_level, pooled).overall(),
    }
