"""Replenishment: when to reorder each SKU at each point, and how much.

For one SKU at one point, from its stored ``DemandForecast`` (daily level x weekday
factor, and ``sigma``, the daily forecast error on the holdout):

    demand over lead time  D_L = forecast summed over the next L days
                                 (L = ``Product.lead_time_days``)
    safety stock           SS  = z * sigma * sqrt(L), z = NormalDist().inv_cdf(service
                                 level) (``OMS_SERVICE_LEVEL``, default 0.95)
    reorder point          ROP = ceil(D_L + SS), never below the level's own manual
                                 ``StockLevel.reorder_point``
    position               P   = available (on hand - reserved) - backordered units
                                 + on order (purchase orders drafted or sent and not
                                 received, transfers in transit to the point), so
                                 what is already ordered is not ordered again
    order date                   the first day on which P, less the forecast demand
                                 until then, is below ROP (today when it already is)
    order quantity         Q   = ceil(ROP + D_R - P at the order date), D_R = forecast
                                 demand over the review period (``OMS_REPLENISHMENT
                                 _REVIEW_DAYS``, default 14): enough to get back above
                                 the reorder point and cover one review period
    days of cover                available / expected units per day

Backordered units of a SKU (confirmed orders waiting for stock) count against its first
point by priority, where routing by priority sends arriving stock. A SKU with demand but
no point that ever shipped it gets one row over all points (``warehouse`` None).

``check_low_stock`` opens a ``LowStockAlert`` for every row whose available units are
below the reorder point and resolves the open ones that are back above it;
``low_stock_alert_open`` is the one place an alert is written (hook for webhooks).
"""

import math
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from statistics import NormalDist

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory.forecasting import FLAT, Fit
from inventory.models import DemandForecast, LowStockAlert, Product, StockLevel, Warehouse
from inventory.selectors import on_order_by_level
from kernel import webhooks

HORIZON_DAYS = 365
SOON_DAYS = 7


def service_level() -> float:
    return float(getattr(settings, "OMS_SERVICE_LEVEL", 0.95))


def review_days() -> int:
    return int(getattr(settings, "OMS_REPLENISHMENT_REVIEW_DAYS", 14))


@dataclass(frozen=True)
class ReorderPlan:
    demand_over_lead_time: float
    safety_stock: float
    reorder_point: int
    order_by: date | None
    order_quantity: int
    z: float


def reorder_plan(
    *,
    fit: Fit,
    sigma: float,
    lead_time_days: int,
    position: float,
    today: date,
    service: float | None = None,
    review: int | None = None,
    min_reorder_point: int = 0,
) -> ReorderPlan:
    """The reorder point, order date and quantity for one SKU at one point (see the
    module docstring for the formulas)."""
    service = service_level() if service is None else service
    review = review_days() if review is None else review
    lead = max(int(lead_time_days), 0)
    z = NormalDist().inv_cdf(min(max(service, 0.5), 0.9999))
    demand_lead = fit.total(today, lead)
    safety = z * sigma * math.sqrt(lead)
    rop = max(math.ceil(demand_lead + safety - 1e-9), int(min_reorder_point), 0)
    order_by = None
    projected = float(position)
    for k in range(HORIZON_DAYS + 1):
        day = today + timedelta(days=k)
        if projected < rop:
            order_by = day
            break
        projected -= fit.predict(day)
    quantity = 0
    if order_by is not None:
        demand_review = fit.total(order_by, review)
        quantity = max(math.ceil(rop + demand_review - projected - 1e-9), 0)
    return ReorderPlan(demand_lead, safety, rop, order_by, quantity, z)


