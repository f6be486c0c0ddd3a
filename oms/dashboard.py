"""The managers' dashboard (``/dashboard/``): one page of numbers, each linking to the
list it counts.

Every figure is one aggregate query (about fifteen in all, whatever the data size) and
says what it counts:

* orders per day by channel, last 90 days (server-rendered SVG, stacked bars);
* open backlog: orders by status, open shipments by point and status;
* on-time ship rate: shipments shipped in the last 30 days on or before their order's
  ship-by;
* fill rate: orders confirmed in the last 30 days that were fully allocated on the
  first try (no ``backordered`` event within 10 minutes of confirmation);
* at-risk and late orders (``orders.delays``);
* returns rate (units returned / units shipped, last 90 days) and top reasons;
* low-stock SKUs (open ``LowStockAlert`` rows).
"""

from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django.shortcuts import render
from django.utils import timezone

from fulfillment.models import OPEN_SHIPMENT_STATUSES, Shipment, ShipmentLine
from inventory.models import LowStockAlert
from kernel.views import manager_required
from orders.models import Channel, Order, OrderEvent
from returns.models import ReturnLine, ReturnRequest

CHART_DAYS = 90
RATE_DAYS = 30
RETURNS_DAYS = 90
FIRST_TRY_WINDOW = timedelta(minutes=10)
LIST_LIMIT = 10
PALETTE = [
    "#1f5fbf", "#e07b00", "#2a9d5b", "#b03a8c", "#7a5af5", "#c0392b", "#00838f", "#8d6e63",
    "#546e7a", "#afb42b",
]  # fmt: skip
OPEN_ORDER_STATUSES = (Order.Status.PENDING, Order.Status.ON_HOLD, Order.Status.CONFIRMED)


def _orders_url(**params) -> str:
    return "/orders/?" + urlencode(params, doseq=True)


def _admin_url(model: str, **params) -> str:
    return f"/admin/{model}/?" + urlencode(params)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _pct(part: int, whole: int) -> str:
    return f"{part / whole * 100:.1f}%" if whole else "–"


def _start_of(day, tz) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()), tz)


# --------------------------------------------------------------------------- figures


