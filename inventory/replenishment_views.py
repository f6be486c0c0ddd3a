"""The replenishment page (managers): reorder suggestions per SKU and point, sortable,
filterable, and the same rows as CSV (``/replenishment/export.csv``)."""

from datetime import date

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from inventory import replenishment
from inventory.models import DemandForecast, LowStockAlert, Warehouse
from oms.csvio import write_csv
from oms.views import manager_required

CSV_COLUMNS = [
    "sku",
    "name",
    "warehouse",
    "on_hand",
    "reserved",
    "available",
    "backordered",
    "daily_demand",
    "days_of_cover",
    "lead_time_days",
    "demand_over_lead_time",
    "safety_stock",
    "reorder_point",
    "manual_reorder_point",
    "order_quantity",
    "order_by",
    "status",
    "method",
    "sigma",
    "wape",
]
COLUMNS = [
    # sort key, heading, numeric
    ("sku", "SKU", False),
    ("warehouse", "Point", False),
    ("available", "Available", True),
    ("daily_demand", "Per day", True),
    ("days_of_cover", "Days of cover", True),
    ("reorder_point", "Reorder point", True),
    ("order_quantity", "Order qty", True),
    ("order_by", "Order by", False),
    ("status", "Status", False),
    ("wape", "WAPE", True),
]


def _rows(request):
    try:
        return replenishment.filter_rows(replenishment.suggestions(), request.GET)
    except replenishment.BadFilter as exc:
        messages.error(request, f"{exc.field}: {exc.message}")
        params = {k: v for k, v in request.GET.items() if k != exc.field}
        return replenishment.filter_rows(replenishment.suggestions(), params)


@manager_required
def replenishment_list(request):
    rows = _rows(request)
    sort = request.GET.get("sort") or "order_by"
    params = request.GET.copy()
    params.pop("sort", None)
    base = params.urlencode()
    headings = []
    for key, label, numeric in COLUMNS:
        current = sort.lstrip("-") == key
        descending = sort.startswith("-")
        target = f"-{key}" if current and not descending else key
        headings.append(
            {
                "label": label,
                "numeric": numeric,
                "url": f"?{base + '&' if base else ''}sort={target}",
                "arrow": ("▼" if descending else "▲") if current else "",
            }
        )
    latest = DemandForecast.objects.order_by("-computed_at").values_list("computed_at", flat=True)[
        :1
    ]
    return render(
        request,
        "inventory/replenishment_list.html",
        {
            "rows": rows,
            "headings": headings,
            "labels": replenishment.STATUS_LABELS,
            "warehouses": Warehouse.objects.filter(active=True).values_list("code", flat=True),
            "selected": {k: request.GET.get(k, "") for k in ("q", "warehouse", "status", "low")},
            "export_url": f"export.csv?{request.GET.urlencode()}",
            "computed_at": latest[0] if latest else None,
            "open_alerts": LowStockAlert.objects.filter(status=LowStockAlert.Status.OPEN).count(),
            "service_level": replenishment.service_level(),
            "review_days": replenishment.review_days(),
            "counts": {
                status: sum(1 for r in rows if r.status == status)
                for status in replenishment.STATUS_LABELS
            },
        },
    )


@manager_required
def replenishment_export(request):
    rows = _rows(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="replenishment-{stamp}.csv"'
    write_csv(
        (
            [
                data[c].isoformat()
                if isinstance(data[c], date)
                else ("" if data[c] is None else data[c])
                for c in CSV_COLUMNS
            ]
            for data in (row.as_dict() for row in rows)
        ),
        response,
        header=CSV_COLUMNS,
    )
    return response