@dataclass
class Suggestion:
    """One row of the replenishment page, API and CSV export."""

    product_id: int
    warehouse_id: int | None
    sku: str
    name: str
    warehouse: str  # code, "" = all points
    on_hand: int
    reserved: int
    available: int
    backordered: int
    on_order: int
    method: str
    daily_demand: float
    sigma: float
    wape: float | None
    lead_time_days: int
    service_level: float
    demand_over_lead_time: float
    safety_stock: float
    reorder_point: int
    manual_reorder_point: int
    days_of_cover: float | None
    order_quantity: int
    order_by: date | None
    status: str  # order_now, order_soon, ok, no_demand

    @property
    def low(self) -> bool:
        return self.available < self.reorder_point

    @property
    def advice(self) -> str:
        """'order 120 by 3 Dec' / 'no order needed'."""
        if self.order_by is None or not self.order_quantity:
            return "no order needed"
        return f"order {self.order_quantity} by {self.order_by.day} {self.order_by:%b}"

    @property
    def why(self) -> str:
        return (
            f"ROP {self.reorder_point} = {self.demand_over_lead_time:.1f} expected over "
            f"{self.lead_time_days} days + {self.safety_stock:.1f} safety "
            f"(service {self.service_level:.0%}, sigma {self.sigma:.2f}/day, {self.method})"
            + (
                f"; raised to the manual minimum {self.manual_reorder_point}"
                if self.manual_reorder_point and self.manual_reorder_point == self.reorder_point
                else ""
            )
        )

    def as_dict(self) -> dict:
        data = asdict(self)
        data["advice"] = self.advice
        data["low"] = self.low
        return data


STATUS_LABELS = {
    "order_now": "Order now",
    "order_soon": "Order soon",
    "ok": "OK",
    "no_demand": "No demand",
}


def _backordered_by_product(product_ids=None) -> dict[int, int]:
    """Units of confirmed (or held after confirmation) orders still waiting for stock."""
    from django.apps import apps
    from django.db.models import F, Sum

    OrderLine = apps.get_model("orders", "OrderLine")
    open_qty = F("quantity") - F("quantity_allocated") - F("quantity_shipped")
    lines = OrderLine.objects.filter(
        order__status__in=["confirmed", "on_hold"],
        order__confirmed_at__isnull=False,
        quantity__gt=F("quantity_allocated") + F("quantity_shipped") + F("quantity_cancelled"),
    )
    if product_ids is not None:
        lines = lines.filter(product_id__in=product_ids)
    rows = (
        lines.values("product_id")
        .annotate(units=Sum(open_qty - F("quantity_cancelled")))
        .order_by()
    )
    return {r["product_id"]: int(r["units"] or 0) for r in rows}


def suggestions(*, today: date | None = None, product_ids=None) -> list[Suggestion]:
    """Every row: each stock level of an active product at an active point, plus one
    row over all points for SKUs with demand that no point ever shipped. Three queries
    (four with backorders); sorted by order date, then days of cover."""
    today = today or timezone.localdate()
    service = service_level()
    forecasts_qs = DemandForecast.objects.all()
    levels_qs = StockLevel.objects.filter(product__active=True, warehouse__active=True)
    if product_ids is not None:
        forecasts_qs = forecasts_qs.filter(product_id__in=product_ids)
        levels_qs = levels_qs.filter(product_id__in=product_ids)
    forecasts = {(f.product_id, f.warehouse_id): f for f in forecasts_qs}
    levels = list(
        levels_qs.select_related("product", "warehouse").order_by(
            "product__sku", "warehouse__priority", "warehouse__code"
        )
    )
    backorders = _backordered_by_product(product_ids)
    on_order = on_order_by_level(product_ids=product_ids)
    rows: list[Suggestion] = []
    routed = {pid for pid, wid in forecasts if wid is not None}
    first_point: dict[int, int] = {}
    for level in levels:
        first_point.setdefault(level.product_id, level.pk)
    for level in levels:
        product = level.product
        if level.product_id not in routed and (level.product_id, None) in forecasts:
            continue  # demand never routed anywhere: the all-points row below covers it
        backordered = backorders.get(product.pk, 0) if first_point[product.pk] == level.pk else 0
        rows.append(
            _row(
                product=product,
                warehouse=level.warehouse,
                on_hand=level.on_hand,
                reserved=level.reserved,
                backordered=backordered,
                on_order=on_order.get((product.pk, level.warehouse_id), 0),
                manual=level.reorder_point,
                forecast=forecasts.get((product.pk, level.warehouse_id)),
                today=today,
                service=service,
            )
        )
    unrouted = [f for (pid, wid), f in forecasts.items() if wid is None and pid not in routed]
    if unrouted:
        products = Product.objects.in_bulk([f.product_id for f in unrouted])
        stock: dict[int, list[StockLevel]] = {}
        for level in levels:
            stock.setdefault(level.product_id, []).append(level)
        for f in unrouted:
            product = products.get(f.product_id)
            if product is None or not product.active:
                continue
            held = stock.get(product.pk, [])
            rows.append(
                _row(
                    product=product,
                    warehouse=None,
                    on_hand=sum(lv.on_hand for lv in held),
                    reserved=sum(lv.reserved for lv in held),
                    backordered=backorders.get(product.pk, 0),
                    on_order=sum(q for (pid, _), q in on_order.items() if pid == product.pk),
                    manual=0,
                    forecast=f,
                    today=today,
                    service=service,
                )
            )
    rows.sort(key=sort_key("order_by"))
    return rows