def orders_per_day(*, today, tz) -> dict:
    """Orders placed per day and channel over the last 90 days, with the SVG geometry of
    a stacked bar chart. One query (plus one for the channel names)."""
    first = today - timedelta(days=CHART_DAYS - 1)
    rows = (
        Order.objects.filter(placed_at__gte=_start_of(first, tz))
        .annotate(day=TruncDate("placed_at", tzinfo=tz))
        .values("day", "channel__code")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict = {}
    totals: dict[str, int] = {}
    for row in rows:
        if row["day"] > today:
            continue
        counts[(row["day"], row["channel__code"])] = row["n"]
        totals[row["channel__code"]] = totals.get(row["channel__code"], 0) + row["n"]
    names = dict(Channel.objects.values_list("code", "name"))
    channels = sorted(totals, key=lambda c: (-totals[c], c))
    colors = {code: PALETTE[i % len(PALETTE)] for i, code in enumerate(channels)}
    days = [first + timedelta(days=i) for i in range(CHART_DAYS)]
    per_day = [sum(counts.get((d, c), 0) for c in channels) for d in days]
    peak = max(per_day, default=0) or 1
    step = _nice_step(peak)
    top = step * -(-peak // step)

    width, height, left, bottom, pad_top = 900, 240, 36, 22, 8
    plot_w, plot_h = width - left - 6, height - bottom - pad_top
    bar_w = plot_w / CHART_DAYS
    bars = []
    for i, day in enumerate(days):
        y = pad_top + plot_h
        for code in channels:
            n = counts.get((day, code), 0)
            if not n:
                continue
            h = n / top * plot_h
            y -= h
            bars.append(
                {
                    "x": round(left + i * bar_w + 0.5, 1),
                    "y": round(y, 1),
                    "w": round(max(bar_w - 1, 1), 1),
                    "h": round(h, 1),
                    "color": colors[code],
                    "title": f"{day:%a %d %b}: {n} on {code}",
                    "url": _orders_url(channel=code, placed_from=day, placed_to=day),
                }
            )
    ticks = [
        {"y": round(pad_top + plot_h - v / top * plot_h, 1), "label": v}
        for v in range(0, top + 1, step)
    ]
    # a label on the first of each month, and on the first day when no 1st is close
    marks = [i for i, day in enumerate(days) if day.day == 1]
    if not marks or marks[0] >= 8:
        marks.insert(0, 0)
    labels = [
        {
            "x": round(left + i * bar_w + bar_w / 2, 1),
            "label": f"{days[i].day} {days[i]:%b}",
        }
        for i in marks
    ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "plot_right": left + plot_w,
        "baseline": pad_top + plot_h,
        "label_y": height - 6,
        "bars": bars,
        "ticks": ticks,
        "labels": labels,
        "total": sum(totals.values()),
        "first": first,
        "legend": [
            {
                "code": code,
                "name": names.get(code, code),
                "color": colors[code],
                "total": totals[code],
                "url": _orders_url(channel=code, placed_from=first),
            }
            for code in channels
        ],
    }


def _nice_step(peak: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if peak / step <= 5:
            return step
    return 10_000


def backlog() -> dict:
    """Open orders by status (and how many wait for stock), open shipments by point and
    status. Two queries."""
    by_status = dict(
        Order.objects.filter(status__in=OPEN_ORDER_STATUSES)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    order_rows = [
        {
            "status": status,
            "label": Order.Status(status).label,
            "n": by_status.get(status, 0),
            "url": _orders_url(status=status),
        }
        for status in OPEN_ORDER_STATUSES
    ]
    grid: dict[str, dict[str, int]] = {}
    ids: dict[str, int] = {}
    rows = (
        Shipment.objects.filter(status__in=OPEN_SHIPMENT_STATUSES)
        .values_list("warehouse__code", "warehouse_id", "status")
        .annotate(n=Count("pk"))
        .order_by("warehouse__priority", "warehouse__code")
    )
    for code, warehouse_id, status, n in rows:
        grid.setdefault(code, {})[status] = n
        ids[code] = warehouse_id
    statuses = list(OPEN_SHIPMENT_STATUSES)
    shipment_rows = [
        {
            "warehouse": code,
            "url": _admin_url("fulfillment/shipment", warehouse__id__exact=ids[code]),
            "cells": [
                {
                    "n": cells.get(status, 0),
                    "url": _admin_url(
                        "fulfillment/shipment", warehouse__id__exact=ids[code], status__exact=status
                    ),
                }
                for status in statuses
            ],
            "total": sum(cells.values()),
        }
        for code, cells in grid.items()
    ]
    return {
        "orders": order_rows,
        "orders_total": sum(r["n"] for r in order_rows),
        "shipment_statuses": [Shipment.Status(s).label for s in statuses],
        "shipments": shipment_rows,
        "shipments_total": sum(r["total"] for r in shipment_rows),
    }


def on_time_rate(*, now) -> dict:
    """Shipments shipped in the last 30 days on or before their order's ship-by."""
    figures = Shipment.objects.filter(
        shipped_at__gte=now - timedelta(days=RATE_DAYS), shipped_at__lte=now
    ).aggregate(
        shipped=Count("pk"),
        on_time=Count("pk", filter=Q(shipped_at__lte=F("order__ship_by"))),
    )
    return {
        **figures,
        "rate": _ratio(figures["on_time"], figures["shipped"]),
        "pct": _pct(figures["on_time"], figures["shipped"]),
    }


def fill_rate(*, now) -> dict:
    """Orders confirmed in the last 30 days, and those fully allocated on the first try
    (no ``backordered`` event within 10 minutes of their confirmation)."""
    early_backorder = OrderEvent.objects.filter(
        order=OuterRef("pk"),
        kind=OrderEvent.Kind.BACKORDERED,
        created_at__lte=OuterRef("confirmed_at") + FIRST_TRY_WINDOW,
    )
    figures = (
        Order.objects.filter(confirmed_at__gte=now - timedelta(days=RATE_DAYS))
        .annotate(short=Exists(early_backorder))
        .aggregate(confirmed=Count("pk"), first_try=Count("pk", filter=Q(short=False)))
    )
    return {
        **figures,
        "rate": _ratio(figures["first_try"], figures["confirmed"]),
        "pct": _pct(figures["first_try"], figures["confirmed"]),
    }


def delays() -> dict:
    """Open orders at risk and shipped orders late: counts and the first ten of each."""
    at_risk = (
        Order.objects.filter(at_risk=True)
        .only("number", "status", "ship_by", "at_risk_reason", "at_risk_since")
        .order_by("ship_by", "pk")
    )
    late = (
        Order.objects.filter(late=True)
        .only("number", "status", "ship_by", "placed_at")
        .order_by("placed_at", "pk")
    )
    return {
        "at_risk": at_risk.count(),
        "late": late.count(),
        "at_risk_orders": list(at_risk[:LIST_LIMIT]),
        "late_orders": list(late[:LIST_LIMIT]),
        "at_risk_url": _orders_url(at_risk="true"),
        "late_url": _orders_url(late="true"),
    }


def returns_figures(*, now) -> dict:
    """Units returned (requests not rejected) over units shipped, last 90 days, and the
    top reasons by units. Three queries."""
    since = now - timedelta(days=RETURNS_DAYS)
    lines = ReturnLine.objects.filter(return_request__created_at__gte=since).exclude(
        return_request__status=ReturnRequest.Status.REJECTED
    )
    returned = lines.aggregate(units=Sum("quantity"))["units"] or 0
    shipped = (
        ShipmentLine.objects.filter(shipment__shipped_at__gte=since).aggregate(
            units=Sum("quantity")
        )["units"]
        or 0
    )
    reasons = (
        lines.values_list("reason")
        .annotate(units=Sum("quantity"), n=Count("return_request", distinct=True))
        .order_by("-units", "reason")[:5]
    )
    labels = dict(ReturnLine.Reason.choices)
    return {
        "returned": returned,
        "shipped": shipped,
        "rate": _ratio(returned, shipped),
        "pct": _pct(returned, shipped),
        "url": _admin_url("returns/returnrequest"),
        "reasons": [
            {
                "reason": reason,
                "label": labels.get(reason, reason),
                "units": units,
                "requests": n,
                "share": _pct(units, returned),
                "url": _admin_url("returns/returnline", reason__exact=reason),
            }
            for reason, units, n in reasons
        ],
    }


def low_stock() -> dict:
    alerts = LowStockAlert.objects.filter(status=LowStockAlert.Status.OPEN).select_related(
        "product", "warehouse"
    )
    return {
        "count": alerts.count(),
        "alerts": list(alerts.order_by("order_by", "days_of_cover", "pk")[:LIST_LIMIT]),
        "url": "/replenishment/?low=true",
    }


def inbound(*, today) -> dict:
    """Open purchase orders (drafts, sent, partly received) and overdue receipts: POs
    sent and transfers in transit whose expected date has passed. Three queries."""
    from django.db.models import Count

    from inventory.models import PurchaseOrder, Transfer

    by_status = dict(
        PurchaseOrder.objects.filter(status__in=PurchaseOrder.OPEN_STATUSES)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    late_pos = list(
        PurchaseOrder.objects.filter(status__in=PurchaseOrder.DUE_STATUSES, expected_date__lt=today)
        .select_related("supplier", "warehouse")
        .order_by("expected_date", "number")
    )
    late_transfers = list(
        Transfer.objects.filter(status__in=Transfer.IN_TRANSIT_STATUSES, expected_date__lt=today)
        .select_related("source", "destination")
        .order_by("expected_date", "number")
    )
    overdue = [
        {
            "number": po.number,
            "what": f"{po.supplier.name} → {po.warehouse.code}",
            "expected": po.expected_date,
            "days": (today - po.expected_date).days,
            "url": f"/admin/inventory/purchaseorder/{po.pk}/change/",
        }
        for po in late_pos
    ] + [
        {
            "number": t.number,
            "what": f"transfer {t.source.code} → {t.destination.code}",
            "expected": t.expected_date,
            "days": (today - t.expected_date).days,
            "url": f"/admin/inventory/transfer/{t.pk}/change/",
        }
        for t in late_transfers
    ]
    overdue.sort(key=lambda r: (r["expected"], r["number"]))
    return {
        "open": sum(by_status.values()),
        "drafts": by_status.get(PurchaseOrder.Status.DRAFT, 0),
        "due": sum(by_status.get(s, 0) for s in PurchaseOrder.DUE_STATUSES),
        "open_url": _admin_url(
            "inventory/purchaseorder", status__in=",".join(PurchaseOrder.OPEN_STATUSES)
        ),
        "overdue_count": len(overdue),
        "overdue": overdue[:LIST_LIMIT],
    }


def dashboard_data(*, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    tz = timezone.get_current_timezone()
    today = timezone.localdate(now)
    return {
        "now": now,
        "chart": orders_per_day(today=today, tz=tz),
        "backlog": backlog(),
        "on_time": on_time_rate(now=now),
        "fill": fill_rate(now=now),
        "delays": delays(),
        "returns": returns_figures(now=now),
        "low_stock": low_stock(),
        "inbound": inbound(today=today),
        "chart_days": CHART_DAYS,
        "rate_days": RATE_DAYS,
        "returns_days": RETURNS_DAYS,
    }


# --------------------------------------------------------------------------- page


@manager_required
def dashboard(request):
    return render(request, "oms/dashboard.html", dashboard_data())