def _row(
    *,
    product: Product,
    warehouse: Warehouse | None,
    on_hand: int,
    reserved: int,
    backordered: int,
    on_order: int,
    manual: int,
    forecast: DemandForecast | None,
    today: date,
    service: float,
) -> Suggestion:
    if forecast is not None:
        factors = tuple(forecast.weekday_factors) if len(forecast.weekday_factors) == 7 else FLAT
        fit = Fit(forecast.method, forecast.level, factors)
        sigma, method, wape = forecast.sigma, forecast.method, forecast.wape
    else:
        fit, sigma, method, wape = Fit("none", 0.0), 0.0, "none", None
    available = on_hand - reserved
    plan = reorder_plan(
        fit=fit,
        sigma=sigma,
        lead_time_days=product.lead_time_days,
        position=available - backordered + on_order,
        today=today,
        service=service,
        min_reorder_point=manual,
    )
    daily = fit.level * sum(fit.factors) / 7
    if daily > 0:
        cover = round(max(available, 0) / daily, 1)
    else:
        cover = None
    if plan.order_by is not None and plan.order_quantity and plan.order_by <= today:
        status = "order_now"
    elif plan.order_by is not None and plan.order_by <= today + timedelta(days=SOON_DAYS):
        status = "order_soon"
    elif daily <= 0 and plan.order_by is None:
        status = "no_demand"
    else:
        status = "ok"
    return Suggestion(
        product_id=product.pk,
        warehouse_id=warehouse.pk if warehouse else None,
        sku=product.sku,
        name=product.name,
        warehouse=warehouse.code if warehouse else "",
        on_hand=on_hand,
        reserved=reserved,
        available=available,
        backordered=backordered,
        on_order=on_order,
        method=method,
        daily_demand=round(daily, 3),
        sigma=round(sigma, 3),
        wape=round(wape, 4) if wape is not None else None,
        lead_time_days=product.lead_time_days,
        service_level=service,
        demand_over_lead_time=round(plan.demand_over_lead_time, 2),
        safety_stock=round(plan.safety_stock, 2),
        reorder_point=plan.reorder_point,
        manual_reorder_point=manual,
        days_of_cover=cover,
        order_quantity=plan.order_quantity,
        order_by=plan.order_by,
        status=status,
    )


SORT_FIELDS = {
    "sku": lambda r: r.sku,
    "warehouse": lambda r: r.warehouse,
    "available": lambda r: r.available,
    "daily_demand": lambda r: r.daily_demand,
    "days_of_cover": lambda r: math.inf if r.days_of_cover is None else r.days_of_cover,
    "reorder_point": lambda r: r.reorder_point,
    "order_quantity": lambda r: r.order_quantity,
    "order_by": lambda r: r.order_by or date.max,
    "status": lambda r: list(STATUS_LABELS).index(r.status),
    "wape": lambda r: math.inf if r.wape is None else r.wape,
}


def sort_key(name: str):
    """Sort key of a column, ties broken by order date, cover and SKU."""
    primary = SORT_FIELDS.get(name.lstrip("-"), SORT_FIELDS["order_by"])
    return lambda r: (
        primary(r),
        SORT_FIELDS["order_by"](r),
        SORT_FIELDS["days_of_cover"](r),
        r.sku,
        r.warehouse,
    )


def sort_rows(rows: list[Suggestion], order: str) -> list[Suggestion]:
    name = order if order.lstrip("-") in SORT_FIELDS else "order_by"
    return sorted(rows, key=sort_key(name), reverse=name.startswith("-"))


class BadFilter(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def filter_rows(rows: list[Suggestion], params) -> list[Suggestion]:
    """Filters shared by the page, its CSV export and the API: ``sku`` (exact), ``q``
    (SKU or name contains), ``warehouse`` (code; ``*`` = rows over all points),
    ``status``, ``low`` (true/false), ``sort`` (a column, ``-`` for descending).
    Raises BadFilter on a value it does not know."""
    sku = (params.get("sku") or "").strip()
    q = (params.get("q") or "").strip().lower()
    warehouse = (params.get("warehouse") or "").strip()
    status = (params.get("status") or "").strip()
    low = (params.get("low") or "").strip().lower()
    if status and status not in STATUS_LABELS:
        raise BadFilter("status", f"Use one of {', '.join(STATUS_LABELS)}.")
    if low and low not in ("true", "false", "1", "0"):
        raise BadFilter("low", "Use true or false.")
    if sku:
        rows = [r for r in rows if r.sku == sku]
    if q:
        rows = [r for r in rows if q in r.sku.lower() or q in r.name.lower()]
    if warehouse:
        rows = [r for r in rows if r.warehouse == ("" if warehouse == "*" else warehouse)]
    if status:
        rows = [r for r in rows if r.status == status]
    if low:
        wanted = low in ("true", "1")
        rows = [r for r in rows if r.low == wanted]
    return sort_rows(rows, params.get("sort") or "order_by")


# --------------------------------------------------------------------------- alerts


def _alert_message(row: Suggestion) -> str:
    where = row.warehouse or "all points"
    return (
        f"{row.sku} at {where}: {row.available} available, below the reorder point "
        f"{row.reorder_point}; {row.advice}"
    )[:255]


def low_stock_alert_open(*, row: Suggestion) -> LowStockAlert | None:
    """Open a low-stock alert for ``row`` unless one is open already (the partial unique
    constraint settles a race); returns the new alert or None. The one place a
    ``stock.low`` event comes from."""
    try:
        with transaction.atomic():
            alert = LowStockAlert.objects.create(
                product_id=row.product_id,
                warehouse_id=row.warehouse_id,
                available=row.available,
                reorder_point=row.reorder_point,
                suggested_quantity=row.order_quantity,
                order_by=row.order_by,
                days_of_cover=row.days_of_cover,
                message=_alert_message(row),
            )
            webhooks.publish_stock_low(row, alert)
            return alert
    except IntegrityError:
        return None


def check_low_stock(*, today: date | None = None, product_ids=None) -> dict:
    """Open an alert for every row below its reorder point, refresh the figures of the
    alerts still open, resolve the ones back above it. Returns ``{"opened": [alerts],
    "resolved": n, "open": n}``."""
    rows = suggestions(today=today, product_ids=product_ids)
    open_alerts = LowStockAlert.objects.filter(status=LowStockAlert.Status.OPEN)
    if product_ids is not None:
        open_alerts = open_alerts.filter(product_id__in=product_ids)
    current = {(a.product_id, a.warehouse_id): a for a in open_alerts}
    opened, refreshed, resolved = [], [], []
    now = timezone.now()
    for row in rows:
        key = (row.product_id, row.warehouse_id)
        alert = current.pop(key, None)
        if row.low:
            if alert is None:
                new = low_stock_alert_open(row=row)
                if new is not None:
                    opened.append(new)
            else:
                alert.available = row.available
                alert.reorder_point = row.reorder_point
                alert.suggested_quantity = row.order_quantity
                alert.order_by = row.order_by
                alert.days_of_cover = row.days_of_cover
                alert.message = _alert_message(row)
                refreshed.append(alert)
        elif alert is not None:
            alert.status = LowStockAlert.Status.RESOLVED
            alert.resolved_at = now
            resolved.append(alert)
    # Alerts of rows that no longer exist (product or point deactivated) are resolved.
    for alert in current.values():
        alert.status = LowStockAlert.Status.RESOLVED
        alert.resolved_at = now
        resolved.append(alert)
    fields = [
        "available",
        "reorder_point",
        "suggested_quantity",
        "order_by",
        "days_of_cover",
        "message",
    ]
    LowStockAlert.objects.bulk_update(refreshed, fields, batch_size=500)
    LowStockAlert.objects.bulk_update(resolved, ["status", "resolved_at"], batch_size=500)
    return {
        "opened": opened,
        "resolved": len(resolved),
        "open": len(opened) + len(refreshed),
    }
